"""Coverage of `portlint check` on real model code (issue 20, item 7): constructs that
stopped a whole file at "analysis budget exceeded (nesting too deep)", and classes that are
not models (transforms, anchor generators, poolers) warned about as models that could not
be followed. Each cause has its own small fixture; the last test runs over torchvision's
real models/ folder when a copy is on the machine."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support import findings, portlint, shown, write

# nn.Softmax() without dim is PTL801 (a single-file rule): a finding on that line proves
# the model around it was followed to the end.
SOFTMAX = "nn.Softmax()"


def softmax_lines(result, path: str) -> set[int]:
    return {f["location"]["line"] for f in findings(result)
            if f["code"] == "PTL801" and f["location"]["path"] == path}


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    lines = [n for n, text in enumerate(path.read_text().splitlines(), 1) if needle in text]
    return lines[occurrence - 1]


def assert_no_warning(result) -> None:
    assert result.returncode in (0, 1), shown(result)
    assert "warning" not in result.stderr, shown(result)


# --------------------------------------------------------------------------- budget stops

# A package `__init__` star-imports two modules, the second of which takes a name from
# the package itself (`from . import Mode`: torchvision's transforms/autoaugment.py and
# InterpolationMode). Looking the name up went round that cycle until Python's recursion
# limit, for every file analysed after the package's scope was shared.
STAR_CYCLE = {
    "pkg/__init__.py": "",
    "pkg/modes/__init__.py": "from .plain import *\nfrom .fancy import *\n",
    "pkg/modes/base.py": """\
        from enum import Enum


        class Mode(Enum):
            NEAREST = "nearest"
        """,
    "pkg/modes/plain.py": """\
        from .base import Mode

        __all__ = ["Mode", "Plain"]


        class Plain:
            pass
        """,
    "pkg/modes/fancy.py": "from . import Mode\n\n\nclass Fancy:\n    mode = Mode.NEAREST\n",
    "pkg/modes/presets.py": "from . import Mode\n\n\nclass Preset:\n    mode = Mode.NEAREST\n",
}
NET_USING_MODE = f"""\
    import torch.nn as nn

    from ..modes.presets import Mode, Preset


    class Net(nn.Module):
        def __init__(self, mode=Mode.NEAREST):
            super().__init__()
            self.fc = nn.Linear(4, 2)
            self.softmax = {SOFTMAX}

        def forward(self, x):
            return self.softmax(self.fc(x))
    """


def test_a_star_import_cycle_through_the_package_does_not_stop_the_analysis(tmp_path: Path):
    for name, text in STAR_CYCLE.items():
        write(tmp_path / name, text)
    for name in ("pkg/nets/__init__.py",):
        write(tmp_path / name, "")
    first = write(tmp_path / "pkg/nets/first.py", NET_USING_MODE)
    write(tmp_path / "pkg/nets/second.py", NET_USING_MODE)
    # One process (two files stay in-process), so the second file finds the shared scopes.
    result = portlint("check", "first.py", "second.py", "--no-cache", "--format", "json",
                      cwd=tmp_path / "pkg/nets")
    assert_no_warning(result)
    line = line_of(first, SOFTMAX)
    assert softmax_lines(result, "first.py") == softmax_lines(result, "second.py") == {line}


# `type(m) is Block` over `self.modules()` (torchvision's quantization `fuse_model`): with
# `type()` not modelled the condition was unknown, the `if` branch was followed for the
# model itself too, and `fuse` recursed into itself until Python's recursion limit.
FUSE = f"""\
    import torch.nn as nn


    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 1)

        def forward(self, x):
            return self.conv(x)

        def fuse(self):
            pass


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.softmax = {SOFTMAX}
            self.fuse()

        def forward(self, x):
            return self.softmax(self.block(x))

        def fuse(self):
            for m in self.modules():
                if type(m) is Block:
                    m.fuse()
    """

# The same walk on a condition that stays unknown: the recursion is real for the
# interpreter, and stops at the call depth limit (that call's value unknown), not by a
# RecursionError that dropped every model of the file.
RUNAWAY = FUSE.replace("type(m) is Block", "m.wants_fusing")


@pytest.mark.parametrize("text", [FUSE, RUNAWAY], ids=["type-is", "unknown-condition"])
def test_a_method_walking_its_own_modules_does_not_stop_the_analysis(tmp_path: Path, text: str):
    net = write(tmp_path / "net.py", text)
    result = portlint("check", "net.py", "--no-cache", "--format", "json", cwd=tmp_path)
    assert_no_warning(result)
    assert softmax_lines(result, "net.py") == {line_of(net, SOFTMAX)}


# --------------------------------------------------------------------------- what is a model

# One file of a model package: a preset transform (an nn.Module without a layer or weight,
# its forward not followed), a head that takes its sizes and a dict of feature maps (a
# building block: it needs arguments), a detector (a model: it holds layers and needs no
# argument) whose forward returns a list of dicts, and a classifier that can be followed.
PACKAGE_FILE = f"""\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class Preset(nn.Module):
        def __init__(self, size=224):
            super().__init__()
            self.size = size

        def forward(self, image):
            return self.resize(F.pad(image, [1, 1]))

        def resize(self, image):  # the presets that derive from it say how
            raise NotImplementedError


    class Head(nn.Module):
        def __init__(self, in_channels, num_anchors):
            super().__init__()
            self.conv = nn.Conv2d(in_channels, num_anchors, 1)

        def forward(self, features):
            return [self.conv(feature) for feature in features.values()]


    class Detector(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = nn.Conv2d(3, 8, 3)

        def forward(self, images):
            features = self.backbone(images)
            return [{{"boxes": box}} for box in features.unbind()]


    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 4)
            self.softmax = {SOFTMAX}

        def forward(self, x):
            return self.softmax(self.fc(x))
    """


def test_check_warns_only_about_models_it_could_not_follow(tmp_path: Path):
    zoo = write(tmp_path / "zoo.py", PACKAGE_FILE)
    result = portlint("check", "zoo.py", "--no-cache", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, shown(result)
    assert softmax_lines(result, "zoo.py") == {line_of(zoo, SOFTMAX)}
    warnings = result.stderr.splitlines()
    line = line_of(zoo, "features.unbind()")
    assert warnings == [  # the cause, where it is
        "portlint: warning: zoo.py::Detector: `Detector` does not produce a model portlint can "
        f"follow (comprehension over a value not known statically at zoo.py:{line}); "
        "give its arguments as `zoo.py::Detector(...)` or its configuration with "
        "--keras-config/--torch-config, or report the construct as a portlint issue; "
        "single-file rules skipped"], shown(result)


@pytest.mark.parametrize("model, says", [
    ("Preset", "`Preset` holds no layer or weight: it is not a model"),
    ("Head", "`Head` needs arguments to be built (`in_channels`, `num_anchors`): a building "
             "block, not a model; give them as `zoo.py::Head(...)` to check it"),
])
def test_naming_a_class_that_is_not_a_model_says_why(tmp_path: Path, model: str, says: str):
    write(tmp_path / "zoo.py", PACKAGE_FILE)
    write(tmp_path / "port.py", f"# portlint: port-of zoo.py::{model}\n"
                                "import keras\n\n\ndef build():\n"
                                "    return keras.Sequential([keras.layers.Dense(4)])\n")
    result = portlint("check", "port.py", "--no-cache", cwd=tmp_path)
    assert result.returncode == 2, shown(result)
    assert says in result.stderr, shown(result)


# --------------------------------------------------------------------------- real code

def torchvision_models() -> Path | None:
    """torchvision 0.29.1's models/ folder: the unpacked package on the project's machines
    (imports of torchvision.ops and .transforms resolve there), else the benchmark corpus
    (bench/corpus.py; models/ only). Never downloaded by the tests."""
    bench = Path(os.environ.get("PORTLINT_BENCH_CACHE", Path.home() / ".cache" / "portlint-bench"))
    for folder in (Path("/work/corpora/torchvision-0.29.1/torchvision/models"),
                   bench / "corpus" / "torchvision" / "models"):
        if (folder / "resnet.py").is_file():
            return folder
    return None


# What remains, each a true limitation: detection models take a list of images (and
# targets) and return a list of dicts per image; the R-CNNs unpack what the region
# proposal network gives for an ImageList and a dict of feature maps.
DETECTION_MODELS = {
    "detection/faster_rcnn.py::fasterrcnn_resnet50_fpn", "detection/faster_rcnn.py::fasterrcnn_resnet50_fpn_v2",
    "detection/fcos.py", "detection/keypoint_rcnn.py",
    "detection/mask_rcnn.py::maskrcnn_resnet50_fpn", "detection/mask_rcnn.py::maskrcnn_resnet50_fpn_v2",
    "detection/retinanet.py::retinanet_resnet50_fpn", "detection/retinanet.py::retinanet_resnet50_fpn_v2",
    "detection/ssd.py", "detection/ssdlite.py",
}


@pytest.mark.slow  # ~80 files of real code
@pytest.mark.skipif(torchvision_models() is None, reason="no copy of torchvision 0.29.1 here")
def test_check_over_torchvision_models_warns_only_about_detection_models():
    result = portlint("check", ".", "--no-cache", "--format", "json", cwd=torchvision_models())
    assert result.returncode == 0, shown(result)
    json.loads(result.stdout)
    warned = {}
    for line in result.stderr.splitlines():
        assert "budget" not in line and "internal error" not in line, shown(result)
        ref, _, rest = line.removeprefix("portlint: warning: ").partition(": ")
        warned[ref] = rest
    assert set(warned) == DETECTION_MODELS, shown(result)
    assert all("does not produce a model portlint can follow (" in rest
               for rest in warned.values()), shown(result)
