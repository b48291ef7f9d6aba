"""Keras layers (Keras 3 signatures; `version_defaults[2]` where tf.keras 2 differs).

Sources: keras 3.15.1 `keras/src/layers/...` signatures, tf_keras 2.21, and the verified
reference ../shared/reference/port-mismatches.md (sections 1-6).
"""

from __future__ import annotations

from typing import Any, Mapping

from . import Attr, LayerSpec, lower, ntuple, one_minus
from .keras_activations import (ACTIVATION_NAMESPACES, ACTIVATIONS,  # noqa: F401
                                OPS_ACTIVATIONS, VERSION_ACTIVATIONS)
from .keras_helpers import DEFAULT_DATA_FORMAT, HELPERS  # noqa: F401
from .ops import Op

DOCS = "https://keras.io/api/layers/"
# The loss argument saying the loss takes logits.
LOGITS_FLAG = "from_logits"

# Keyword arguments every Keras layer accepts through `**kwargs`.
BASE_LAYER_KWARGS = frozenset(
    {"name", "dtype", "trainable", "input_shape", "input_dim", "batch_input_shape",
     "batch_size", "autocast", "seed", "activity_regularizer"}
)

# Where `padding=`/`strides=` etc. do not vary between Conv1D/2D/3D we build specs by rank.
_CONV_PARAMS = ("filters", "kernel_size", "strides", "padding", "data_format",
                "dilation_rate", "groups", "activation", "use_bias", "kernel_initializer",
                "bias_initializer", "kernel_regularizer", "bias_regularizer",
                "activity_regularizer", "kernel_constraint", "bias_constraint")


def _conv(rank: int) -> LayerSpec:
    return LayerSpec(
        op=Op.CONV,
        params=_CONV_PARAMS,
        defaults={"strides": 1, "padding": "valid", "data_format": None, "dilation_rate": 1,
                  "groups": 1, "activation": None, "use_bias": True,
                  "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
                  "kernel_regularizer": None, "bias_regularizer": None,
                  "activity_regularizer": None, "kernel_constraint": None,
                  "bias_constraint": None},
        attrs={
            "filters": Attr("filters"),
            "kernel": Attr("kernel_size", ntuple(rank)),
            "stride": Attr("strides", ntuple(rank)),
            "padding": Attr("padding", lower),
            "dilation": Attr("dilation_rate", ntuple(rank)),
            "groups": Attr("groups"),
            "bias": Attr("use_bias"),
            "data_format": Attr("data_format"),
            "kernel_init": Attr("kernel_initializer"),
            "bias_init": Attr("bias_initializer"),
        },
        fixed={"rank": rank},
        fused_activation="activation",
        reference=DOCS + f"convolution_layers/convolution{rank}d/",
    )


def _keras_pad_pairs(value: Any, args: Mapping[str, Any]) -> Any:
    """ZeroPadding2D: 1, (sym_h, sym_w) or ((top, bottom), (left, right))."""
    if isinstance(value, int) and not isinstance(value, bool):
        return ((value, value), (value, value))
    if isinstance(value, (tuple, list)) and all(isinstance(v, int) for v in value):
        return tuple((v, v) for v in value)
    if isinstance(value, (tuple, list)):
        return tuple(tuple(v) for v in value)
    return value


def _depthwise(rank: int) -> LayerSpec:
    return LayerSpec(
        op=Op.DEPTHWISE_CONV,
        params=("kernel_size", "strides", "padding", "depth_multiplier", "data_format",
                "dilation_rate", "activation", "use_bias", "depthwise_initializer",
                "bias_initializer"),
        defaults={"strides": 1, "padding": "valid", "depth_multiplier": 1, "data_format": None,
                  "dilation_rate": 1, "activation": None, "use_bias": True,
                  "depthwise_initializer": "glorot_uniform", "bias_initializer": "zeros"},
        attrs={"kernel": Attr("kernel_size", ntuple(rank)), "stride": Attr("strides", ntuple(rank)),
               "padding": Attr("padding", lower), "depth_multiplier": Attr("depth_multiplier"),
               "dilation": Attr("dilation_rate", ntuple(rank)), "bias": Attr("use_bias"),
               "data_format": Attr("data_format")},
        fixed={"rank": rank},
        fused_activation="activation",
        reference=DOCS + f"convolution_layers/depthwise_convolution{rank}d/",
    )


