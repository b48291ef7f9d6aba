"""Hugging Face-style code (issue 16), on our own small package tests/fixtures/hf_style/
tinyhf: module calls whose tensor is passed by keyword, ModelOutput dataclasses returned,
indexed, sliced and read by attribute, Keras layers that create weights in build() with
add_weight (behind HF's `if self.built: return`), a @keras_serializable main layer, tf.*
tensor ops. No framework is imported: the CLI runs statically."""

from __future__ import annotations

import json

from portlint.frontend import ModelRef, extract
from tests.support import FIXTURES, portlint

HF = FIXTURES / "hf_style"
TF_REF = "tinyhf/modeling_tf_tiny.py::TFTinyModel"
TORCH_REF = "tinyhf/modeling_tiny.py::TinyModel"


def _pair() -> dict:
    run = portlint("compare", TF_REF, TORCH_REF, "--format", "json", cwd=HF)
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)["pairs"][0]


def _named(side: dict) -> dict[str, list[dict]]:
    by_op: dict[str, list[dict]] = {}
    for node in side["nodes"]:
        by_op.setdefault(node["op"], []).append(node)
    return by_op


def test_keyword_module_calls_reach_every_layer_on_both_sides():
    pair = _pair()
    keras, torch = _named(pair["keras"]), _named(pair["torch"])
    # self.tiny(input_ids=...), layer_module(hidden_states=...), self.dense(inputs=...):
    # 2 layers x 2 Dense + the pooler; the torch side's embeddings(input_ids=...).
    assert len(keras["dense"]) == 5 and len(torch["dense"]) == 5
    assert len(keras["layer_norm"]) == 3 and len(torch["layer_norm"]) == 3


def test_model_output_returned_gives_its_tensors_in_order():
    pair = _pair()
    for side in (pair["keras"], pair["torch"]):
        nodes = {n["id"]: n for n in side["nodes"]}
        # last_hidden_state (a LayerNorm), then pooler_output (tanh); None fields skipped.
        outputs = [nodes[i] for i in side["outputs"]] if "outputs" in side else None
        if outputs is not None:
            assert [n["op"] for n in outputs] == ["layer_norm", "activation"]
        assert any(n["op"] == "activation" and n["attrs"].get("kind") == "tanh"
                   for n in side["nodes"])


def test_add_weight_in_build_is_counted_once_and_gather_is_an_embedding_lookup():
    pair = _pair()
    keras = pair["keras"]
    gathers = [n for n in keras["nodes"] if n["op"] == "embedding"]
    assert len(gathers) == 1 and gathers[0]["attrs"]["embedding_dim"] == 32
    assert gathers[0]["counts"] == {"trainable": 0, "non_trainable": 0}  # counted on the layer
    # vocab 100 x 32 and positions 16 x 32, owned by TFTinyEmbeddings, once.
    graph = extract(ModelRef.parse(str(HF / TF_REF)))
    owned = [w for w in graph.owned if w.counts is not None and w.counts.trainable]
    assert [w.counts.trainable for w in owned] == [100 * 32 + 16 * 32]
    # The Dense after tf.gather has its input size: LayerNorm/Dense counts are known.
    dense = [n for n in keras["nodes"] if n["op"] == "dense"]
    assert dense[0]["counts"] == {"trainable": 32 * 64 + 64, "non_trainable": 0}


def test_tf_reshape_and_transpose_count_the_batch_dimension(tmp_path):
    (tmp_path / "m.py").write_text(
        "import tensorflow as tf\n"
        "from tensorflow import keras\n\n\n"
        "class Heads(keras.layers.Layer):\n"
        "    def __init__(self, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        "        self.dense = keras.layers.Dense(units=24, name='dense')\n"
        "        self.out = keras.layers.Dense(units=8, name='out')\n\n"
        "    def call(self, inputs):\n"
        "        x = self.dense(inputs=inputs)\n"
        "        x = tf.reshape(tensor=x, shape=(-1, 4, 2, 12))\n"
        "        x = tf.transpose(x, perm=[0, 2, 1, 3])\n"
        "        x = tf.concat([x, x], axis=-1)\n"
        "        x = tf.reshape(x, (-1, 4, 48))\n"
        "        return self.out(inputs=x)\n\n\n"
        "class M(keras.Model):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.heads = Heads(name='heads')\n\n"
        "    def call(self, inputs):\n"
        "        return self.heads(inputs=inputs)\n\n\n"
        "model = M()\nmodel(keras.Input(shape=(4, 6)))\n")
    (tmp_path / "t.py").write_text(
        "from torch import nn\n\n\nclass M(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n"
        "        self.dense = nn.Linear(6, 24)\n        self.out = nn.Linear(48, 8)\n\n"
        "    def forward(self, x):\n        return self.out(self.dense(x).repeat(1, 1, 2))\n")
    run = portlint("compare", "m.py::model", "t.py::M", "--format", "json", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    keras = json.loads(run.stdout)["pairs"][0]["keras"]
    shapes = {n["op"]: n["output_shape"] for n in keras["nodes"]}
    assert shapes["permute"] == [2, 4, 12]
    assert shapes["concat"] == [2, 4, 24]
    out = [n for n in keras["nodes"] if n["name"] == "out"][0]
    assert out["counts"] == {"trainable": 48 * 8 + 8, "non_trainable": 0}


def test_a_model_output_without_tensors_says_which_field_and_why(tmp_path):
    (tmp_path / "utils.py").write_text("class ModelOutput(dict):\n    pass\n")
    (tmp_path / "m.py").write_text(
        "from dataclasses import dataclass\n\nfrom torch import nn\n\nfrom utils import ModelOutput\n\n\n"
        "@dataclass\nclass Out(ModelOutput):\n    last_hidden_state: object = None\n\n\n"
        "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(4, 4)\n\n"
        "    def forward(self, x):\n        return Out(last_hidden_state=self.missing)\n")
    run = portlint("compare", str(HF / TF_REF), "m.py::M", cwd=tmp_path)
    assert run.returncode == 2
    assert "returns a `Out` whose `last_hidden_state` is not a tensor" in run.stderr, run.stderr
