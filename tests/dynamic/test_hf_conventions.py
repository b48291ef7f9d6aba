"""Hugging Face's weight-layout conventions (`portlint.knowledge.hf_weights`) and the
name-based transfer built on them (`portlint.dynamic.hf_transfer`).

Fast: the conventions are pure functions; the transfer is exercised on a small torch
module written in HF's style (our own code) and stand-in TF variables (name, shape,
numpy value), so neither transformers nor TensorFlow is needed.
"""

from __future__ import annotations

import numpy as np
import pytest

from portlint.knowledge import hf_weights as hf

torch = pytest.importorskip("torch")
nn = torch.nn

from portlint.dynamic import hf_layers, hf_transfer  # noqa: E402


# ------------------------------------------------------------------ names


def test_scope_path_becomes_module_path_without_top_scope_and_prefix():
    name = "tf_bert_model/bert/encoder/layer_._0/attention/self/query/kernel:0"
    assert hf.candidates(name, "bert") == ["bert.encoder.layer.0.attention.self.query.weight",
                                           "encoder.layer.0.attention.self.query.weight"]


def test_head_model_names_keep_or_gain_the_base_prefix():
    # A head's classifier lives outside the main layer: the prefixed name is the second try.
    assert hf.candidates("tf_bert_for_sequence_classification/classifier/bias:0", "bert") == \
        ["classifier.bias", "bert.classifier.bias"]


def test_a_scope_spelled_with_the_prefix_loses_it():
    # BART builds its shared embedding in a scope named `model.shared`, outside the model's
    assert hf.candidates("model.shared/model.shared/embeddings:0", "model") == \
        ["model.shared.weight", "shared.weight"]


@pytest.mark.parametrize("leaf, torch_leaf", [
    ("kernel", "weight"), ("gamma", "weight"), ("beta", "bias"), ("embeddings", "weight"),
    ("moving_mean", "running_mean"), ("moving_variance", "running_var"), ("weight", "weight"),
    ("cls_token", "cls_token")])
def test_leaf_names(leaf, torch_leaf):
    assert hf.candidates(f"m/x/{leaf}:0")[0] == f"x.{torch_leaf}"


def test_list_index_and_duplicated_scope():
    assert hf.split_name("m/h_._11/attn/c_attn/weight:0") == ["m", "h", "11", "attn", "c_attn",
                                                             "weight"]
    assert hf.split_name("m/encoder___enc/layer:0") == ["m", "enc", "layer"]


def test_separable_and_weight_normed_convs_have_two_torch_spellings():
    layer = "m/convbert/encoder/layer_._0/attention/self/key_conv_attn_layer/"
    assert hf.candidates(layer + "depthwise_kernel:0", "convbert")[2] == \
        "encoder.layer.0.attention.self.key_conv_attn_layer.depthwise.weight"
    assert hf.candidates(layer + "pointwise_kernel:0", "convbert")[1] == \
        "encoder.layer.0.attention.self.key_conv_attn_layer.pointwise.weight"
    conv = "m/wav2vec2/encoder/pos_conv_embed/conv/"
    assert "encoder.pos_conv_embed.conv.parametrizations.weight.original0" in \
        hf.candidates(conv + "weight_g:0", "wav2vec2")
    assert "encoder.pos_conv_embed.conv.parametrizations.weight.original1" in \
        hf.candidates(conv + "weight_v:0", "wav2vec2")


def test_dotted_tf_scopes_are_kept():
    name = "tf_res_net_model/resnet/encoder/stages.0/layers.0/shortcut/convolution/kernel:0"
    assert hf.candidates(name, "resnet")[1] == "encoder.stages.0.layers.0.shortcut.convolution.weight"


# ------------------------------------------------------------------ layouts


def test_linear_weight_is_the_transposed_dense_kernel():
    lay = hf.layout("Linear", "weight", (64, 96), (96, 64))
    assert (lay.kind, lay.by) == (hf.TRANSPOSE, "module")