def _separable(rank: int) -> LayerSpec:
    return LayerSpec(
        op=Op.SEPARABLE_CONV,
        params=("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
                "depth_multiplier", "activation", "use_bias", "depthwise_initializer",
                "pointwise_initializer", "bias_initializer"),
        defaults={"strides": 1, "padding": "valid", "data_format": None, "dilation_rate": 1,
                  "depth_multiplier": 1, "activation": None, "use_bias": True,
                  "depthwise_initializer": "glorot_uniform",
                  "pointwise_initializer": "glorot_uniform", "bias_initializer": "zeros"},
        attrs={"filters": Attr("filters"), "kernel": Attr("kernel_size", ntuple(rank)),
               "stride": Attr("strides", ntuple(rank)), "padding": Attr("padding", lower),
               "depth_multiplier": Attr("depth_multiplier"),
               "dilation": Attr("dilation_rate", ntuple(rank)), "bias": Attr("use_bias"),
               "data_format": Attr("data_format")},
        fixed={"rank": rank},
        fused_activation="activation",
        reference=DOCS + f"convolution_layers/separable_convolution{rank}d/",
    )


def _pool(kind: str, rank: int) -> LayerSpec:
    # Keras 3 MaxPooling defaults pool_size to 2; AveragePooling requires it (tf.keras 2
    # defaulted both).
    defaults: dict[str, Any] = {"strides": None, "padding": "valid", "data_format": None}
    if kind == "max":
        defaults["pool_size"] = 2
    return LayerSpec(
        op=Op.POOL,
        params=("pool_size", "strides", "padding", "data_format"),
        defaults=defaults,
        version_defaults={2: {"pool_size": 2}},
        attrs={
            "pool": Attr("pool_size", ntuple(rank)),
            # strides=None means the pool size (keras/src/layers/pooling/base_pooling.py L28)
            "stride": Attr("strides", lambda v, a: ntuple(rank)(a["pool_size"] if v is None else v, a)),
            "padding": Attr("padding", lower),
            "data_format": Attr("data_format"),
        },
        fixed={"rank": rank, "kind": kind, "count_include_pad": False, "ceil_mode": False},
        reference=DOCS + "pooling_layers/",
    )


def _global_pool(kind: str, rank: int) -> LayerSpec:
    return LayerSpec(
        op=Op.GLOBAL_POOL,
        params=("data_format", "keepdims"),
        defaults={"data_format": None, "keepdims": False},
        attrs={"data_format": Attr("data_format"), "keepdims": Attr("keepdims")},
        fixed={"rank": rank, "kind": kind},
        reference=DOCS + "pooling_layers/",
    )


_BN = LayerSpec(
    op=Op.BATCH_NORM,
    params=("axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
            "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
            "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint",
            "synchronized", "renorm", "renorm_clipping", "renorm_momentum",
            # tf.keras 2 only:
            "virtual_batch_size", "adjustment", "fused"),
    defaults={"axis": -1, "momentum": 0.99, "epsilon": 1e-3, "center": True, "scale": True,
              "beta_initializer": "zeros", "gamma_initializer": "ones",
              "moving_mean_initializer": "zeros", "moving_variance_initializer": "ones",
              "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None,
              "gamma_constraint": None, "synchronized": False, "renorm": False,
              "renorm_clipping": None, "renorm_momentum": 0.99,
              "virtual_batch_size": None, "adjustment": None, "fused": None},
    attrs={
        "axis": Attr("axis"),
        "new_stat_weight": Attr("momentum", one_minus, inverse=lambda v: one_minus(v, {})),
        "epsilon": Attr("epsilon"),
        "center": Attr("center"),
        "scale": Attr("scale"),
        "renorm": Attr("renorm"),
        "virtual_batch_size": Attr("virtual_batch_size"),
        "adjustment": Attr("adjustment", lambda v, a: None if v is None else "set"),
    },
    fixed={"track_running_stats": True},
    reference=DOCS + "normalization_layers/batch_normalization/",
)

