"""Hugging Face-style PyTorch code (issue 16, items 2 and 3), on a package of our own
(tests/fixtures/hf/transformers): a model built from its `config_class` defaults, the
library's base classes and helpers answered from portlint's knowledge, and the
configuration given on the command line (`--torch-config`)."""

from __future__ import annotations

import json

from support import FIXTURES, portlint

HF = FIXTURES / "hf"
TORCH = "transformers/models/tiny/modeling_tiny.py::TinyModel"
KERAS = "keras_tiny.py::build"

# TinyModel with TinyConfig's defaults (vocab 100, width 16, 2 layers, 32 intermediate):
# embedding 100*16, cls_token 16, per layer q/k/v and output 4*(16*16+16), two layer
# norms 2*32, intermediate 16*32+32, output 32*16+16.
PER_LAYER = 4 * (16 * 16 + 16) + 2 * 32 + (16 * 32 + 32) + (32 * 16 + 16)
STEM = 100 * 16 + 16


def _pair(*extra: str) -> dict:
    run = portlint("compare", KERAS, TORCH, "--format", "json", *extra, cwd=HF)
    assert run.returncode in (0, 1), run.shown()
    return json.loads(run.stdout)["pairs"][0]


def _activations(pair: dict) -> list[dict]:
    return [n["attrs"] for n in pair["torch"]["nodes"]
            if n["op"] == "activation" and n["attrs"].get("kind") != "softmax"]


def test_a_torch_model_without_an_annotated_config_is_built_from_its_config_class():
    pair = _pair()
    assert pair["totals"]["torch"]["parameters"] == STEM + 2 * PER_LAYER
    dense = [n for n in pair["torch"]["nodes"] if n["op"] == "dense"]
    # Applied per layer: query, key, value, attention output, intermediate, output.
    assert len(dense) == 2 * 6
    # Attention written as matmul/view/permute/transpose: two products per layer.
    assert [n["op"] for n in pair["torch"]["nodes"]].count("matmul") == 2 * 2
    # ACT2FN["gelu_new"] is GELU's tanh approximation, built once per layer.
    assert [a["kind"] for a in _activations(pair)] == ["gelu", "gelu"]
    assert all(a["approximate"] is True for a in _activations(pair))
    assert not [n for n in pair["torch"]["nodes"] if n["op"] == "opaque"]


def test_torch_config_overrides_the_defaults_through_the_attribute_map(tmp_path):
    config = tmp_path / "config.json"
    # `num_hidden_layers` is TinyConfig's `n_layer` (attribute_map); `hidden_act` a
    # constructor argument; the rest as an HF config.json has them.
    config.write_text(json.dumps({"num_hidden_layers": 3, "hidden_act": "relu",
                                  "architectures": ["TinyModel"], "model_type": "tiny"}))
    pair = _pair("--torch-config", str(config))
    assert pair["totals"]["torch"]["parameters"] == STEM + 3 * PER_LAYER
    assert [a["kind"] for a in _activations(pair)] == ["relu"] * 3


def test_torch_config_constructor_arguments(tmp_path):
    config = tmp_path / "args.json"
    config.write_text(json.dumps({"n_layer": 1, "n_embd": 8, "num_attention_heads": 2}))
    pair = _pair("--torch-config", str(config))
    per_layer = 4 * (8 * 8 + 8) + 2 * 16 + (8 * 32 + 32) + (32 * 8 + 8)
    assert pair["totals"]["torch"]["parameters"] == 100 * 8 + 8 + per_layer


def test_keras_config_leaves_the_torch_side_alone(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"num_hidden_layers": 5}))
    pair = _pair("--keras-config", str(config))
    assert pair["totals"]["torch"]["parameters"] == STEM + 2 * PER_LAYER


def test_a_bad_config_file_is_an_input_error(tmp_path):
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    for command in ("compare", "check"):
        for path, said in ((listed, "expected a JSON object"), (broken, "not valid JSON"),
                           (tmp_path / "missing.json", "missing.json")):
            args = [KERAS, TORCH] if command == "compare" else [TORCH.partition("::")[0]]
            run = portlint(command, *args, "--torch-config", str(path), cwd=HF)
            assert run.returncode == 2, run.shown()
            assert said in run.stderr and "Traceback" not in run.stderr, run.shown()
            assert len(run.stderr.strip().splitlines()) == 1, run.shown()


def test_isinstance_against_collections_abc_is_decided_for_constants(tmp_path):
    # As ViTPatchEmbeddings: `size if isinstance(size, collections.abc.Iterable) else (size, size)`.
    (tmp_path / "pt.py").write_text(
        "import collections.abc\nfrom torch import nn\n\n\n"
        "class Patches(nn.Module):\n"
        "    def __init__(self, patch_size=4):\n"
        "        super().__init__()\n"
        "        patch_size = patch_size if isinstance(patch_size, collections.abc.Iterable) "
        "else (patch_size, patch_size)\n"
        "        self.projection = nn.Conv2d(3, 8, kernel_size=patch_size, stride=patch_size)\n\n"
        "    def forward(self, x):\n        return self.projection(x)\n")
    (tmp_path / "k.py").write_text(
        "import keras\n\n\ndef build():\n    inputs = keras.Input(shape=(16, 16, 3))\n"
        "    return keras.Model(inputs, keras.layers.Conv2D(8, 4, strides=4)(inputs))\n")
    run = portlint("compare", "k.py::build", "pt.py::Patches", "--format", "json", cwd=tmp_path)
    assert run.returncode in (0, 1), run.shown()
    pair = json.loads(run.stdout)["pairs"][0]
    conv = next(n for n in pair["torch"]["nodes"] if n["op"] == "conv")
    assert conv["attrs"]["kernel"] == [4, 4] and conv["attrs"]["stride"] == [4, 4]
    assert pair["totals"]["torch"]["parameters"] == 8 * 3 * 4 * 4 + 8