def test_hf_conv1d_is_stored_like_the_tf_side():
    # GPT-2's Conv1D keeps (in, out); a square kernel must not be transposed either.
    assert hf.layout("Conv1D", "weight", (64, 64), (64, 64)).kind == hf.SAME
    assert hf.layout("Linear", "weight", (64, 64), (64, 64)).kind == hf.TRANSPOSE


def test_conv_kernels_hwio_to_oihw_and_grouped():
    assert hf.layout("Conv2d", "weight", (7, 7, 3, 8), (8, 3, 7, 7)).kind == hf.CONV
    # ConvNeXt's depthwise conv as Conv2D(groups=C): (7, 7, 1, C) -> (C, 1, 7, 7)
    assert hf.layout("Conv2d", "weight", (7, 7, 1, 32), (32, 1, 7, 7)).kind == hf.CONV
    # a Keras DepthwiseConv2D kernel (kh, kw, C, m) -> (C*m, 1, kh, kw)
    assert hf.layout("Conv2d", "weight", (3, 3, 16, 2), (32, 1, 3, 3)).kind == hf.DEPTHWISE
    assert hf.layout("Conv1d", "weight", (5, 4, 8), (8, 4, 5)).kind == hf.CONV
    # a separable conv's depthwise half (k, C, 1) -> (C, 1, k); its pointwise half is a conv
    assert hf.layout("Conv1d", "weight", (9, 64, 1), (64, 1, 9)).kind == hf.DEPTHWISE
    assert hf.layout("Conv1d", "weight", (1, 64, 32), (32, 64, 1)).kind == hf.CONV


def test_depthwise_conversion_round_trips_and_matches_grouped_conv():
    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((3, 3, 4, 2)).astype(np.float32)  # (kh, kw, C, m)
    to_torch, to_keras = hf_transfer.LAYOUTS[hf.DEPTHWISE]
    weight = to_torch(kernel, (8, 1, 3, 3))
    assert weight.shape == (8, 1, 3, 3)
    # output channel c*m + j of the grouped conv is input channel c's j-th filter
    np.testing.assert_array_equal(weight[2 * 2 + 1, 0], kernel[:, :, 2, 1])
    np.testing.assert_array_equal(to_keras(weight, kernel.shape), kernel)


def test_norms_embeddings_and_reshaped_biases():
    assert hf.layout("LayerNorm", "weight", (64,), (64,)).kind == hf.SAME
    assert hf.layout("Embedding", "weight", (500, 64), (500, 64)).kind == hf.SAME
    lay = hf.layout("Conv1D", "bias", (1, 96), (96,))
    assert (lay.kind, lay.by) == (hf.RESHAPE, "shape")


def test_no_layout_fits_different_sizes():
    assert hf.layout("Linear", "weight", (64, 96), (64, 95)) is None


def test_randomised_kinds():
    assert hf.randomised_kind("moving_variance", (8,)) == "variance"
    assert hf.randomised_kind("gamma", (8,)) == "scale"
    assert hf.randomised_kind("bias", (1, 96)) == "shift"
    assert hf.randomised_kind("kernel", (8, 8)) is None
    assert hf.randomised_kind("embeddings", (500, 64)) is None


def test_tf_keras_source_detection():
    assert hf.needs_tf_keras("from ...modeling_tf_utils import TFPreTrainedModel, keras\n")
    assert hf.needs_tf_keras("import tf_keras as keras\n")
    assert hf.needs_tf_keras("from transformers import BertConfig, TFBertModel\n")
    assert not hf.needs_tf_keras("import keras\nfrom transformers import BertConfig\n")
    assert not hf.needs_tf_keras("# from transformers import TFBertModel\n")


# ------------------------------------------------------------------ the transfer


