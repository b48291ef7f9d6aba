"""bench/pypi_ports.py, the PyPI port-package harness, on a small site folder of our own in
the style of keras-cv-attention-models and timm: which models pair by name, how a real
portlint run on a pair is recorded, the named pairs missing from a tree, the unpacking of
wheels and sdists, and the generated section of the doc. Nothing is downloaded."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from support import ROOT, shown

HARNESS = ROOT / "bench" / "pypi_ports.py"
sys.path.insert(0, str(ROOT / "bench"))

import pypi_sources  # noqa: E402

KECAM_MODELS = """\
def register_model(model_func):
    return model_func
"""
KECAM_TINY = """\
import keras

from keras_cv_attention_models.models import register_model


def TinyNet(widths=(8, 16), input_shape=(32, 32, 3), num_classes=10, model_name="tinynet"):
    inputs = keras.Input(input_shape)
    nn = inputs
    for width in widths:
        nn = keras.layers.Conv2D(width, 3, padding="same", activation="relu")(nn)
    nn = keras.layers.GlobalAveragePooling2D()(nn)
    nn = keras.layers.Dense(num_classes)(nn)
    return keras.Model(inputs, nn, name=model_name)


@register_model
def TinyNetS(input_shape=(32, 32, 3), num_classes=10):
    return TinyNet((8, 16), input_shape, num_classes, model_name="tinynet_s")


@register_model
def TinyNetB(input_shape=(64, 64, 3), num_classes=10):
    return TinyNet((16, 32), input_shape, num_classes, model_name="tinynet_b")


@register_model
def Twice(input_shape=(32, 32, 3)):
    return TinyNet(input_shape=input_shape)


@register_model
def HalfNet(input_shape=(32, 32, 3)):
    return TinyNet(input_shape=input_shape)


@register_model
def KerasOnly(input_shape=(32, 32, 3)):
    return TinyNet(input_shape=input_shape)


def NotRegistered(input_shape=(32, 32, 3)):
    return TinyNet(input_shape=input_shape)
"""
KECAM_OTHER = """\
from keras_cv_attention_models.models import register_model
from keras_cv_attention_models.tiny.tiny import TinyNet


@register_model
def twice(input_shape=(32, 32, 3)):
    return TinyNet(input_shape=input_shape)
"""
TIMM_REGISTRY = """\
def register_model(fn):
    return fn
"""
TIMM_TINY = """\
from torch import nn

from ._registry import register_model


class TinyNet(nn.Module):
    def __init__(self, widths=(8, 16), num_classes=10):
        super().__init__()
        self.convs = nn.ModuleList()
        in_chs = 3
        for width in widths:
            self.convs.append(nn.Conv2d(in_chs, width, 3, padding=1))
            in_chs = width
        self.act = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(in_chs, num_classes)

    def forward(self, x):
        for conv in self.convs:
            x = self.act(conv(x))
        return self.head(self.pool(x).flatten(1))


@register_model
def tinynet_s(pretrained=False):
    return TinyNet((8, 16))


@register_model
def tiny_net_b_64(pretrained=False):
    return TinyNet((16, 32))


@register_model
def tiny_net_b_128(pretrained=False):
    return TinyNet((16, 32))


@register_model
def twice(pretrained=False):
    return TinyNet()


@register_model
def half_net(pretrained=False):
    return None


@register_model
def torch_only(pretrained=False):
    return TinyNet()
