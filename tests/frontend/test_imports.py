"""How the front ends follow a project's imports (issue 7): the analysed file's imports are
resolved at once (except, in a framework's own source, its sibling modules), but a module
it imports binds its own imports lazily, so a library
module that imports half its package costs only what the model uses. What is used is
still followed through any number of hops, star imports included, and an edit anywhere
along the way is seen."""

from __future__ import annotations

from pathlib import Path

from support import write
from portlint import source as source_module
from portlint.check import analyse_file, check
from portlint.config import Settings, discover
from portlint.frontend import ModelRef, extract
from portlint.shapes import infer

MODEL = """\
import torch.nn as nn

from .blocks import Block


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block(8)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.block(x))
"""
# blocks.py imports far more than Block needs: a module it never touches, one that does
# not parse, and a package star-importing many modules.
BLOCKS = """\
import torch.nn as nn

from .layers import Dense
from .unused import NEVER_USED
from .broken import ALSO_NEVER_USED
from . import zoo
from .zoo import *


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.dense = Dense(width)
        self.act = Activation()

    def forward(self, x):
        return self.act(self.dense(x))
"""
LAYERS = """\
import torch.nn as nn

WIDTH_FACTOR = 2


class Dense(nn.Linear):
    def __init__(self, width):
        super().__init__(width, width * WIDTH_FACTOR // 2)
"""
ZOO_INIT = "from .acts import *\n" + "".join(f"from .animal_{i} import *\n" for i in range(30))
ACTS = """\
import torch.nn as nn


def Activation():
    return nn.ReLU()
"""


def _project(root: Path) -> Path:
    pkg = root / "pkg"
    write(pkg / "__init__.py", "")
    write(pkg / "model.py", MODEL)
    write(pkg / "blocks.py", BLOCKS)
    write(pkg / "layers.py", LAYERS)
    write(pkg / "unused.py", "NEVER_USED = 1\n")
    write(pkg / "broken.py", "def broken(:\n")
    write(pkg / "zoo" / "__init__.py", ZOO_INIT)
    for i in range(30):
        write(pkg / "zoo" / f"animal_{i}.py", f"import torch.nn as nn\n\n\nclass Animal{i}(nn.Module):\n"
                                              f"    pass\n")
    write(pkg / "zoo" / "acts.py", ACTS)
    return pkg


def _record_parses(monkeypatch, root: Path) -> list[str]:
    """The files parsed from now on, relative to `root`, in order."""
    parsed: list[str] = []
    parse = source_module.parse_text

    def recording_parse(path: str, text: str, cells=None):
        parsed.append(Path(path).resolve().relative_to(root.resolve()).as_posix())
        return parse(path, text, cells)

    monkeypatch.setattr(source_module, "parse_text", recording_parse)
    return parsed


def test_only_the_modules_a_model_uses_are_parsed(tmp_path, monkeypatch):
    pkg = _project(tmp_path)
    parsed = _record_parses(monkeypatch, pkg)
    outcome, reads = analyse_file(str(pkg / "model.py"), 3, ("PTL801",))
    assert not outcome.error and not outcome.warnings, (outcome.error, outcome.warnings)
    # model.py's own import of blocks.py, then what Block uses: layers.py, and the one
    # module of the star-importing package that defines Activation.
    assert sorted(parsed) == ["blocks.py", "layers.py", "model.py", "zoo/__init__.py",
                              "zoo/acts.py"]
    # The star-imported modules after acts.py (the last binding wins) were only scanned
    # for the name, but a result that depends on their not defining it is invalid once
    # they change: they are recorded.
    read = {Path(path).relative_to(pkg.resolve()).as_posix() for path in reads}
    assert {"zoo/animal_0.py", "zoo/animal_29.py"} <= read
    assert "unused.py" not in read and "broken.py" not in read


def test_lazily_imported_names_are_followed_to_the_layers(tmp_path):
    pkg = _project(tmp_path)
    graph = extract(ModelRef.parse(f"{pkg / 'model.py'}::Net"), 3)
    infer(graph, (8,))
    assert [(n.name, n.op) for n in graph.nodes if n.op != "input"] == [
        ("block.dense", "dense"), ("block.act", "activation"), ("fc", "dense")]
    assert graph.total_counts().trainable == (8 * 8 + 8) + (8 * 2 + 2)