class Conv1D(nn.Module):
    """HF's GPT-2 projection: weight stored (in, out)."""

    def __init__(self, nf, nx):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        return x @ self.weight + self.bias


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.query = nn.Linear(4, 6)
        self.key = nn.Linear(4, 6)
        self.proj = Conv1D(3, 6)
        self.LayerNorm = nn.LayerNorm(3)
        self.register_buffer("position_ids", torch.arange(5), persistent=False)


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = SelfAttention()
        self.conv = nn.Conv2d(2, 3, 3, bias=False)
        self.norm = nn.BatchNorm2d(3)


class Model(nn.Module):
    base_model_prefix = "toy"

    def __init__(self):
        super().__init__()
        self.layer = nn.ModuleList([Layer()])


class Var:
    """A stand-in TF variable: a name, a shape, a value that can be read and assigned."""

    def __init__(self, name, shape, rng):
        self.name, self.value = name, rng.standard_normal(shape).astype(np.float32)
        self.shape = shape

    def numpy(self):
        return self.value

    def assign(self, value):
        self.value = np.asarray(value, dtype=np.float32)

    class dtype:  # noqa: N801 - tf.Variable.dtype.as_numpy_dtype
        as_numpy_dtype = np.float32


class KerasModel:
    def __init__(self, weights):
        self.weights = weights


P = "tf_toy_model/toy/layer_._0/"


def _tf_side(rng, skip=()):
    shapes = {  # listed with key before query: the pairing must not be positional
        "attention/key/kernel:0": (4, 6), "attention/key/bias:0": (6,),
        "attention/query/kernel:0": (4, 6), "attention/query/bias:0": (6,),
        "attention/proj/weight:0": (6, 3), "attention/proj/bias:0": (1, 3),
        "attention/LayerNorm/gamma:0": (3,), "attention/LayerNorm/beta:0": (3,),
        "conv/kernel:0": (3, 3, 2, 3),
        "norm/gamma:0": (3,), "norm/beta:0": (3,),
        "norm/moving_mean:0": (3,), "norm/moving_variance:0": (3,)}
    return KerasModel([Var(P + n, s, rng) for n, s in shapes.items() if n not in skip])


def test_transfer_pairs_by_name_and_converts_layouts():
    rng = np.random.default_rng(0)
    keras, model = _tf_side(rng), Model()
    transfers, problems, notes = hf_transfer.plan(keras, model)
    assert problems == [] and notes == []
    pairs = {t.keras.removeprefix(P): (t.torch, t.layout.kind) for t in transfers}
    assert pairs["attention/key/kernel:0"] == ("layer.0.attention.key.weight", hf.TRANSPOSE)
    assert pairs["attention/query/kernel:0"] == ("layer.0.attention.query.weight", hf.TRANSPOSE)
    assert pairs["attention/proj/weight:0"] == ("layer.0.attention.proj.weight", hf.SAME)
    assert pairs["attention/proj/bias:0"] == ("layer.0.attention.proj.bias", hf.RESHAPE)
    assert pairs["conv/kernel:0"] == ("layer.0.conv.weight", hf.CONV)
    assert pairs["norm/moving_variance:0"] == ("layer.0.norm.running_var", hf.SAME)
    hf_transfer.apply(transfers, "keras")
    by_name = {v.name.removeprefix(P): v.value for v in keras.weights}
    layer = model.layer[0]
    np.testing.assert_array_equal(layer.attention.query.weight.detach().numpy(),
                                  by_name["attention/query/kernel:0"].T)
    np.testing.assert_array_equal(layer.attention.key.weight.detach().numpy(),
                                  by_name["attention/key/kernel:0"].T)
    np.testing.assert_array_equal(layer.conv.weight.detach().numpy(),
                                  by_name["conv/kernel:0"].transpose(3, 2, 0, 1))
    np.testing.assert_array_equal(layer.attention.proj.bias.detach().numpy(),
                                  by_name["attention/proj/bias:0"][0])