"""

FILES = {
    "keras_cv_attention_models/__init__.py": "",
    "keras_cv_attention_models/models.py": KECAM_MODELS,
    "keras_cv_attention_models/tiny/__init__.py": "",
    "keras_cv_attention_models/tiny/tiny.py": KECAM_TINY,
    "keras_cv_attention_models/other/__init__.py": "",
    "keras_cv_attention_models/other/other.py": KECAM_OTHER,
    "keras_cv_attention_models/broken.py": "@register_model\ndef Broken(:\n",
    "timm/__init__.py": "",
    "timm/models/__init__.py": "",
    "timm/models/_registry.py": TIMM_REGISTRY,
    "timm/models/tiny.py": TIMM_TINY,
    "timm-0.0.test.dist-info/METADATA": "Name: timm\nVersion: 0.0.test\n",
}


def fake_site(tmp: Path) -> Path:
    site = tmp / "site"
    for name, text in FILES.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return site


def harness(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(HARNESS), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_list_pairs_kecam_and_timm_models_by_name(tmp_path):
    site = fake_site(tmp_path)
    run = harness("--source-root", site, "--groups", "matched", "--list")
    assert run.returncode == 0, shown(run)
    rows = [line.split("\t") for line in run.stdout.splitlines() if "\t" in line]
    assert [r[1] for r in rows] == ["HalfNet / half_net", "TinyNetB / tiny_net_b_64",
                                    "TinyNetS / tinynet_s"], shown(run)
    # the same key: TinyNetS / tinynet_s; the key plus the default input size: TinyNetB,
    # 64 x 64 by default, pairs with tiny_net_b_64 and not _128
    assert rows[2][2:4] == ["keras_cv_attention_models/tiny/tiny.py::TinyNetS",
                            "timm/models/tiny.py::tinynet_s"], rows
    # `Twice` and `twice` (two kecam files, one key) pair neither; KerasOnly has no twin;
    # NotRegistered is no model entry; the file that does not parse is skipped
    assert run.stdout.strip().endswith("3 pairs; name matching: 3 kecam/timm pairs"), shown(run)
    # --every 2: a sample of the matched pairs, the first and the third
    run = harness("--source-root", site, "--groups", "matched", "--every", "2", "--list")
    sample = [line.split("\t")[1] for line in run.stdout.splitlines() if "\t" in line]
    assert sample == ["HalfNet / half_net", "TinyNetS / tinynet_s"], shown(run)


def test_runs_the_pairs_in_the_site_folder_and_writes_the_doc(tmp_path):
    site = fake_site(tmp_path)
    doc = tmp_path / "pypi-ports.md"
    doc.write_text("# Intro\n\nkept\n")
    out = tmp_path / "results.json"
    run = harness("--source-root", site, "--json", out, "--markdown", doc, "--timeout", "120")
    assert run.returncode == 0, shown(run)
    results = json.loads(out.read_text())
    rows = {r["name"]: r for r in results["pairs"]}
    small = rows["TinyNetS / tinynet_s"]
    # followed: the absolute import of the package's own `register_model` resolved
    assert small["followed"] and small["exit"] in (0, 1), small
    assert small["weighted"] == {"keras": 3, "torch": 3}, small
    assert small["cpu_seconds"] > 0, small  # the child's CPU time, besides the wall time
    assert small["static"]["keras"]["value"] == small["static"]["torch"]["value"] == 1562, small
    # the named pairs are not in this tree: each says which entry is missing, and none runs
    named = [r for r in results["pairs"] if r["group"] == "named"]
    assert len(named) == 19 and not any(r["followed"] for r in named)
    convnext = rows["kecam ConvNeXt"]
    assert convnext["exit"] is None and convnext["seconds"] is None
    assert convnext["reason"] == ("keras_cv_attention_models `ConvNeXtTiny`: not registered "
                                  "in the source"), convnext
    assert rows["keras-tcn TCN"]["reason"] == "`tcn/tcn.py` is not in the source"
    assert results["matching"] == {
        "kecam_models": 6, "timm_models": 6, "pairs": 3, "by_size": 1, "unmatched": 1,
        "ambiguous": ["keras_cv_attention_models/other/other.py::twice / "
                      "keras_cv_attention_models/tiny/tiny.py::Twice"]}
    assert results["meta"]["versions"] == {"timm": "0.0.test"}
    summary = run.stdout.splitlines()[0]
    assert summary.startswith("named pairs followed 0/19 (0%); matched pairs followed 2/3 (67%)"
                              ", median "), shown(run)
    assert "; CPU time median " in summary, shown(run)
    text = doc.read_text()
    assert text.startswith("# Intro\n\nkept\n\n<!-- pypi-ports:begin")
    assert text.endswith("<!-- pypi-ports:end -->\n")
    assert "### The pairs issue 19 names" in text and "### kecam / timm pairs matched by name" in text
    assert ("| TinyNetS / tinynet_s | `keras_cv_attention_models/tiny/tiny.py::TinyNetS` / "
            "`timm/models/tiny.py::tinynet_s` | yes |") in text
    assert "ambiguous: keras_cv_attention_models/other/other.py::twice / " in text
    # rendering the saved results again replaces the section and keeps the rest
    doc.write_text(text.replace("kept", "still kept") + "after\n")
    again = harness("--from-json", out, "--markdown", doc)
    assert again.returncode == 0, shown(again)
    assert again.stdout.splitlines()[0] == summary
    assert doc.read_text() == text.replace("kept", "still kept") + "after\n"


def test_sides_says_which_side_stops(tmp_path):
    site = fake_site(tmp_path)
    out = tmp_path / "results.json"
    run = harness("--source-root", site, "--groups", "matched", "--only", "half_net,tinynet_s",
                  "--sides", "--json", out, "--markdown", tmp_path / "doc.md")
    assert run.returncode == 0, shown(run)
    rows = {r["name"]: r for r in json.loads(out.read_text())["pairs"]}
    half = rows["HalfNet / half_net"]
    assert not half["followed"] and half["exit"] == 2, half
    # the Keras side is followed against the torch stand-in; timm's `half_net` is no model
    assert half["keras_alone"]["followed"] and half["keras_alone"]["exit"] in (0, 1), half
    assert not half["torch_alone"]["followed"] and half["torch_alone"]["exit"] == 2, half
    assert "half_net" in half["torch_alone"]["reason"], half
    whole = rows["TinyNetS / tinynet_s"]
    assert whole["followed"] and whole["keras_alone"]["followed"] and whole["torch_alone"]["followed"]
    assert "each side alone (2 pairs): Keras followed 2, torch followed 1" in run.stdout, shown(run)
    text = (tmp_path / "doc.md").read_text()
    assert "| Keras side alone | torch side alone |" in text
    assert "| yes | no: " in text


def _wheel(path: Path, files: dict[str, str]) -> None:
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)


def _sdist(path: Path, top: str, files: dict[str, str]) -> None:
    with tarfile.open(path, "w:gz") as sdist:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            sdist.addfile(info, io.BytesIO(data))


def test_fetch_unpacks_wheels_and_the_packages_of_an_sdist_without_pip(tmp_path):
    downloads = tmp_path / "cache" / "downloads"
    downloads.mkdir(parents=True)
    _wheel(downloads / "keras_thing-1.0-py3-none-any.whl",
           {"keras_thing/__init__.py": "", "keras_thing/model.py": "X = 1\n",
            "keras_thing-1.0.dist-info/METADATA": "Name: keras-thing\n"})
    _sdist(downloads / "torch.thing-2.0.tar.gz", "torch.thing-2.0",
           {"setup.py": "raise SystemExit('never run')\n", "PKG-INFO": "",
            "torch_thing/__init__.py": "", "torch_thing/model.py": "Y = 2\n",
            "tests/test_model.py": "", "helper.py": "Z = 3\n"})
    # a version that is not the one asked for is not taken
    _wheel(downloads / "keras_thing-0.9-py3-none-any.whl", {"keras_thing/old.py": ""})
    packages = (("keras-thing", "1.0"), ("torch_thing", "2.0"))
    site = pypi_sources.fetch("/nonexistent/python", tmp_path / "cache", packages)
    assert (site / "keras_thing/model.py").read_text() == "X = 1\n"
    assert not (site / "keras_thing/old.py").exists()
    assert (site / "torch_thing/model.py").read_text() == "Y = 2\n"
    assert (site / "helper.py").is_file()
    assert not (site / "setup.py").exists() and not (site / "tests").exists()
    assert pypi_sources.versions(site) == {"keras-thing": "1.0"}  # PACKAGES names only, and wheels
    # unpacked once: a second fetch leaves an edited file alone
    (site / "keras_thing/model.py").write_text("edited\n")
    pypi_sources.fetch("/nonexistent/python", tmp_path / "cache", packages)
    assert (site / "keras_thing/model.py").read_text() == "edited\n"


def test_a_traceback_is_recorded_by_its_exception():
    import hf_runs

    crash = "Traceback (most recent call last):\n  File \"x.py\", line 1\nTypeError: boom\n"
    assert hf_runs.describe(1, "", crash)["reason"] == "exit 1 without JSON on stdout: TypeError: boom"
    assert hf_runs.describe(1, "", "portlint: plain\n")["reason"] == \
        "exit 1 without JSON on stdout: portlint: plain"