_DENSE = LayerSpec(
    op=Op.DENSE,
    params=("units", "activation", "use_bias", "kernel_initializer", "bias_initializer",
            "kernel_regularizer", "bias_regularizer", "activity_regularizer",
            "kernel_constraint", "bias_constraint", "lora_rank"),
    defaults={"activation": None, "use_bias": True, "kernel_initializer": "glorot_uniform",
              "bias_initializer": "zeros", "kernel_regularizer": None,
              "bias_regularizer": None, "activity_regularizer": None,
              "kernel_constraint": None, "bias_constraint": None, "lora_rank": None},
    attrs={
        "units": Attr("units"),
        "bias": Attr("use_bias"),
        "kernel_init": Attr("kernel_initializer"),
        "bias_init": Attr("bias_initializer"),
    },
    fused_activation="activation",
    reference=DOCS + "core_layers/dense/",
)


def _activation_layer(kind: str, params: tuple[str, ...] = (),
                      defaults: Mapping[str, Any] | None = None,
                      attrs: Mapping[str, Attr] | None = None,
                      version_defaults: Mapping[int, Mapping[str, Any]] | None = None) -> LayerSpec:
    return LayerSpec(op=Op.ACTIVATION, params=params, defaults=defaults or {},
                     attrs=attrs or {}, fixed={"kind": kind},
                     version_defaults=version_defaults or {},
                     reference=DOCS + "activation_layers/")


def _conv_transpose(rank: int) -> LayerSpec:
    base = _conv(rank)
    return LayerSpec(
        op=Op.CONV_TRANSPOSE,
        params=("filters", "kernel_size", "strides", "padding", "output_padding", "data_format",
                "dilation_rate", "activation", "use_bias", "kernel_initializer",
                "bias_initializer", "kernel_regularizer", "bias_regularizer",
                "activity_regularizer", "kernel_constraint", "bias_constraint"),
        defaults={**base.defaults, "output_padding": None},
        attrs={**{k: v for k, v in base.attrs.items() if k != "groups"},
               "output_padding": Attr("output_padding",
                                      lambda v, a: None if v is None else ntuple(rank)(v, a))},
        fixed={"rank": rank, "groups": 1},
        fused_activation="activation",
        reference=DOCS + f"convolution_layers/convolution{rank}d_transpose/",
    )


def _spatial_dropout(rank: int) -> LayerSpec:
    return LayerSpec(op=Op.DROPOUT, params=("rate", "data_format", "seed"),
                     defaults={"data_format": None, "seed": None},
                     attrs={"rate": Attr("rate"), "data_format": Attr("data_format")},
                     fixed={"variant": "channels", "rank": rank},
                     reference=DOCS + f"regularization_layers/spatial_dropout{rank}d/")


# Recurrent layers (Keras 3 signatures; tf.keras 2 in TF2 has the same defaults, the
# multi-backend Keras 2.x defaults hard_sigmoid / reset_after=False are not assumed).
_RNN_COMMON = ("kernel_initializer", "recurrent_initializer", "bias_initializer",
               "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
               "activity_regularizer", "kernel_constraint", "recurrent_constraint",
               "bias_constraint", "dropout", "recurrent_dropout", "seed")
_RNN_TAIL = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")
_RNN_DEFAULTS = {"activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
                 "kernel_initializer": "glorot_uniform", "recurrent_initializer": "orthogonal",
                 "bias_initializer": "zeros", "unit_forget_bias": True,
                 "kernel_regularizer": None, "recurrent_regularizer": None,
                 "bias_regularizer": None, "activity_regularizer": None,
                 "kernel_constraint": None, "recurrent_constraint": None,
                 "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0,
                 "seed": None, "return_sequences": False, "return_state": False,
                 "go_backwards": False, "stateful": False, "unroll": False,
                 "reset_after": True, "use_cudnn": "auto", "time_major": False}


def _activation_name(value: Any, args: Mapping[str, Any]) -> Any:
    return value.lower() if isinstance(value, str) else value