def test_transfer_back_restores_the_keras_values():
    rng = np.random.default_rng(1)
    keras, model = _tf_side(rng), Model()
    transfers, _, _ = hf_transfer.plan(keras, model)
    hf_transfer.apply(transfers, "keras")
    before = {v.name: v.value.copy() for v in keras.weights}
    for v in keras.weights:
        v.assign(np.zeros(v.shape))
    hf_transfer.apply(transfers, "torch")
    for v in keras.weights:
        np.testing.assert_array_equal(v.value, before[v.name])


def test_missing_and_unknown_tensors_are_problems():
    rng = np.random.default_rng(2)
    keras = _tf_side(rng, skip=("norm/moving_mean:0",))
    keras.weights.append(Var(P + "attention/value/kernel:0", (4, 6), rng))
    _, problems, _ = hf_transfer.plan(keras, Model())
    reasons = {(p["keras"] or "").removeprefix(P) or p["torch"]: p["reason"] for p in problems}
    assert "no tensor named `toy.layer.0.attention.value.weight` or " \
           "`layer.0.attention.value.weight`" in reasons["attention/value/kernel:0"]
    assert reasons["layer.0.norm.running_mean"] == \
        "no TF variable gives this torch tensor a value"


def test_randomise_touches_biases_scales_and_statistics_only():
    rng = np.random.default_rng(3)
    keras = _tf_side(rng)
    for v in keras.weights:
        v.assign(np.zeros(v.shape))
    transfers, _, _ = hf_transfer.plan(keras, Model())
    assert hf_transfer.randomise(transfers, "keras", rng) == 9
    values = {v.name.removeprefix(P): v.value for v in keras.weights}
    assert (values["norm/moving_variance:0"] > 0).all()
    assert not values["conv/kernel:0"].any()
    assert values["attention/proj/bias:0"].any()


def test_non_hf_models_are_not_hf_pairs():
    assert not hf_transfer.is_hf_pair(KerasModel([]), Model())


# ------------------------------------------------------------------ layer by layer


class FakeLayer:
    """A stand-in tf_keras layer: the variables it created itself, and all it holds."""

    def __init__(self, own, below=()):
        self._trainable_weights, self._non_trainable_weights = list(own), []
        self.weights = [*own, *below]


def test_layers_pair_by_the_weights_they_hold():
    rng = np.random.default_rng(4)
    keras = _tf_side(rng)
    by_leaf = {v.name.removeprefix(P): v for v in keras.weights}

    def holding(*names):
        return FakeLayer([by_leaf[n] for n in names])

    query = holding("attention/query/kernel:0", "attention/query/bias:0")
    key = holding("attention/key/kernel:0", "attention/key/bias:0")
    norm = holding("norm/gamma:0", "norm/beta:0", "norm/moving_mean:0", "norm/moving_variance:0")
    # an attention layer owning the projection's weights and holding the LayerNorm's too:
    # not a leaf, so no pair (its output is not the projection's)
    mixed = FakeLayer([by_leaf["attention/proj/weight:0"], by_leaf["attention/proj/bias:0"]],
                      below=[by_leaf["attention/LayerNorm/gamma:0"]])
    keras.submodules = [key, query, norm, mixed]
    model = Model()
    transfers, _, _ = hf_transfer.plan(keras, model)
    pairs = {path: layer for _, layer, path, _ in hf_layers.layer_pairs(keras, model, transfers)}
    assert pairs["layer.0.attention.query"] is query
    assert pairs["layer.0.attention.key"] is key
    assert pairs["layer.0.norm"] is norm
    assert "layer.0.attention.proj" not in pairs


def test_channels_first_outputs_are_moved_only_for_channels_last_keras_layers():
    assert hf.keras_channels_last("channels_last", None, 4)
    assert not hf.keras_channels_last("channels_first", None, 4)
    assert hf.keras_channels_last(None, [3], 4) and hf.keras_channels_last(None, -1, 3)
    assert not hf.keras_channels_last(None, 1, 4)
    assert "Conv2d" in hf.CHANNELS_FIRST_MODULES and "Conv1D" not in hf.CHANNELS_FIRST_MODULES