def test_an_edit_two_imports_away_is_seen(tmp_path, monkeypatch):
    """In one process (the language server, a long check), shared module scopes must not
    keep a lazily imported module's old version."""
    pkg = _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    settings = Settings.make(discover(tmp_path))
    before = extract(ModelRef.parse(f"{pkg / 'model.py'}::Net"), 3)
    infer(before, (8,))
    (pkg / "layers.py").write_text(LAYERS.replace("WIDTH_FACTOR = 2", "WIDTH_FACTOR = 4"))
    after = extract(ModelRef.parse(f"{pkg / 'model.py'}::Net"), 3)
    infer(after, (8,))
    assert before.total_counts().trainable == 72 + 18
    assert after.total_counts().trainable == (8 * 16 + 16) + (8 * 2 + 2)
    assert check(["pkg/model.py"], settings).warnings == []


def test_star_imports_in_a_cycle_end(tmp_path):
    pkg = tmp_path / "pkg"
    write(pkg / "__init__.py", "")
    write(pkg / "a.py", "from .b import *\n")
    write(pkg / "b.py", "from .a import *\n")
    write(pkg / "model.py", MODEL.replace("from .blocks import Block", "from .a import Block"))
    graph = extract(ModelRef.parse(f"{pkg / 'model.py'}::Net"), 3)
    assert [u.reason for u in graph.unresolved] == [
        "call not modelled: call of a value not known statically "
        "(`.a` has no `Block` portlint can find)"]


# Internal errors the robustness run found in package code (sentence-transformers,
# diffusers): values the code cannot know, where the interpreter expected a module list
# or a shape. Each must leave the model analysed, with no internal error.
UNKNOWN_PARTS = """\
import torch
import torch.nn as nn
from somewhere import make_block, SIZE


class Net(nn.Sequential):
    def __init__(self):
        super().__init__(nn.Linear(4, 4), make_block())
        FULL

    def forward(self, x):
        for name, child in self.named_children():
            x = child(x)
        return x
"""


def test_unknown_sequential_items_and_shapes_are_no_internal_error(tmp_path):
    for full in ("pass", 'self.register_buffer("scale", torch.full(SIZE, 2.0))'):
        path = write(tmp_path / "net.py", UNKNOWN_PARTS.replace("FULL", full))
        outcome, _ = analyse_file(str(path), 3, ("PTL801",))
        assert not outcome.error, outcome.error
        assert not any("internal error" in w for w in outcome.warnings), outcome.warnings
        assert outcome.models and outcome.models[0][0] == "Net"


# A file of a framework's own source (Keras Applications) imports its siblings by absolute
# name; tensorflow's `ops/` files import dozens of 100-500 KB siblings that way.
SIBLING_RESNET = """\
from keras import Input, Model, layers


def ResNet(width):
    inputs = Input((8,))
    return Model(inputs, layers.Dense(width)(inputs))
"""
SIBLING_RESNET_V2 = """\
from keras.src.api_export import keras_export
from keras.src.applications import resnet
from keras.src.applications import imagenet_utils


@keras_export("keras.applications.ResNet50V2")
def ResNet50V2():
    return resnet.ResNet(4)


def preprocess_input(x):
    return imagenet_utils.preprocess_input(x)
"""


def test_framework_siblings_are_parsed_only_when_used(tmp_path, monkeypatch):
    applications = tmp_path / "keras" / "src" / "applications"
    write(applications / "resnet.py", SIBLING_RESNET)
    write(applications / "resnet_v2.py", SIBLING_RESNET_V2)
    write(applications / "imagenet_utils.py", "def preprocess_input(x):\n    return x\n")
    parsed = _record_parses(monkeypatch, applications)
    graph = extract(ModelRef.parse(f"{applications / 'resnet_v2.py'}::ResNet50V2"), 3)
    infer(graph, (8,))
    assert [n.op for n in graph.nodes if n.op != "input"] == ["dense"]
    assert sorted(parsed) == ["resnet.py", "resnet_v2.py"]  # not imagenet_utils.py