def _rnn(cell: str) -> LayerSpec:
    if cell == "lstm":
        params = ("units", "activation", "recurrent_activation", "use_bias",
                  *_RNN_COMMON[:3], "unit_forget_bias", *_RNN_COMMON[3:], *_RNN_TAIL,
                  "use_cudnn")
    elif cell == "gru":
        params = ("units", "activation", "recurrent_activation", "use_bias", *_RNN_COMMON,
                  *_RNN_TAIL, "reset_after", "use_cudnn")
    else:
        params = ("units", "activation", "use_bias", *_RNN_COMMON[:-1], *_RNN_TAIL, "seed")
    attrs = {"units": Attr("units"), "activation": Attr("activation", _activation_name),
             "bias": Attr("use_bias"), "return_sequences": Attr("return_sequences"),
             "return_state": Attr("return_state"), "go_backwards": Attr("go_backwards"),
             "stateful": Attr("stateful"), "dropout": Attr("dropout"),
             "recurrent_dropout": Attr("recurrent_dropout"),
             "batch_first": Attr("time_major", lambda v, a: not v)}
    if cell != "simple":
        attrs["recurrent_activation"] = Attr("recurrent_activation", _activation_name)
    if cell == "gru":
        attrs["reset_after"] = Attr("reset_after")
    fixed = {"cell": cell, "num_layers": 1, "bidirectional": False}
    if cell == "simple":
        fixed["recurrent_activation"] = None
    return LayerSpec(op=Op.RNN, params=params, defaults=_RNN_DEFAULTS, attrs=attrs,
                     fixed=fixed, reference=DOCS + f"recurrent_layers/{cell if cell != 'simple' else 'simple_rnn'}/")


