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
