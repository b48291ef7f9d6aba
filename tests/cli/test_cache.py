"""The result cache (`.portlint_cache`) and worker processes of `check` (issue 7): a warm
run reports exactly what a cold one does, an entry is reused only while the file and
every module it imports are unchanged, a damaged or unwritable cache is a miss, not an
error, and workers give the same results as one process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from support import SOFTMAX_NET, portlint, shown, write
from portlint.cache import ResultCache, settings_key
from portlint.check import check
from portlint.config import Settings, discover
from portlint.errors import InputError

# A package whose model takes its block from a sibling module: the model file's result
# depends on blocks.py, which is read by following the import.
BLOCKS_WITH_DIM = """\
import torch.nn as nn


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 8)
        self.act = nn.Softmax(dim=1)

    def forward(self, x):
        return self.act(self.fc(x))
"""
BLOCKS_WITHOUT_DIM = BLOCKS_WITH_DIM.replace("nn.Softmax(dim=1)", "nn.Softmax()")
MODEL = """\
import torch.nn as nn

from .blocks import Head


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(32, 16)
        self.head = Head()

    def forward(self, x):
        return self.head(self.body(x))
"""
NO_MODEL = "VALUE = 3\n"


def _settings(folder: Path) -> Settings:
    return Settings.make(discover(folder))


def _cache(folder: Path, settings: Settings) -> ResultCache:
    return ResultCache(folder / ".portlint_cache", settings_key(settings))


def _report(result) -> list:
    return ([f.to_json() for f in result.findings], result.warnings)


def _project(tmp_path: Path, blocks: str = BLOCKS_WITHOUT_DIM) -> Path:
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "blocks.py", blocks)
    write(tmp_path / "pkg" / "model.py", MODEL)
    write(tmp_path / "pkg" / "net.py", SOFTMAX_NET)
    write(tmp_path / "pkg" / "plain.py", NO_MODEL)
    return tmp_path / "pkg"


def test_warm_run_reports_what_the_cold_run_did(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _project(tmp_path)
    settings = _settings(tmp_path)
    cold_cache = _cache(tmp_path, settings)
    cold = check(["pkg"], settings, cache=cold_cache)
    assert cold_cache.hits == 0 and cold_cache.misses == 5
    assert {f.code for f in cold.findings} == {"PTL801"}
    warm_cache = _cache(tmp_path, settings)
    warm = check(["pkg"], settings, cache=warm_cache)
    assert warm_cache.hits == 5 and warm_cache.misses == 0
    assert _report(warm) == _report(cold)
    # the fixes come back from the cache too, with their exact ranges
    assert [f.fix for f in warm.findings] == [f.fix for f in cold.findings]


def test_an_edited_import_invalidates_the_files_that_follow_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pkg = _project(tmp_path)
    settings = _settings(tmp_path)
    first = check(["pkg/model.py"], settings, cache=_cache(tmp_path, settings))
    assert [(f.code, f.location.path) for f in first.findings] == [("PTL801", "pkg/blocks.py")]
    (pkg / "blocks.py").write_text(BLOCKS_WITH_DIM)  # model.py itself is unchanged
    cache = _cache(tmp_path, settings)
    second = check(["pkg/model.py"], settings, cache=cache)
    assert cache.hits == 0
    assert second.findings == []


def test_an_edited_file_is_analysed_again(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pkg = _project(tmp_path)
    settings = _settings(tmp_path)
    check(["pkg"], settings, cache=_cache(tmp_path, settings))
    (pkg / "net.py").write_text(SOFTMAX_NET.replace("nn.Softmax()", "nn.Softmax(dim=1)"))
    cache = _cache(tmp_path, settings)
    result = check(["pkg"], settings, cache=cache)
    assert cache.misses == 1 and cache.hits == 4
    assert {f.location.path for f in result.findings} == {"pkg/blocks.py"}


def test_the_key_holds_the_keras_version_and_the_selected_rules(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _project(tmp_path)
    base = _settings(tmp_path)
    check(["pkg"], base, cache=_cache(tmp_path, base))
    for other in (Settings.make(discover(tmp_path), keras_version=2),
                  Settings.make(discover(tmp_path), ignore=["PTL802"])):
        cache = _cache(tmp_path, other)
        check(["pkg"], other, cache=cache)
        assert cache.hits == 0, settings_key(other)
    # severities and per-file ignores are applied on every run: the same key
    assert settings_key(Settings.make(discover(tmp_path), ignore=["PTL704"])) == settings_key(base)


def test_a_damaged_entry_is_a_miss(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _project(tmp_path)
    settings = _settings(tmp_path)
    cold = check(["pkg"], settings, cache=_cache(tmp_path, settings))
    entries = sorted((tmp_path / ".portlint_cache").rglob("*.json"))
    assert len(entries) == 5
    entries[0].write_text("{ not json")
    entries[1].write_bytes(b"\x00\xff")
    entries[2].write_text(json.dumps({"key": "x"}))
    cache = _cache(tmp_path, settings)
    warm = check(["pkg"], settings, cache=cache)
    assert cache.misses == 3 and cache.hits == 2
    assert _report(warm) == _report(cold)


def test_an_unwritable_cache_folder_is_no_cache(tmp_path, monkeypatch):
    if os.geteuid() == 0:
        blocked = tmp_path / "blocked"
        blocked.write_text("a file where the cache folder would be")
    else:
        blocked = tmp_path / "blocked"
        blocked.mkdir(mode=0o500)
    monkeypatch.chdir(tmp_path)
    _project(tmp_path)
    settings = _settings(tmp_path)
    cache = ResultCache(blocked / "cache", settings_key(settings))
    result = check(["pkg"], settings, cache=cache)
    assert {f.code for f in result.findings} == {"PTL801"}


def test_input_errors_are_not_cached_and_still_stop_the_run(tmp_path, monkeypatch):
    """Not cached: an entry recording an error is never reused (cache_entry.py), so that a
    forged one cannot stop a run; finding the error again costs one parse."""
    monkeypatch.chdir(tmp_path)
    _project(tmp_path)
    write(tmp_path / "pkg" / "broken.py", "def f(:\n")
    settings = _settings(tmp_path)
    for _ in range(2):
        with pytest.raises(InputError, match=r"pkg/broken\.py:1:\d+: syntax error"):
            check(["pkg"], settings, cache=_cache(tmp_path, settings))
    shown = {json.loads(p.read_text())["shown"] for p in (tmp_path / ".portlint_cache").rglob("*.json")}
    assert "pkg/broken.py" not in shown and "pkg/net.py" in shown


def test_workers_give_the_results_of_one_process(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _project(tmp_path)
    for index in range(12):  # enough files for two workers
        write(tmp_path / "pkg" / f"net_{index:02}.py", SOFTMAX_NET)
        write(tmp_path / "pkg" / f"plain_{index:02}.py", NO_MODEL)
    settings = _settings(tmp_path)
    serial = check(["pkg"], settings, jobs=1)
    parallel = check(["pkg"], settings, jobs=2)
    # 12 copies of net.py, net.py, blocks.py's Head alone and as model.py's `head.act`
    assert len(serial.findings) == 15
    assert _report(parallel) == _report(serial)
    write(tmp_path / "pkg" / "plain_05.py", "x = (\n")
    write(tmp_path / "pkg" / "plain_09.py", b"\x00".decode())
    with pytest.raises(InputError) as one:
        check(["pkg"], settings, jobs=1)
    with pytest.raises(InputError) as many:
        check(["pkg"], settings, jobs=2)
    assert str(many.value) == str(one.value)  # the first bad file in the order given
    assert "plain_05.py" in str(one.value)


def test_the_cli_writes_an_ignored_cache_beside_the_configuration(tmp_path):
    _project(tmp_path)
    write(tmp_path / "pyproject.toml", "[tool.portlint]\n")
    (tmp_path / "sub").mkdir()
    first = portlint("check", "../pkg", "--format", "json", cwd=tmp_path / "sub")
    assert first.returncode == 1, shown(first)
    cache = tmp_path / ".portlint_cache"
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    second = portlint("check", "../pkg", "--format", "json", cwd=tmp_path / "sub")
    assert second.stdout == first.stdout and second.returncode == 1
    none = portlint("check", "pkg", "--no-cache", cwd=tmp_path / "sub")
    assert none.returncode == 2  # no pkg below sub: a clear input error, no cache involved
    elsewhere = portlint("check", "../pkg", "--cache-dir", tmp_path / "other", "-j", "2",
                         cwd=tmp_path / "sub")
    assert elsewhere.returncode == 1 and (tmp_path / "other" / ".gitignore").exists()


def test_a_file_parsed_again_is_still_its_own_model(tmp_path):
    """In-process caches: the parse cache may drop a file while its interpreted scope is
    still shared. Reading the file again makes a new parse, whose models must be found
    (CI once lost the seed model this way, after enough other files had been read)."""
    from portlint import source as source_module
    from portlint.frontend import ModelRef, extract

    path = write(tmp_path / "keras_model.py", """\
from keras import Input, Model
from keras.layers import Dense


def build_model():
    inputs = Input(shape=(4,))
    return Model(inputs, Dense(3)(inputs))
""")
    first = extract(ModelRef.parse(str(path)), 3)
    source_module._PARSED.clear()
    again = extract(ModelRef.parse(str(path)), 3)
    assert [n.name for n in again.nodes] == [n.name for n in first.nodes]
    assert again.model == "build_model"


def test_nested_read_logs_are_closed_by_identity():
    """Two equal logs (both empty) nested: closing the inner one must not drop the outer
    one (an internal error on torchvision's autoaugment.py in the robustness run)."""
    from portlint.source import _READ_LOG, note_read, recording_reads

    with recording_reads() as outer:
        with recording_reads() as inner:
            pass
        note_read("/somewhere.py", "digest")
    assert outer == {"/somewhere.py": "digest"} and inner == {} and _READ_LOG == []
