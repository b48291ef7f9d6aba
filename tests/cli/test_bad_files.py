"""One bad file does not stop a whole `check` run (issue 20), through the real CLI:

- a PEP 263 latin-1 file (`# -*- coding: latin-1 -*-`, non-UTF-8 bytes) is read as CPython
  reads it, analysed, and `--fix` writes it back in latin-1;
- a file that is not text in its encoding is a PTL901 finding of that file, and the other
  files' findings are reported;
- a FIFO in the tree is not read (reading it would wait forever); one named explicitly is
  an input error, without being opened;
- a `.portlint_cache` entry of valid JSON but the wrong shape is a miss, and is
  overwritten; a well-formed but forged entry can at worst misstate the findings of its own
  file, and `--fix` never applies a fix read from the cache.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from support import SOFTMAX_NET, SOFTMAX_LINE, portlint, shown, write

LATIN1_NET = ("# -*- coding: latin-1 -*-\n# Modell f\u00fcr M\u00fcnchen\n"
              + SOFTMAX_NET.replace("nn.Softmax()", "nn.Softmax()  # \u00e9t\u00e9")).encode("latin-1")
LATIN1_LINE = SOFTMAX_LINE + 2


def located(result) -> set[tuple[str, str, int]]:
    assert result.returncode in (0, 1), shown(result)
    return {(f["location"]["path"], f["code"], f["location"]["line"])
            for f in json.loads(result.stdout)["findings"]}


def test_a_latin1_file_is_analysed_and_fixed_in_latin1(tmp_path):
    (tmp_path / "latin.py").write_bytes(LATIN1_NET)
    write(tmp_path / "net.py", SOFTMAX_NET)
    result = portlint("check", ".", "--format", "json", cwd=tmp_path)
    assert result.stderr == "", shown(result)
    assert located(result) == {("latin.py", "PTL801", LATIN1_LINE), ("net.py", "PTL801", SOFTMAX_LINE)}
    text = portlint("check", "latin.py", cwd=tmp_path)  # the source line, decoded
    assert "nn.Softmax()  # \u00e9t\u00e9" in text.stdout, shown(text)

    fixed = portlint("check", "latin.py", "--fix", cwd=tmp_path)
    assert fixed.returncode == 0, shown(fixed)
    data = (tmp_path / "latin.py").read_bytes()
    assert data == LATIN1_NET.replace(b"nn.Softmax()", b"nn.Softmax(dim=1)"), data
    assert b"\xe9t\xe9" in data and "\u00e9".encode() not in data  # still latin-1
    compile(data, "latin.py", "exec")


def test_a_utf8_bom_file_keeps_its_bom_when_fixed(tmp_path):
    path = write(tmp_path / "bom.py", "\ufeff" + SOFTMAX_NET)
    assert portlint("check", "bom.py", "--fix", cwd=tmp_path).returncode == 0
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"nn.Softmax(dim=1)" in path.read_bytes()


@pytest.mark.parametrize("content, reason", [
    (b"import torch.nn as nn\nx = '\xff'\n", r"not UTF-8 text \(invalid start byte at byte 27\)"),
    (b"# coding: klingon\nimport torch\n", r"unknown encoding: klingon"),
    (b"\xef\xbb\xbf# coding: latin-1\nimport torch\n", r"encoding problem"),
    (b"import torch\n\x00\n", r"binary file"),
])
def test_an_undecodable_file_is_a_finding_and_the_run_goes_on(tmp_path, content, reason):
    import re

    (tmp_path / "bad.py").write_bytes(content)
    write(tmp_path / "net.py", SOFTMAX_NET)
    result = portlint("check", ".", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr == "", shown(result)
    findings = json.loads(result.stdout)["findings"]
    assert {(f["location"]["path"], f["code"]) for f in findings} == {
        ("bad.py", "PTL901"), ("net.py", "PTL801")}
    bad = next(f for f in findings if f["code"] == "PTL901")
    assert re.search(reason, bad["message"]) and "not checked" in bad["message"], bad
    assert bad["location"]["line"] == (2 if b"\n\x00" in content or b"'\xff'" in content else 1)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_never_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")  # no writer ever opens it: a read would wait forever
    write(tmp_path / "net.py", SOFTMAX_NET)
    result = portlint("check", ".", "--format", "json", cwd=tmp_path, timeout=60)
    assert result.stderr == "", shown(result)
    assert located(result) == {("net.py", "PTL801", SOFTMAX_LINE)}
    for command in (["check", "pipe.py"], ["compare", "net.py", "pipe.py"]):
        result = portlint(*command, cwd=tmp_path, timeout=60)
        assert result.returncode == 2 and result.stdout == "", shown(result)
        assert result.stderr == ("portlint: pipe.py: a FIFO (named pipe), not a regular file; "
                                 "portlint reads only regular files\n"), shown(result)
    assert stat.S_ISFIFO(os.stat(tmp_path / "pipe.py").st_mode)


# --------------------------------------------------------------------------- the cache


def _entry(tmp_path: Path, shown_path: str) -> Path:
    for path in (tmp_path / ".portlint_cache").rglob("*.json"):
        if json.loads(path.read_text())["shown"] == shown_path:
            return path
    raise AssertionError(f"no cache entry for {shown_path}")


def _poison(entry: dict, how: str) -> dict:
    outcome = entry["outcome"]
    finding = outcome["models"][0][1][0]
    elsewhere = ["other.py", *finding["location"][1:]]
    variants = {
        "outcome_not_a_dict": lambda: entry.update(outcome=5),
        "models_a_dict": lambda: outcome.update(models={"Net": []}),
        "message_a_list": lambda: finding.update(message=["x"]),
        "line_a_string": lambda: finding["location"].__setitem__(1, "7"),
        "line_a_bool": lambda: finding["location"].__setitem__(1, True),
        "deps_a_list": lambda: entry.update(deps=["x"]),
        "unknown_rule": lambda: finding.update(code="PTL999"),
        "rule_under_another_name": lambda: finding.update(rule="activation-mismatch"),
        "finding_in_another_file": lambda: finding.update(location=elsewhere),
        "fix_in_another_file": lambda: finding["fix"]["edits"][0].__setitem__(0, elsewhere),
        "an_input_error": lambda: outcome.update(error="net.py:1:1: syntax error"),
        "a_warning_about_something_else": lambda: outcome.update(warnings=["all is well"]),
        "pair_with_another_port": lambda: outcome.update(
            pairs=[[["k.py", None, None], ["other.py", None, None], None, "x", "y"]]),
        "missing_key": lambda: finding.pop("fix"),
    }
    variants[how]()
    return entry


@pytest.mark.parametrize("how", [
    "outcome_not_a_dict", "models_a_dict", "message_a_list", "line_a_string", "line_a_bool",
    "deps_a_list", "unknown_rule", "rule_under_another_name", "finding_in_another_file",
    "fix_in_another_file", "an_input_error", "a_warning_about_something_else",
    "pair_with_another_port", "missing_key"])
def test_a_cache_entry_of_the_wrong_shape_is_a_miss_and_is_overwritten(tmp_path, how):
    write(tmp_path / "net.py", SOFTMAX_NET)
    write(tmp_path / "other.py", SOFTMAX_NET.replace("nn.Softmax()", "nn.Softmax(dim=1)"))
    cold = portlint("check", ".", "--format", "json", cwd=tmp_path)
    entry_path = _entry(tmp_path, "net.py")
    good = json.loads(entry_path.read_text())
    entry_path.write_text(json.dumps(_poison(json.loads(entry_path.read_text()), how)))
    for _ in range(2):  # the first run overwrites the entry, the second reuses it
        warm = portlint("check", ".", "--format", "json", cwd=tmp_path)
        assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, ""), \
            shown(warm)
        assert json.loads(entry_path.read_text()) == good


def test_a_forged_entry_at_worst_misstates_its_own_file_and_is_never_fixed_from(tmp_path):
    path = write(tmp_path / "net.py", SOFTMAX_NET)
    portlint("check", ".", cwd=tmp_path)
    entry_path = _entry(tmp_path, "net.py")
    entry = json.loads(entry_path.read_text())
    finding = entry["outcome"]["models"][0][1][0]
    finding["message"] = "forged"
    finding["fix"]["edits"][0][1] = "dim=__import__('os').system('echo pwned')"
    entry_path.write_text(json.dumps(entry))
    shown_run = portlint("check", ".", "--format", "json", cwd=tmp_path)
    assert [f["message"] for f in json.loads(shown_run.stdout)["findings"]] == ["forged"]
    fixed = portlint("check", ".", "--fix", cwd=tmp_path)
    assert fixed.returncode == 0, shown(fixed)
    assert path.read_text() == SOFTMAX_NET.replace("nn.Softmax()", "nn.Softmax(dim=1)")
