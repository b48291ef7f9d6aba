"""The TF side of Hugging Face-style ports counted exactly (issue 16), on our own package
tests/fixtures/hf_style/tinyops: `name in ACT2FN` decided by the dict's keys, arithmetic
with an operand not known statically, tf.* ops (matmul with transposes, einsum, cast,
divide, pad, reduce_mean, range/fill, debugging asserts), TFConv1D, GPT-2's position
embedding applied to tf.range ids, NCHW `pixel_values` sized by the config, and
BatchNormalization's moving statistics reconciled with torch's running statistics."""

from __future__ import annotations

import json

from portlint.frontend import ModelRef, extract
from portlint.shapes.inference import infer
from tests.support import FIXTURES, portlint

HF = FIXTURES / "hf_style"
TEXT = "tinyops/modeling_tf_tinyops.py::TFTinyOpsModel"
VISION = "tinyops/modeling_tf_tinyvision.py::TFTinyVisionModel"
TORCH_VISION = "tinyops/modeling_tinyvision.py::TinyVisionModel"

# vocab 50 x 16, positions 8 x 16, token types 2 x 16, the embeddings' LayerNorm.
EMBEDDINGS = 50 * 16 + 8 * 16 + 2 * 16 + 2 * 16
# ln_1, c_attn TFConv1D (16 x 48 + 48, split into query/key/value), c_proj (16 x 16 + 16),
# ln_2, c_fc (16 x 64 + 64), c_proj (64 x 16 + 16).
BLOCK = 32 + (16 * 48 + 48) + (16 * 16 + 16) + 32 + (16 * 64 + 64) + (64 * 16 + 16)
TEXT_TOTAL = EMBEDDINGS + 2 * BLOCK + 32  # two blocks and ln_f


def _graph(ref: str):
    graph = extract(ModelRef.parse(str(HF / ref)))
    infer(graph, graph.input_shape)
    return graph


def _reasons(graph) -> list[str]:
    return [u.reason for u in graph.unresolved]


def test_text_model_total_is_exact_and_complete():
    graph = _graph(TEXT)
    assert all(n.counts is not None for n in graph.nodes)
    assert all(w.counts is not None for w in graph.owned)
    total = graph.total_counts()
    assert (total.trainable, total.state) == (TEXT_TOTAL, 0) == (7584, 0)


def test_membership_in_a_dict_with_unknown_values_is_decided_by_its_keys():
    graph = _graph(TEXT)
    assert not any("condition not known" in r for r in _reasons(graph))
    # get_tf_activation("gelu") returned the value: an activation node per block.
    assert sum(1 for n in graph.nodes if n.op == "activation" and n.attrs.get("kind") == "gelu") == 2


def test_tf_ops_are_modelled_not_opaque():
    graph = _graph(TEXT)
    assert not [n for n in graph.nodes if n.op == "opaque"]
    assert not any("is not in portlint's tables" in r for r in _reasons(graph))
    by_type: dict[str, list] = {}
    for node in graph.nodes:
        by_type.setdefault(node.layer_type, []).append(node)
    # q @ k^T: (heads, q, d) x (heads, k, d) transposed -> (heads, q, k).
    scores = [n for n in by_type["tf.matmul"] if len(n.inputs) == 2][0]
    assert scores.attrs["transpose_b"] is True
    assert scores.out_shape[-1] == scores.out_shape[-2]
    # probs @ v through einsum: the value's head size comes back.
    assert [n.out_shape[-1] for n in by_type["tf.einsum"]] == [8, 8]
    # TFConv1D: tf.matmul of the input and the layer's own (nx, nf) weight.
    conv1d = [n for n in by_type["tf.matmul"] if n.attrs.get("constant_side") == "b"]
    assert [n.out_shape[-1] for n in conv1d] == [48, 16, 64, 16] * 2
    # tf.split(qkv, 3, axis=2): three chunks of 16 per block, one node each.
    assert [n.out_shape[-1] for n in by_type["tf.split"]] == [16, 16, 16] * 2
    assert len(by_type["tf.reduce_mean"]) == 1


def test_position_embedding_applied_to_range_ids_counts_its_weights_once():
    graph = _graph(TEXT)
    owned = {w.name: w.counts.trainable for w in graph.owned}
    assert owned["wpe"] == 8 * 16
    assert owned["embeddings"] == 2 * 16  # the token type table made in build()
    assert not [n for n in graph.nodes if n.name == "wpe"]  # no node: its ids are constants


