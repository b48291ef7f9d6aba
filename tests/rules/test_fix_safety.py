"""A "safe" fix edits only a call that names the framework class itself (issue 20, item 3).

`nn.BatchNorm2d(4)`, an import alias and a module attribute are fixed; a call through a
parameter, a factory's result, a functools.partial, a variable, a dict lookup or an
attribute set at run time keeps its findings, without a fix, saying why: torchvision passes
`FrozenBatchNorm2d` as `norm_layer`, which takes no `momentum`, so editing `norm_layer(width)`
breaks its callers. The CLI runs as users run it, in a subprocess, on real files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import portlint, shown, write

KERAS = """\
import keras
from keras import layers


def build_model():
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization(epsilon=1e-3)(x)
    return keras.Model(inputs, x)
"""

TORCH = """\
import functools
import torch
import torch.nn as nn
from torch.nn import BatchNorm2d as BN

NORMS = {{"bn": nn.BatchNorm2d}}
NORM = nn.BatchNorm2d
PARTIAL_NORM = functools.partial(nn.BatchNorm2d)


def make_norm():
    return nn.BatchNorm2d


def norm_helper(channels, eps=1e-5):
    return nn.BatchNorm2d(channels, eps=eps)


class Net(nn.Module):
    def __init__(self, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self.norm_cls = nn.BatchNorm2d
        local_norm = nn.BatchNorm2d
        self.conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn = {bn}

    def forward(self, x):
        return self.bn(self.conv(x))
"""
BN_LINE = 27

FIXED = ["nn.BatchNorm2d(4)", "BN(4)", "torch.nn.BatchNorm2d(4)", "nn.BatchNorm2d(num_features=4)"]
NOT_FIXED = {
    "norm_layer(4)": "`norm_layer` is a parameter",
    "make_norm()(4)": "`make_norm()` is the result of a call (a factory)",
    "PARTIAL_NORM(4)": "`PARTIAL_NORM` is a functools.partial",
    "local_norm(4)": "`local_norm` is a variable",
    "NORM(4)": "`NORM` is a variable",
    'NORMS["bn"](4)': '`NORMS["bn"]` is a lookup',
    "self.norm_cls(4)": "`self.norm_cls` is an attribute of `self`",
}
RULES = {"batchnorm-momentum-mismatch", "norm-epsilon-mismatch"}


def pair(tmp_path: Path, bn: str) -> tuple[Path, Path]:
    return write(tmp_path / "k.py", KERAS), write(tmp_path / "t.py", TORCH.format(bn=bn))


def norm_findings(stdout: str) -> list[dict]:
    return [f for f in json.loads(stdout)["findings"] if f["rule"] in RULES]


@pytest.mark.parametrize("bn", FIXED)
def test_a_call_naming_the_framework_class_is_fixed(tmp_path: Path, bn: str):
    keras, torch = pair(tmp_path, bn)
    result = portlint("compare", f"{keras}::build_model", torch, "--fix", "--format", "json")
    assert result.stderr == "portlint: fixed 2 findings in 1 file\n", shown(result)
    fixed = torch.read_text().splitlines()[BN_LINE - 1]
    assert fixed == f"        self.bn = {bn[:-1]}, momentum=0.01, eps=0.001)", fixed
    assert norm_findings(result.stdout) == [], shown(result)


@pytest.mark.parametrize("bn, reason", NOT_FIXED.items())
def test_a_call_through_anything_else_keeps_its_findings_without_a_fix(tmp_path: Path, bn: str,
                                                                          reason: str):
    keras, torch = pair(tmp_path, bn)
    before = torch.read_bytes()
    result = portlint("compare", f"{keras}::build_model", torch, "--fix", "--unsafe-fixes",
                      "--format", "json")
    assert result.stderr == "portlint: no fixes applied\n", shown(result)
    assert torch.read_bytes() == before
    found = norm_findings(result.stdout)
    assert {f["rule"] for f in found} == RULES, shown(result)
    for f in found:
        assert f["fix"] is None and f["location"]["line"] == BN_LINE, f
        assert f"(no automatic fix: {reason}" in f["message"], f["message"]
        assert "change it where the layer class is chosen" in f["message"]


def test_an_argument_computed_in_a_helper_is_not_replaced_by_a_number(tmp_path: Path):
    """`eps=eps` in a helper: writing `eps=0.001` there would cut every caller's `eps`; the
    missing momentum is a keyword the class itself takes, added where the class is named."""
    keras, torch = pair(tmp_path, "norm_helper(4)")
    result = portlint("compare", f"{keras}::build_model", torch, "--fix", "--format", "json")
    assert result.stderr == "portlint: fixed 1 finding in 1 file\n", shown(result)
    assert "    return nn.BatchNorm2d(channels, eps=eps, momentum=0.01)\n" in torch.read_text()
    [eps] = norm_findings(result.stdout)
    assert eps["rule"] == "norm-epsilon-mismatch" and eps["fix"] is None, eps
    assert ("(no automatic fix: `eps=` is computed, not written as a literal; change it where "
            "its value is chosen)") in eps["message"]


SOFTMAX = """\
import torch.nn as nn


class Head(nn.Module):
    def __init__(self, act=nn.Softmax):
        super().__init__()
        self.fc = nn.Linear(8, 4)
        self.act = {act}

    def forward(self, x):
        return self.act(self.fc(x))
"""


@pytest.mark.parametrize("act, fixed", [("nn.Softmax()", True), ("act()", False)])
def test_the_softmax_dim_fix_also_needs_the_class_itself(tmp_path: Path, act: str, fixed: bool):
    path = write(tmp_path / "head.py", SOFTMAX.format(act=act))
    before = path.read_text()
    result = portlint("check", path, "--fix", "--unsafe-fixes", "--format", "json",
                      "--select", "softmax-implicit-dim", cwd=tmp_path)
    assert result.returncode in (0, 1), shown(result)
    if fixed:
        assert "self.act = nn.Softmax(dim=1)" in path.read_text(), shown(result)
    else:
        assert path.read_text() == before
        message, = [f["message"] for f in json.loads(result.stdout)["findings"]]
        assert "(no automatic fix: `act` is a parameter" in message


TORCHVISION = Path("/work/corpora/torchvision-0.29.1/torchvision")
KERAS_APPS = Path("/work/corpora/keras-3.15.1/keras/src/applications")


@pytest.mark.skipif(not (TORCHVISION / "models" / "resnet.py").exists()
                    or not (KERAS_APPS / "resnet.py").exists(), reason="real corpus absent")
def test_torchvision_resnet_norm_layer_is_not_edited(tmp_path: Path):
    """The issue's case: `norm_layer(width)` in torchvision's Bottleneck, a parameter."""
    package = shutil.copytree(TORCHVISION, tmp_path / "torchvision",
                              ignore=shutil.ignore_patterns("*.so", "*.pyc", "__pycache__"))
    resnet = package / "models" / "resnet.py"
    before = resnet.read_bytes()
    result = portlint("compare", f"{KERAS_APPS / 'resnet.py'}::ResNet50",
                      f"{resnet}::resnet50", "--fix", "--format", "json", cwd=tmp_path)
    assert resnet.read_bytes() == before, shown(result)
    found = norm_findings(result.stdout)
    assert found and all(f["fix"] is None and "no automatic fix: `norm_layer` is" in f["message"]
                         for f in found), shown(result)