LAYERS: dict[str, LayerSpec] = {
    "Conv1D": _conv(1),
    "Conv2D": _conv(2),
    "Conv3D": _conv(3),
    "Dense": _DENSE,
    "BatchNormalization": _BN,
    "Flatten": LayerSpec(op=Op.FLATTEN, params=("data_format",), defaults={"data_format": None},
                         attrs={"data_format": Attr("data_format")},
                         reference=DOCS + "reshaping_layers/flatten/"),
    "Dropout": LayerSpec(op=Op.DROPOUT, params=("rate", "noise_shape", "seed"),
                         defaults={"noise_shape": None, "seed": None},
                         attrs={"rate": Attr("rate")}, fixed={"variant": "elements"},
                         reference=DOCS + "regularization_layers/dropout/"),
    "MaxPooling1D": _pool("max", 1), "MaxPooling2D": _pool("max", 2), "MaxPooling3D": _pool("max", 3),
    "AveragePooling1D": _pool("avg", 1), "AveragePooling2D": _pool("avg", 2),
    "AveragePooling3D": _pool("avg", 3),
    "GlobalAveragePooling1D": _global_pool("avg", 1), "GlobalAveragePooling2D": _global_pool("avg", 2),
    "GlobalAveragePooling3D": _global_pool("avg", 3), "GlobalMaxPooling1D": _global_pool("max", 1),
    "GlobalMaxPooling2D": _global_pool("max", 2), "GlobalMaxPooling3D": _global_pool("max", 3),
    "Activation": LayerSpec(op=Op.ACTIVATION, params=("activation",), attrs={},
                            reference=DOCS + "core_layers/activation/"),
    "ReLU": _activation_layer("relu", ("max_value", "negative_slope", "threshold"),
                              {"max_value": None, "negative_slope": 0.0, "threshold": 0.0},
                              {"max_value": Attr("max_value"),
                               "negative_slope": Attr("negative_slope"),
                               "threshold": Attr("threshold")}),
    # Layer default 0.3 in Keras 2 and 3 (the string 'leaky_relu' is 0.2): reference §6.
    "LeakyReLU": _activation_layer("leaky_relu", ("negative_slope",), {"negative_slope": 0.3},
                                   {"negative_slope": Attr("negative_slope")}),
    "Softmax": _activation_layer("softmax", ("axis",), {"axis": -1}, {"axis": Attr("axis")}),
    "ELU": _activation_layer("elu", ("alpha",), {"alpha": 1.0}, {"alpha": Attr("alpha")}),
    "DepthwiseConv1D": _depthwise(1), "DepthwiseConv2D": _depthwise(2),
    "SeparableConv1D": _separable(1), "SeparableConv2D": _separable(2),
    "LayerNormalization": LayerSpec(
        op=Op.LAYER_NORM,
        params=("axis", "epsilon", "center", "scale", "rms_scaling"),
        defaults={"axis": -1, "epsilon": 1e-3, "center": True, "scale": True,
                  "rms_scaling": False},
        attrs={"axis": Attr("axis"), "epsilon": Attr("epsilon"), "center": Attr("center"),
               "scale": Attr("scale"), "rms_scaling": Attr("rms_scaling")},
        reference=DOCS + "normalization_layers/layer_normalization/"),
    "GroupNormalization": LayerSpec(
        op=Op.GROUP_NORM,
        params=("groups", "axis", "epsilon", "center", "scale"),
        defaults={"groups": 32, "axis": -1, "epsilon": 1e-3, "center": True, "scale": True},
        attrs={"groups": Attr("groups"), "axis": Attr("axis"), "epsilon": Attr("epsilon"),
               "center": Attr("center"), "scale": Attr("scale")},
        reference=DOCS + "normalization_layers/group_normalization/"),
    # Preprocessing: Normalization keeps mean, variance (per feature) and a count as
    # non-trainable weights (reference §15: 7 for 3 features).
    "Normalization": LayerSpec(op=Op.NORMALIZATION, params=("axis", "mean", "variance", "invert"),
                               defaults={"axis": -1, "mean": None, "variance": None,
                                         "invert": False},
                               attrs={"axis": Attr("axis"), "invert": Attr("invert"),
                                      # given mean/variance are constants, not weights
                                      "adapted": Attr("mean", lambda v, a: v is None)}),
    "Rescaling": LayerSpec(op=Op.RESCALE, params=("scale", "offset"), defaults={"offset": 0.0},
                           attrs={"scale": Attr("scale"), "offset": Attr("offset")}),
    "Lambda": LayerSpec(op=Op.LAMBDA, params=("function", "output_shape", "mask", "arguments"),
                        defaults={"output_shape": None, "mask": None, "arguments": None},
                        attrs={"output_shape": Attr("output_shape")}),
    "Cropping2D": LayerSpec(op=Op.CROP, params=("cropping", "data_format"),
                            defaults={"cropping": ((0, 0), (0, 0)), "data_format": None},
                            attrs={"crops": Attr("cropping", _keras_pad_pairs),
                                   "data_format": Attr("data_format")}),
    "Identity": LayerSpec(op=Op.IDENTITY),
    "Add": LayerSpec(op=Op.ADD),
    "Multiply": LayerSpec(op=Op.MULTIPLY),
    "Subtract": LayerSpec(op=Op.ELEMENTWISE, fixed={"operator": "-"}),
    "Average": LayerSpec(op=Op.ELEMENTWISE, fixed={"operator": "mean"}),
    "Maximum": LayerSpec(op=Op.ELEMENTWISE, fixed={"operator": "max"}),
    "Concatenate": LayerSpec(op=Op.CONCAT, params=("axis",), defaults={"axis": -1},
                             attrs={"axis": Attr("axis")}),
    "Reshape": LayerSpec(op=Op.RESHAPE, params=("target_shape",),
                         attrs={"target_shape": Attr("target_shape")}),
    "Permute": LayerSpec(op=Op.PERMUTE, params=("dims",), attrs={"dims": Attr("dims")}),
    "ZeroPadding2D": LayerSpec(op=Op.PAD, params=("padding", "data_format"),
                               defaults={"padding": (1, 1), "data_format": None},
                               attrs={"explicit_pads": Attr("padding", _keras_pad_pairs),
                                      "data_format": Attr("data_format")},
                               fixed={"mode": "constant", "value": 0.0}),
    "Conv1DTranspose": _conv_transpose(1), "Conv2DTranspose": _conv_transpose(2),
    "Conv3DTranspose": _conv_transpose(3),
    "SpatialDropout1D": _spatial_dropout(1), "SpatialDropout2D": _spatial_dropout(2),
    "SpatialDropout3D": _spatial_dropout(3),
    "GaussianDropout": LayerSpec(op=Op.DROPOUT, params=("rate", "seed"), defaults={"seed": None},
                                 attrs={"rate": Attr("rate")}, fixed={"variant": "gaussian"}),
    "AlphaDropout": LayerSpec(op=Op.DROPOUT, params=("rate", "noise_shape", "seed"),
                              defaults={"noise_shape": None, "seed": None},
                              attrs={"rate": Attr("rate")}, fixed={"variant": "alpha"}),
    "GaussianNoise": LayerSpec(op=Op.DROPOUT, params=("stddev", "seed"), defaults={"seed": None},
                               attrs={"stddev": Attr("stddev")}, fixed={"variant": "noise"}),
    "Embedding": LayerSpec(
        op=Op.EMBEDDING,
        params=("input_dim", "output_dim", "embeddings_initializer", "embeddings_regularizer",
                "embeddings_constraint", "mask_zero", "weights", "lora_rank", "lora_alpha",
                "input_length"),
        defaults={"embeddings_initializer": "uniform", "embeddings_regularizer": None,
                  "embeddings_constraint": None, "mask_zero": False, "weights": None,
                  "lora_rank": None, "lora_alpha": None, "input_length": None},
        attrs={"num_embeddings": Attr("input_dim"), "embedding_dim": Attr("output_dim"),
               "mask_zero": Attr("mask_zero"), "embedding_init": Attr("embeddings_initializer")},
        fixed={"padding_idx": None},
        reference=DOCS + "core_layers/embedding/"),
    "UpSampling1D": LayerSpec(op=Op.UPSAMPLE, params=("size",), defaults={"size": 2},
                              attrs={"scale": Attr("size", ntuple(1))},
                              fixed={"mode": "nearest", "align_corners": False, "rank": 1},
                              reference=DOCS + "reshaping_layers/up_sampling1d/"),
    "UpSampling2D": LayerSpec(op=Op.UPSAMPLE, params=("size", "data_format", "interpolation"),
                              defaults={"size": (2, 2), "data_format": None,
                                        "interpolation": "nearest"},
                              attrs={"scale": Attr("size", ntuple(2)),
                                     "mode": Attr("interpolation", lower),
                                     "data_format": Attr("data_format")},
                              # TF2 image.resize uses half-pixel centres: torch align_corners=False
                              fixed={"align_corners": False, "rank": 2},
                              reference=DOCS + "reshaping_layers/up_sampling2d/"),
    "PReLU": LayerSpec(op=Op.ACTIVATION,
                       params=("alpha_initializer", "alpha_regularizer", "alpha_constraint",
                               "shared_axes"),
                       defaults={"alpha_initializer": "Zeros", "alpha_regularizer": None,
                                 "alpha_constraint": None, "shared_axes": None},
                       attrs={"shared_axes": Attr("shared_axes",
                                                  lambda v, a: tuple(v) if isinstance(v, list) else
                                                  (v,) if isinstance(v, int) else v),
                              "alpha_init": Attr("alpha_initializer", lower)},
                       fixed={"kind": "prelu"},
                       reference=DOCS + "activation_layers/prelu/"),
    "RMSNormalization": LayerSpec(op=Op.RMS_NORM, params=("axis", "epsilon"),
                                  defaults={"axis": -1, "epsilon": 1e-6},
                                  attrs={"axis": Attr("axis"), "epsilon": Attr("epsilon")},
                                  fixed={"scale": True, "center": False},
                                  reference=DOCS + "normalization_layers/rms_normalization/"),
    "SimpleRNN": _rnn("simple"), "LSTM": _rnn("lstm"), "GRU": _rnn("gru"),
    "MultiHeadAttention": LayerSpec(
        op=Op.ATTENTION,
        params=("num_heads", "key_dim", "value_dim", "dropout", "use_bias", "output_shape",
                "attention_axes", "sliding_window", "flash_attention", "kernel_initializer",
                "bias_initializer", "kernel_regularizer", "bias_regularizer",
                "activity_regularizer", "kernel_constraint", "bias_constraint", "use_gate",
                "seed"),
        defaults={"value_dim": None, "dropout": 0.0, "use_bias": True, "output_shape": None,
                  "attention_axes": None, "sliding_window": None, "flash_attention": None,
                  "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
                  "kernel_regularizer": None, "bias_regularizer": None,
                  "activity_regularizer": None, "kernel_constraint": None,
                  "bias_constraint": None, "use_gate": False, "seed": None},
        # key_dim is per head; torch's embed_dim is the total (reference §12)
        attrs={"num_heads": Attr("num_heads"), "key_dim": Attr("key_dim"),
               "value_dim": Attr("value_dim"), "bias": Attr("use_bias"),
               "output_shape": Attr("output_shape"), "use_gate": Attr("use_gate")},
        fixed={"batch_first": True},
        reference=DOCS + "attention_layers/multi_head_attention/"),
    # A wrapper: the front end applies the wrapped layer's spec with these attrs on top.
    "Bidirectional": LayerSpec(op=Op.WRAPPER, params=("layer", "merge_mode", "weights",
                                                     "backward_layer"),
                               defaults={"merge_mode": "concat", "weights": None,
                                         "backward_layer": None},
                               attrs={"merge_mode": Attr("merge_mode")},
                               fixed={"bidirectional": True},
                               reference=DOCS + "recurrent_layers/bidirectional/"),
    "InputLayer": LayerSpec(op=Op.INPUT, params=("shape",), defaults={"shape": None}),
}