def test_arithmetic_with_an_unknown_operand_keeps_the_tensor_shape(tmp_path):
    (tmp_path / "m.py").write_text(
        "import tensorflow as tf\nfrom tensorflow import keras\nimport mystery\n\n\n"
        "class M(keras.Model):\n"
        "    def __init__(self):\n        super().__init__()\n"
        "        self.dense = keras.layers.Dense(8)\n        self.out = keras.layers.Dense(3)\n\n"
        "    def call(self, x):\n"
        "        x = self.dense(x) + mystery.bias()\n"
        "        return self.out(x)\n\n\n"
        "model = M()\nmodel(keras.Input(shape=(5,)))\n")
    graph = extract(ModelRef.parse(str(tmp_path / "m.py::model")))
    infer(graph, graph.input_shape)
    out = [n for n in graph.nodes if n.op == "dense"][-1]
    assert out.in_shape == (8,) and out.counts.trainable == 8 * 3 + 3
    assert any("operand of tensor arithmetic `Add` not known statically" in r
               and "kept the tensor's shape" in r for r in _reasons(graph))


def test_pixel_values_take_their_shape_from_the_config_channels_first():
    graph = _graph(VISION)
    first = graph.nodes[graph.inputs[0]]
    assert first.out_shape == (3, 8, 8) and first.layout == "channels_first"
    pads = [n for n in graph.nodes if n.layer_type == "tf.pad"]
    assert [n.out_shape for n in pads] == [(10, 10, 3), (10, 10, 4)]
    convs = [n for n in graph.nodes if n.op == "conv"]
    assert [n.out_shape for n in convs] == [(8, 8, 4), (8, 8, 8)]
    total = graph.total_counts()
    # convs 3x3x3x4 + 3x3x4x8, BatchNorm gamma/beta 2x(4+8), pooler LayerNorm 2x8;
    # moving mean/variance 2x(4+8) non-trainable.
    assert (total.trainable, total.state) == (108 + 288 + 24 + 16, 24)


def test_batch_norm_moving_stats_reconcile_with_torch_running_stats():
    run = portlint("compare", VISION, TORCH_VISION, "--format", "json", cwd=HF)
    assert run.returncode in (0, 1), run.stderr
    totals = json.loads(run.stdout)["pairs"][0]["totals"]
    assert totals["keras"]["total"] == 460 and totals["keras"]["non_trainable"] == 24
    assert totals["torch"]["parameters"] == 436 and totals["torch"]["running_stats"] == 24
    assert totals["reconciled"] is True
    text = portlint("compare", VISION, TORCH_VISION, cwd=HF)
    assert "Keras non-trainable 24 = torch running statistics 24" in text.stdout
    assert "-> counts differ" not in text.stdout
    assert "counts differ by convention only" in text.stdout  # buffer-accounting, an info


def test_rates_from_tf_linspace_and_split_are_numbers_that_decide_layers():
    graph = _graph(VISION)
    assert not [n for n in graph.nodes if n.op == "opaque"]
    drop = [n for n in graph.nodes if n.name == "drop_path"]
    assert [n.layer_type for n in drop] == ["Activation", "Activation"]  # rate 0.0: linear
    assert not any("condition not known" in r for r in _reasons(graph))


def test_image_resize_keeps_the_channels():
    graph = _graph(VISION)
    resize = [n for n in graph.nodes if n.layer_type == "tf.image.resize"]
    assert len(resize) == 1 and resize[0].out_shape[-1] == 8
    pooler = [n for n in graph.nodes if n.name == "pooler_norm"][0]
    assert pooler.counts.trainable == 16


def test_window_sizes_from_reduce_min_roll_floordiv_and_shape_lists():
    graph = _graph("tinyops/modeling_tf_tinywindows.py::TFTinyWindowsModel")
    types = [n.layer_type for n in graph.nodes]
    # min(8, 8) > window 4: the shifted branch, tf.roll keeping the shape.
    assert "tf.roll" in types
    reshapes = [n for n in graph.nodes if n.layer_type == "tf.reshape"]
    assert [n.out_shape for n in reshapes] == [(3, 4), (12,)]  # shape[:-1] + [heads, size]
    total = graph.total_counts()
    assert all(n.counts is not None for n in graph.nodes)
    assert total.trainable == 20 * 12 + 2 * (12 * 12 + 12)
