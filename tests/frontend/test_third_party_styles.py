"""Ports in the styles of code written outside the big libraries (issue 19): models built by
methods of plain classes, module-level training scripts, star imports, Keras modules
injected at call time (keras-applications 1.0.8 and its descendants), `**locals()` entry
points (keras-cv-attention-models) and one block ported on its own.

The fixtures are our own code in those styles (tests/fixtures/third_party/). Each is read
statically; where Keras is installed, the static totals are checked against the model
Keras builds from the same file, so the numbers cannot drift.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from portlint.compare import compare
from portlint.errors import InputError
from support import FIXTURES, portlint

HERE = FIXTURES / "third_party"
TORCH_GENERATOR = HERE / "gan_generator_torch.py"


def keras_side(ref: str, torch_ref: str = str(TORCH_GENERATOR)):
    result = compare(ref, torch_ref)
    graph = result.alignment.keras
    unresolved = [f for f in result.findings if f.rule == "unresolved-construct"
                  and f.location and f.location.path.endswith(graph.path.rsplit("/", 1)[-1])]
    return graph, unresolved


def totals(graph) -> tuple[int, int]:
    counts = graph.total_counts()
    return counts.trainable, counts.state


# What each fixture's model is, and how real Keras builds the same model from the file.
CASES = {
    "gan_methods.py::GAN.build_generator": lambda m: m.GAN().generator,
    "gan_methods.py::GAN.build_discriminator": lambda m: m.GAN().discriminator,
    "script_training.py": lambda m: m.model,
    "star_imports.py": lambda m: m.build(),
    "kapps/tinyvgg.py": lambda m: m.TinyVGG(**_injected()),
    "kecam_style.py::TinyNetS": lambda m: m.TinyNetS(),
}
# Built by hand in the real-count test (keras_applications is not installed there).
STATIC_ONLY = {"kapps_external.py": (4 * 8 * 9 + 16 + 8 * 3 + 3, 16)}


def _injected() -> dict:
    from tensorflow import keras

    return {"backend": keras.backend, "layers": keras.layers, "models": keras.models,
            "utils": keras.utils}


@pytest.mark.parametrize("ref", [*CASES, *STATIC_ONLY])
def test_the_model_is_found_and_followed_without_unresolved_constructs(ref: str) -> None:
    graph, unresolved = keras_side(str(HERE / ref))
    assert graph.framework == "keras"
    assert not unresolved, [f.message for f in unresolved]
    assert graph.counts_known()
    assert sum(1 for n in graph.nodes if n.counts and n.counts.trainable) >= 2


@pytest.mark.parametrize("ref", list(CASES))
def test_static_totals_equal_what_keras_builds(ref: str, tmp_path, monkeypatch) -> None:
    pytest.importorskip("tensorflow")
    path, _, _ = ref.partition("::")
    graph, _ = keras_side(str(HERE / ref))
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.chdir(tmp_path)
    name = path[:-3].replace("/", ".")
    spec = importlib.util.spec_from_file_location(name, HERE / path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    model = CASES[ref](module)
    trainable = sum(int(w.shape.num_elements() if hasattr(w.shape, "num_elements") else
                        _size(w.shape)) for w in model.trainable_weights)
    assert totals(graph) == (trainable, model.count_params() - trainable)


def _size(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def test_a_file_with_several_method_models_lists_them() -> None:
    with pytest.raises(InputError) as info:
        compare(str(HERE / "gan_methods.py"), str(TORCH_GENERATOR))
    assert "gan_methods.py::GAN.build_generator" in str(info.value)
    assert "gan_methods.py::GAN.build_discriminator" in str(info.value)


def test_an_unknown_class_method_is_a_clear_input_error() -> None:
    result = portlint("compare", f"{HERE / 'gan_methods.py'}::GAN.build_critic", str(TORCH_GENERATOR))
    assert result.returncode == 2
    assert "no class method `GAN.build_critic`" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_generator_pairs_with_its_torch_port_and_the_real_differences_are_found() -> None:
    result = compare(f"{HERE / 'gan_methods.py'}::GAN.build_generator", str(TORCH_GENERATOR))
    rules = sorted(f.rule for f in result.findings if f.severity == "error")
    # momentum 0.8 became 0.2 (right); Keras eps 1e-3 is torch's 1e-5 (a real difference)
    assert rules == ["norm-epsilon-mismatch"], [f.message for f in result.findings]
    keras_counts, torch_counts = result.alignment.keras.total_counts(), result.alignment.torch.total_counts()
    assert keras_counts.trainable == torch_counts.trainable


def test_a_keras_layer_and_a_torch_module_compare_as_a_ported_block() -> None:
    result = compare(str(HERE / "block_keras.py"), str(HERE / "block_torch.py"))
    keras, torch = result.alignment.keras, result.alignment.torch
    assert (keras.model, torch.model) == ("ResidualBlock", "ResidualBlock")
    assert keras.total_counts().trainable == torch.total_counts().trainable == 2 * (8 * 8 * 9 + 8) + 2 * 16
    assert not [f for f in result.findings if f.severity in ("error", "warning")], \
        [f.message for f in result.findings]


def test_an_injection_helper_from_an_uninstalled_package_gives_keras_modules() -> None:
    graph, _ = keras_side(str(HERE / "kapps_external.py"))
    assert totals(graph) == STATIC_ONLY["kapps_external.py"]


def test_a_model_without_outputs_says_where_and_why(tmp_path) -> None:
    (tmp_path / "m.py").write_text(
        "from tensorflow import keras\nfrom elsewhere import backbone\n\n"
        "def build():\n    inputs = keras.Input(shape=(4,))\n"
        "    x = keras.layers.Dense(2)(backbone.output)\n    return keras.Model(inputs, x)\n")
    result = portlint("compare", str(tmp_path / "m.py"), str(TORCH_GENERATOR))
    assert result.returncode == 2
    assert "its `Model(...)` at" in result.stderr and "m.py:7" in result.stderr


def test_a_model_built_by_a_class_method_factory() -> None:
    result = compare(str(HERE / "kecam_style.py") + "::TinyNetS",
                     str(HERE / "factory_classmethod_torch.py") + "::Net.from_name('small')")
    torch = result.alignment.torch
    assert torch.total_counts().trainable == (3 * 16 * 9 + 16) + (16 * 10 + 10)


def test_environment_defaults_and_keyed_min_give_the_input_shape() -> None:
    graph, _ = keras_side(str(HERE / "kecam_style.py") + "::TinyNetS")
    assert graph.input_shape == (16, 16, 3)  # (3, 16, 16) aligned channels-last


def test_an_input_size_not_followed_is_unknown_and_the_json_report_is_written(tmp_path) -> None:
    (tmp_path / "m.py").write_text(
        "from tensorflow import keras\nfrom elsewhere import size\n\n"
        "def build():\n    inputs = keras.Input(shape=(size(), 4))\n"
        "    return keras.Model(inputs, keras.layers.Dense(2)(inputs))\n")
    result = portlint("compare", str(tmp_path / "m.py"), str(TORCH_GENERATOR), "--format", "json")
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    import json
    assert json.loads(result.stdout)["pairs"][0]["keras"]["input_shape"] == [None, 4]


def test_a_package_attribute_rebinding_a_submodule_name_is_the_function(tmp_path) -> None:
    """timm's `layers/__init__.py` does `from .create_conv2d import create_conv2d`: the
    package attribute is the function, not the submodule."""
    package = tmp_path / "zoo" / "layers"
    package.mkdir(parents=True)
    (tmp_path / "zoo" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("from .make_conv import make_conv\n")
    (package / "make_conv.py").write_text(
        "import itertools\nimport torch.nn as nn\n\n"
        "def make_conv(cin, cout, k, **kwargs):\n"
        "    k, s = tuple(itertools.repeat(k, 2)), kwargs.pop('stride', 1)\n"
        "    return nn.Conv2d(cin, cout, k, stride=s, padding=k[0] // 2)\n")
    (tmp_path / "zoo" / "net.py").write_text(
        "import torch.nn as nn\nfrom zoo.layers import make_conv\n\n"
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.conv = make_conv(3, 8, 3)\n        self.gamma = nn.Parameter(torch.ones(8))\n\n"
        "    def forward(self, x):\n        return self.conv(x).mul(self.gamma.reshape(1, -1, 1, 1))\n")
    (tmp_path / "zoo" / "net.py").write_text(
        "import torch\n" + (tmp_path / "zoo" / "net.py").read_text())
    (tmp_path / "k.py").write_text(
        "from tensorflow import keras\n\ndef build():\n    i = keras.Input(shape=(8, 8, 3))\n"
        "    return keras.Model(i, keras.layers.Conv2D(8, 3, padding='same')(i))\n")
    result = compare(str(tmp_path / "k.py"), str(tmp_path / "zoo" / "net.py"))
    torch = result.alignment.torch
    assert torch.total_counts().trainable == 3 * 8 * 9 + 8 + 8
    from portlint.knowledge.ops import Op
    # x.mul(weight) is `x * weight`: a layer scale, not an opaque step
    assert [n.op for n in torch.nodes if n.op != Op.INPUT][:2] == [Op.CONV, Op.ELEMENTWISE]