# Alternative class names Keras exports for the same class; layers are named (and
# looked up) by the class's own name, as `model.summary()` shows them.
CLASS_ALIASES: dict[str, str] = {
    "MaxPool1D": "MaxPooling1D", "MaxPool2D": "MaxPooling2D", "MaxPool3D": "MaxPooling3D",
    "AvgPool1D": "AveragePooling1D", "AvgPool2D": "AveragePooling2D",
    "AvgPool3D": "AveragePooling3D",
    "GlobalAvgPool1D": "GlobalAveragePooling1D", "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalAvgPool3D": "GlobalAveragePooling3D", "GlobalMaxPool1D": "GlobalMaxPooling1D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D", "GlobalMaxPool3D": "GlobalMaxPooling3D",
}

# Functional forms of the merge layers: `layers.add([x, y])`.
FUNCTIONS: dict[str, LayerSpec] = {
    "add": LayerSpec(op=Op.ADD, params=("inputs",)),
    "multiply": LayerSpec(op=Op.MULTIPLY, params=("inputs",)),
    "subtract": LayerSpec(op=Op.ELEMENTWISE, params=("inputs",), fixed={"operator": "-"}),
    "average": LayerSpec(op=Op.ELEMENTWISE, params=("inputs",), fixed={"operator": "mean"}),
    "maximum": LayerSpec(op=Op.ELEMENTWISE, params=("inputs",), fixed={"operator": "max"}),
    "minimum": LayerSpec(op=Op.ELEMENTWISE, params=("inputs",), fixed={"operator": "min"}),
    "concatenate": LayerSpec(op=Op.CONCAT, params=("inputs", "axis"), defaults={"axis": -1},
                             attrs={"axis": Attr("axis")}),
}

# Keras parameter aliases (Keras 3 still accepts the old spelling).
ALIASES: dict[str, dict[str, str]] = {
    "LeakyReLU": {"alpha": "negative_slope"},
}

# Names under which the model classes and `Input` are reachable.
MODEL_CLASSES = frozenset({"Model", "Functional"})
SEQUENTIAL_CLASSES = frozenset({"Sequential"})
INPUT_FUNCTIONS = frozenset({"Input"})
LAYER_BASES = frozenset({"Layer"})

# Import roots that mean "this is Keras", longest first; what follows is the Keras path.
ROOTS = ("tensorflow.python.keras", "tensorflow.keras", "tf_keras", "keras.src", "keras")

# The name keras.Input(...) gives its layer when the call names none.
INPUT_NAME = "input_layer"
