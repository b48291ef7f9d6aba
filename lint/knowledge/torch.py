"""PyTorch modules, functional calls and tensor methods (torch 2.x signatures).

Sources: torch 2.13 `torch/nn/modules/*.py`, `torch/nn/functional.py`, and the verified
reference ../shared/reference/port-mismatches.md.
"""

from __future__ import annotations

from typing import Any, Mapping

from . import Attr, LayerSpec, ntuple
from .ops import Op
from .torch_values import (ARITHMETIC_METHODS, CONSTANT_FUNCTIONS, IDENTITY_METHODS, INIT_NAMESPACE,  # noqa: F401
                           INPLACE_INIT_METHODS, PARAMETER_CLASSES, SHAPE_METHODS,
                           SIZE_OR_DATA_FACTORIES, TENSOR_FACTORIES, factory_dims,
                           weight_shape)

DOCS = "https://pytorch.org/docs/stable/generated/"

# Losses that apply an activation to logits themselves, by spelling -> that activation.
LOGITS_LOSSES = {
    "CrossEntropyLoss": "softmax", "cross_entropy": "softmax",
    "BCEWithLogitsLoss": "sigmoid", "binary_cross_entropy_with_logits": "sigmoid",
}


def _torch_padding(rank: int):
    def convert(value: Any, args: Mapping[str, Any]) -> Any:
        if isinstance(value, str):
            return value.lower()
        if isinstance(value, int) and not isinstance(value, bool):
            return tuple((value, value) for _ in range(rank))
        if isinstance(value, (tuple, list)) and all(isinstance(v, int) for v in value):
            return tuple((v, v) for v in value)
        return value

    return convert


def _torch_pad_pairs(value: Any, args: Mapping[str, Any]) -> Any:
    """F.pad's (left, right, top, bottom): last dimension first -> ((top, bottom), (left, right))."""
    if isinstance(value, int) and not isinstance(value, bool):
        return ((value, value), (value, value))
    if isinstance(value, (tuple, list)) and len(value) % 2 == 0:
        pairs = [(value[i], value[i + 1]) for i in range(0, len(value), 2)]
        return tuple(reversed(pairs))
    return value


def _conv(rank: int) -> LayerSpec:
    return LayerSpec(
        op=Op.CONV,
        params=("in_channels", "out_channels", "kernel_size", "stride", "padding",
                "dilation", "groups", "bias", "padding_mode", "device", "dtype"),
        defaults={"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True,
                  "padding_mode": "zeros", "device": None, "dtype": None},
        attrs={
            "in_channels": Attr("in_channels"),
            "filters": Attr("out_channels"),
            "kernel": Attr("kernel_size", ntuple(rank)),
            "stride": Attr("stride", ntuple(rank)),
            "padding": Attr("padding", _torch_padding(rank)),
            "dilation": Attr("dilation", ntuple(rank)),
            "groups": Attr("groups"),
            "bias": Attr("bias"),
            "padding_mode": Attr("padding_mode"),
        },
        fixed={"rank": rank, "kernel_init": "kaiming_uniform(a=sqrt(5))",
               "bias_init": "uniform(+-1/sqrt(fan_in))"},
        reference=DOCS + f"torch.nn.Conv{rank}d.html",
    )


def _bn(rank: int) -> LayerSpec:
    return LayerSpec(
        op=Op.BATCH_NORM,
        params=("num_features", "eps", "momentum", "affine", "track_running_stats",
                "device", "dtype"),
        defaults={"eps": 1e-5, "momentum": 0.1, "affine": True, "track_running_stats": True,
                  "device": None, "dtype": None},
        attrs={
            "num_features": Attr("num_features"),
            "epsilon": Attr("eps"),
            # torch momentum already weighs the new statistic; None = cumulative average
            "new_stat_weight": Attr("momentum"),
            "center": Attr("affine"),
            "scale": Attr("affine"),
            "track_running_stats": Attr("track_running_stats"),
        },
        fixed={"rank": rank},
        reference=DOCS + f"torch.nn.BatchNorm{rank}d.html",
    )


def _pool(kind: str, rank: int) -> LayerSpec:
    if kind == "max":
        params = ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")
        defaults = {"stride": None, "padding": 0, "dilation": 1, "return_indices": False,
                    "ceil_mode": False}
        fixed = {"rank": rank, "kind": kind, "count_include_pad": False}
    else:
        params = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                  "divisor_override")
        defaults = {"stride": None, "padding": 0, "ceil_mode": False,
                    "count_include_pad": True, "divisor_override": None}
        fixed = {"rank": rank, "kind": kind}
    attrs = {
        "pool": Attr("kernel_size", ntuple(rank)),
        # stride=None means the kernel size
        "stride": Attr("stride", lambda v, a: ntuple(rank)(a["kernel_size"] if v is None else v, a)),
        "padding": Attr("padding", _torch_padding(rank)),
        "ceil_mode": Attr("ceil_mode"),
    }
    if kind == "avg":
        attrs["count_include_pad"] = Attr("count_include_pad")
    return LayerSpec(op=Op.POOL, params=params, defaults=defaults, attrs=attrs, fixed=fixed,
                     reference=DOCS + f"torch.nn.{kind.capitalize()}Pool{rank}d.html")


def _act(kind: str, params: tuple[str, ...] = ("inplace",),
         defaults: Mapping[str, Any] | None = None,
         attrs: Mapping[str, Attr] | None = None) -> LayerSpec:
    return LayerSpec(op=Op.ACTIVATION, params=params,
                     defaults=defaults if defaults is not None else {"inplace": False},
                     attrs=attrs or {}, fixed={"kind": kind},
                     reference=DOCS + "torch.nn.ReLU.html")


def _conv_transpose(rank: int) -> LayerSpec:
    base = _conv(rank)
    return LayerSpec(
        op=Op.CONV_TRANSPOSE,
        params=("in_channels", "out_channels", "kernel_size", "stride", "padding",
                "output_padding", "groups", "bias", "dilation", "padding_mode", "device",
                "dtype"),
        defaults={**base.defaults, "output_padding": 0},
        attrs={**base.attrs, "output_padding": Attr("output_padding", ntuple(rank))},
        fixed=base.fixed,
        reference=DOCS + f"torch.nn.ConvTranspose{rank}d.html",
    )


def _instance_norm(rank: int) -> LayerSpec:
    # InstanceNorm is GroupNorm with one channel per group; unlike BatchNorm it has no
    # affine parameters and no running statistics by default (reference §2).
    return LayerSpec(
        op=Op.GROUP_NORM,
        params=("num_features", "eps", "momentum", "affine", "track_running_stats", "device",
                "dtype"),
        defaults={"eps": 1e-5, "momentum": 0.1, "affine": False, "track_running_stats": False,
                  "device": None, "dtype": None},
        attrs={"num_features": Attr("num_features"), "epsilon": Attr("eps"),
               "center": Attr("affine"), "scale": Attr("affine"),
               "track_running_stats": Attr("track_running_stats")},
        fixed={"groups": -1, "rank": rank},
        reference=DOCS + f"torch.nn.InstanceNorm{rank}d.html",
    )


def _rnn(cell: str) -> LayerSpec:
    """nn.LSTM / nn.GRU / nn.RNN: always reset-after GRU, sigmoid/tanh gates, full output
    sequence plus final states, two bias vectors (reference §10)."""
    if cell == "simple":
        params = ("input_size", "hidden_size", "num_layers", "nonlinearity", "bias",
                  "batch_first", "dropout", "bidirectional", "device", "dtype")
    else:
        params = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                  "bidirectional", *(("proj_size",) if cell == "lstm" else ()), "device", "dtype")
    attrs = {"input_size": Attr("input_size"), "units": Attr("hidden_size"),
             "num_layers": Attr("num_layers"), "bias": Attr("bias"),
             "batch_first": Attr("batch_first"), "layer_dropout": Attr("dropout"),
             "bidirectional": Attr("bidirectional")}
    fixed: dict[str, Any] = {"cell": cell, "return_sequences": True, "merge_mode": "concat"}
    if cell == "simple":
        attrs["activation"] = Attr("nonlinearity")
        fixed["recurrent_activation"] = None
    else:
        fixed.update(activation="tanh", recurrent_activation="sigmoid")
    if cell == "lstm":
        attrs["proj_size"] = Attr("proj_size")
    if cell == "gru":
        fixed["reset_after"] = True
    return LayerSpec(op=Op.RNN, params=params,
                     defaults={"num_layers": 1, "nonlinearity": "tanh", "bias": True,
                               "batch_first": False, "dropout": 0.0, "bidirectional": False,
                               "proj_size": 0, "device": None, "dtype": None},
                     attrs=attrs, fixed=fixed, outputs=2,
                     reference=DOCS + f"torch.nn.{ {'lstm': 'LSTM', 'gru': 'GRU', 'simple': 'RNN'}[cell]}.html")


def _upsample(mode: str | None, align_corners: bool | None = None) -> LayerSpec:
    attrs = {"scale": Attr("scale_factor", ntuple(2)), "size": Attr("size")}
    fixed: dict[str, Any] = {"rank": 2}
    if mode is None:
        attrs["mode"] = Attr("mode")
        attrs["align_corners"] = Attr("align_corners", lambda v, a: bool(v))
        params: tuple[str, ...] = ("size", "scale_factor", "mode", "align_corners",
                                   "recompute_scale_factor")
    else:
        fixed.update(mode=mode, align_corners=bool(align_corners))
        params = ("size", "scale_factor")
    return LayerSpec(op=Op.UPSAMPLE, params=params,
                     defaults={"size": None, "scale_factor": None, "mode": "nearest",
                               "align_corners": None, "recompute_scale_factor": None},
                     attrs=attrs, fixed=fixed, reference=DOCS + "torch.nn.Upsample.html")


# nn.RMSNorm(eps=None) uses torch.finfo(dtype).eps: 1.19e-7 for float32 (reference §2).
FLOAT32_EPS = 1.1920928955078125e-07


_SOFTMAX_ATTRS = {"axis": Attr("dim")}

# torch.nn.* module classes.
MODULES: dict[str, LayerSpec] = {
    "Conv1d": _conv(1), "Conv2d": _conv(2), "Conv3d": _conv(3),
    "Linear": LayerSpec(
        op=Op.DENSE,
        params=("in_features", "out_features", "bias", "device", "dtype"),
        defaults={"bias": True, "device": None, "dtype": None},
        attrs={"in_features": Attr("in_features"), "units": Attr("out_features"),
               "bias": Attr("bias")},
        fixed={"kernel_init": "kaiming_uniform(a=sqrt(5))",
               "bias_init": "uniform(+-1/sqrt(fan_in))"},
        reference=DOCS + "torch.nn.Linear.html",
    ),
    "BatchNorm1d": _bn(1), "BatchNorm2d": _bn(2), "BatchNorm3d": _bn(3),
    "Flatten": LayerSpec(op=Op.FLATTEN, params=("start_dim", "end_dim"),
                         defaults={"start_dim": 1, "end_dim": -1},
                         attrs={"start_dim": Attr("start_dim"), "end_dim": Attr("end_dim")},
                         reference=DOCS + "torch.nn.Flatten.html"),
    "Dropout": LayerSpec(op=Op.DROPOUT, params=("p", "inplace"), defaults={"p": 0.5, "inplace": False},
                         attrs={"rate": Attr("p")}, fixed={"variant": "elements"},
                         reference=DOCS + "torch.nn.Dropout.html"),
    "MaxPool1d": _pool("max", 1), "MaxPool2d": _pool("max", 2), "MaxPool3d": _pool("max", 3),
    "AvgPool1d": _pool("avg", 1), "AvgPool2d": _pool("avg", 2), "AvgPool3d": _pool("avg", 3),
    "AdaptiveAvgPool2d": LayerSpec(op=Op.ADAPTIVE_POOL, params=("output_size",),
                                   attrs={"output_size": Attr("output_size", ntuple(2))},
                                   fixed={"kind": "avg", "rank": 2}),
    "AdaptiveAvgPool1d": LayerSpec(op=Op.ADAPTIVE_POOL, params=("output_size",),
                                   attrs={"output_size": Attr("output_size", ntuple(1))},
                                   fixed={"kind": "avg", "rank": 1}),
    "AdaptiveMaxPool1d": LayerSpec(op=Op.ADAPTIVE_POOL, params=("output_size", "return_indices"),
                                   defaults={"return_indices": False},
                                   attrs={"output_size": Attr("output_size", ntuple(1))},
                                   fixed={"kind": "max", "rank": 1}),
    "AdaptiveMaxPool2d": LayerSpec(op=Op.ADAPTIVE_POOL, params=("output_size", "return_indices"),
                                   defaults={"return_indices": False},
                                   attrs={"output_size": Attr("output_size", ntuple(2))},
                                   fixed={"kind": "max", "rank": 2}),
    "ReLU": _act("relu"),
    "ReLU6": _act("relu6"),
    "Sigmoid": _act("sigmoid", (), {}),
    "Tanh": _act("tanh", (), {}),
    "SiLU": _act("silu"),
    "Mish": _act("mish"),
    "SELU": _act("selu"),
    "Softplus": _act("softplus", ("beta", "threshold"), {"beta": 1.0, "threshold": 20.0}),
    "Softsign": _act("softsign", (), {}),
    "Hardsigmoid": _act("hard_sigmoid"),
    "Hardswish": _act("hard_swish"),
    "ELU": _act("elu", ("alpha", "inplace"), {"alpha": 1.0, "inplace": False},
                {"alpha": Attr("alpha")}),
    "LeakyReLU": _act("leaky_relu", ("negative_slope", "inplace"),
                      {"negative_slope": 0.01, "inplace": False},
                      {"negative_slope": Attr("negative_slope")}),
    "GELU": _act("gelu", ("approximate",), {"approximate": "none"},
                 {"approximate": Attr("approximate", lambda v, a: v != "none")}),
    "Softmax": _act("softmax", ("dim",), {"dim": None}, _SOFTMAX_ATTRS),
    "LogSoftmax": _act("log_softmax", ("dim",), {"dim": None}, _SOFTMAX_ATTRS),
    "Identity": LayerSpec(op=Op.IDENTITY),
    "MultiheadAttention": LayerSpec(
        op=Op.ATTENTION,
        params=("embed_dim", "num_heads", "dropout", "bias", "add_bias_kv", "add_zero_attn",
                "kdim", "vdim", "batch_first", "device", "dtype"),
        defaults={"dropout": 0.0, "bias": True, "add_bias_kv": False, "add_zero_attn": False,
                  "kdim": None, "vdim": None, "batch_first": False, "device": None, "dtype": None},
        attrs={"embed_dim": Attr("embed_dim"), "num_heads": Attr("num_heads"),
               "bias": Attr("bias"), "batch_first": Attr("batch_first"),
               "kdim": Attr("kdim"), "vdim": Attr("vdim"), "add_bias_kv": Attr("add_bias_kv")},
        outputs=2,  # (attn_output, attn_weights)
        reference=DOCS + "torch.nn.MultiheadAttention.html"),
    "LayerNorm": LayerSpec(
        op=Op.LAYER_NORM,
        params=("normalized_shape", "eps", "elementwise_affine", "bias", "device", "dtype"),
        defaults={"eps": 1e-5, "elementwise_affine": True, "bias": True, "device": None,
                  "dtype": None},
        attrs={"normalized_shape": Attr("normalized_shape", lambda v, a: (v,) if isinstance(v, int) else v),
               "epsilon": Attr("eps"), "scale": Attr("elementwise_affine"),
               "center": Attr("bias", lambda v, a: bool(v) and bool(a["elementwise_affine"]))},
        reference=DOCS + "torch.nn.LayerNorm.html"),
    "GroupNorm": LayerSpec(
        op=Op.GROUP_NORM,
        params=("num_groups", "num_channels", "eps", "affine", "device", "dtype"),
        defaults={"eps": 1e-5, "affine": True, "device": None, "dtype": None},
        attrs={"groups": Attr("num_groups"), "num_features": Attr("num_channels"),
               "epsilon": Attr("eps"), "center": Attr("affine"), "scale": Attr("affine")},
        reference=DOCS + "torch.nn.GroupNorm.html"),
    "ConvTranspose1d": _conv_transpose(1), "ConvTranspose2d": _conv_transpose(2),
    "ConvTranspose3d": _conv_transpose(3),
    "InstanceNorm1d": _instance_norm(1), "InstanceNorm2d": _instance_norm(2),
    "InstanceNorm3d": _instance_norm(3),
    "RMSNorm": LayerSpec(
        op=Op.RMS_NORM,
        params=("normalized_shape", "eps", "elementwise_affine", "device", "dtype"),
        defaults={"eps": None, "elementwise_affine": True, "device": None, "dtype": None},
        attrs={"normalized_shape": Attr("normalized_shape", lambda v, a: (v,) if isinstance(v, int) else v),
               "epsilon": Attr("eps", lambda v, a: FLOAT32_EPS if v is None else v),
               "scale": Attr("elementwise_affine")},
        fixed={"center": False},
        reference=DOCS + "torch.nn.RMSNorm.html"),
    "Dropout1d": LayerSpec(op=Op.DROPOUT, params=("p", "inplace"), defaults={"p": 0.5, "inplace": False},
                           attrs={"rate": Attr("p")}, fixed={"variant": "channels", "rank": 1}),
    "Dropout2d": LayerSpec(op=Op.DROPOUT, params=("p", "inplace"), defaults={"p": 0.5, "inplace": False},
                           attrs={"rate": Attr("p")}, fixed={"variant": "channels", "rank": 2}),
    "Dropout3d": LayerSpec(op=Op.DROPOUT, params=("p", "inplace"), defaults={"p": 0.5, "inplace": False},
                           attrs={"rate": Attr("p")}, fixed={"variant": "channels", "rank": 3}),
    "AlphaDropout": LayerSpec(op=Op.DROPOUT, params=("p", "inplace"), defaults={"p": 0.5, "inplace": False},
                              attrs={"rate": Attr("p")}, fixed={"variant": "alpha"}),
    "Embedding": LayerSpec(
        op=Op.EMBEDDING,
        params=("num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type",
                "scale_grad_by_freq", "sparse", "_weight", "_freeze", "device", "dtype"),
        defaults={"padding_idx": None, "max_norm": None, "norm_type": 2.0,
                  "scale_grad_by_freq": False, "sparse": False, "_weight": None,
                  "_freeze": False, "device": None, "dtype": None},
        attrs={"num_embeddings": Attr("num_embeddings"), "embedding_dim": Attr("embedding_dim"),
               "padding_idx": Attr("padding_idx"), "max_norm": Attr("max_norm")},
        fixed={"mask_zero": False, "embedding_init": "normal(0, 1)"},
        reference=DOCS + "torch.nn.Embedding.html"),
    "Upsample": _upsample(None),
    "UpsamplingNearest2d": _upsample("nearest"),
    # UpsamplingBilinear2d is align_corners=True, unlike Keras's half-pixel bilinear.
    "UpsamplingBilinear2d": _upsample("bilinear", align_corners=True),
    "PReLU": LayerSpec(op=Op.ACTIVATION, params=("num_parameters", "init", "device", "dtype"),
                       defaults={"num_parameters": 1, "init": 0.25, "device": None, "dtype": None},
                       attrs={"num_parameters": Attr("num_parameters"), "alpha_init": Attr("init")},
                       fixed={"kind": "prelu"}, reference=DOCS + "torch.nn.PReLU.html"),
    "LSTM": _rnn("lstm"), "GRU": _rnn("gru"), "RNN": _rnn("simple"),
    "ZeroPad2d": LayerSpec(op=Op.PAD, params=("padding",),
                           attrs={"explicit_pads": Attr("padding", _torch_pad_pairs)},
                           fixed={"mode": "constant", "value": 0.0}),
}

# torch.nn.functional.* (and the same names on `torch.` where they exist).
FUNCTIONS: dict[str, LayerSpec] = {
    "relu": _act("relu", ("input", "inplace"), {"inplace": False}),
    "relu_": _act("relu", ("input",), {}),
    "relu6": _act("relu6", ("input", "inplace"), {"inplace": False}),
    "sigmoid": _act("sigmoid", ("input",), {}),
    "tanh": _act("tanh", ("input",), {}),
    "silu": _act("silu", ("input", "inplace"), {"inplace": False}),
    "gelu": _act("gelu", ("input", "approximate"), {"approximate": "none"},
                 {"approximate": Attr("approximate", lambda v, a: v != "none")}),
    "elu": _act("elu", ("input", "alpha", "inplace"), {"alpha": 1.0, "inplace": False},
                {"alpha": Attr("alpha")}),
    "leaky_relu": _act("leaky_relu", ("input", "negative_slope", "inplace"),
                       {"negative_slope": 0.01, "inplace": False},
                       {"negative_slope": Attr("negative_slope")}),
    "softmax": _act("softmax", ("input", "dim", "_stacklevel", "dtype"),
                    {"dim": None, "_stacklevel": 3, "dtype": None}, _SOFTMAX_ATTRS),
    "log_softmax": _act("log_softmax", ("input", "dim", "_stacklevel", "dtype"),
                        {"dim": None, "_stacklevel": 3, "dtype": None}, _SOFTMAX_ATTRS),
    "hardsigmoid": _act("hard_sigmoid", ("input", "inplace"), {"inplace": False}),
    "hardswish": _act("hard_swish", ("input", "inplace"), {"inplace": False}),
    "dropout": LayerSpec(op=Op.DROPOUT, params=("input", "p", "training", "inplace"),
                         defaults={"p": 0.5, "training": True, "inplace": False},
                         attrs={"rate": Attr("p")}, fixed={"variant": "elements"}),
    "interpolate": LayerSpec(op=Op.UPSAMPLE,
                             params=("input", "size", "scale_factor", "mode", "align_corners",
                                     "recompute_scale_factor", "antialias"),
                             defaults={"size": None, "scale_factor": None, "mode": "nearest",
                                       "align_corners": None, "recompute_scale_factor": None,
                                       "antialias": False},
                             attrs={"scale": Attr("scale_factor", ntuple(2)), "size": Attr("size"),
                                    "mode": Attr("mode"),
                                    "align_corners": Attr("align_corners", lambda v, a: bool(v))},
                             fixed={"rank": 2}),
    "dropout2d": LayerSpec(op=Op.DROPOUT, params=("input", "p", "training", "inplace"),
                           defaults={"p": 0.5, "training": True, "inplace": False},
                           attrs={"rate": Attr("p")}, fixed={"variant": "channels", "rank": 2}),
    "prelu": _act("prelu", ("input", "weight"), {}),
    "max_pool2d": LayerSpec(op=Op.POOL, params=("input", "kernel_size", "stride", "padding",
                                                "dilation", "ceil_mode", "return_indices"),
                            defaults={"stride": None, "padding": 0, "dilation": 1,
                                      "ceil_mode": False, "return_indices": False},
                            attrs=_pool("max", 2).attrs, fixed=_pool("max", 2).fixed),
    "avg_pool2d": LayerSpec(op=Op.POOL, params=("input", "kernel_size", "stride", "padding",
                                                "ceil_mode", "count_include_pad",
                                                "divisor_override"),
                            defaults=_pool("avg", 2).defaults, attrs=_pool("avg", 2).attrs,
                            fixed=_pool("avg", 2).fixed),
    "adaptive_avg_pool2d": LayerSpec(op=Op.ADAPTIVE_POOL, params=("input", "output_size"),
                                     attrs={"output_size": Attr("output_size", ntuple(2))},
                                     fixed={"kind": "avg", "rank": 2}),
    # torch.flatten(input, start_dim=0): note the default start_dim of 0, unlike nn.Flatten.
    "flatten": LayerSpec(op=Op.FLATTEN, params=("input", "start_dim", "end_dim"),
                         defaults={"start_dim": 0, "end_dim": -1},
                         attrs={"start_dim": Attr("start_dim"), "end_dim": Attr("end_dim")}),
    "transpose": LayerSpec(op=Op.TRANSPOSE, params=("input", "dim0", "dim1"),
                           attrs={"dims": Attr("dim0", lambda v, a: (v, a["dim1"]))}),
    "chunk": LayerSpec(op=Op.CHUNK, params=("input", "chunks", "dim"), defaults={"dim": 0},
                       attrs={"chunks": Attr("chunks"), "dim": Attr("dim")}),
    "layer_norm": LayerSpec(op=Op.LAYER_NORM,
                            params=("input", "normalized_shape", "weight", "bias", "eps"),
                            defaults={"weight": None, "bias": None, "eps": 1e-5},
                            attrs={"normalized_shape": Attr("normalized_shape"),
                                   "epsilon": Attr("eps")}),
    "linear": LayerSpec(op=Op.DENSE, params=("input", "weight", "bias"), defaults={"bias": None}),
    "pad": LayerSpec(op=Op.PAD, params=("input", "pad", "mode", "value"),
                     defaults={"mode": "constant", "value": None},
                     attrs={"explicit_pads": Attr("pad", _torch_pad_pairs), "mode": Attr("mode"),
                            "value": Attr("value")}),
    "cat": LayerSpec(op=Op.CONCAT, params=("tensors", "dim"), defaults={"dim": 0},
                     attrs={"axis": Attr("dim")}),
    "concat": LayerSpec(op=Op.CONCAT, params=("tensors", "dim"), defaults={"dim": 0},
                        attrs={"axis": Attr("dim")}),
    "add": LayerSpec(op=Op.ADD, params=("input", "other"), defaults={}),
    # Attention written out: scores = q @ k^T, context = probs @ v.
    "matmul": LayerSpec(op=Op.MATMUL, params=("input", "other"), defaults={}),
    "bmm": LayerSpec(op=Op.MATMUL, params=("input", "mat2"), defaults={}),
    "permute": LayerSpec(op=Op.PERMUTE, params=("input", "dims"), attrs={"dims": Attr("dims")}),
    "reshape": LayerSpec(op=Op.RESHAPE, params=("input", "shape"),
                         attrs={"target_shape": Attr("shape")}),
}

# Tensor methods: `x.view(...)`, `x.flatten(1)`, `x.relu()`.
TENSOR_METHODS: dict[str, LayerSpec] = {
    "view": LayerSpec(op=Op.RESHAPE, params=("shape",), attrs={"target_shape": Attr("shape")},
                      takes_varargs=True),
    "reshape": LayerSpec(op=Op.RESHAPE, params=("shape",), attrs={"target_shape": Attr("shape")},
                         takes_varargs=True),
    "permute": LayerSpec(op=Op.PERMUTE, params=("dims",), attrs={"dims": Attr("dims")},
                         takes_varargs=True),
    "flatten": LayerSpec(op=Op.FLATTEN, params=("start_dim", "end_dim"),
                         defaults={"start_dim": 0, "end_dim": -1},
                         attrs={"start_dim": Attr("start_dim"), "end_dim": Attr("end_dim")}),
    "transpose": LayerSpec(op=Op.TRANSPOSE, params=("dim0", "dim1"),
                           attrs={"dims": Attr("dim0", lambda v, a: (v, a["dim1"]))}),
    "chunk": LayerSpec(op=Op.CHUNK, params=("chunks", "dim"), defaults={"dim": 0},
                       attrs={"chunks": Attr("chunks"), "dim": Attr("dim")}),
    "mean": LayerSpec(op=Op.REDUCE, params=("dim", "keepdim"), defaults={"dim": None, "keepdim": False},
                      attrs={"dims": Attr("dim", lambda v, a: (v,) if isinstance(v, int) else v),
                             "keepdim": Attr("keepdim")}, fixed={"kind": "avg"}),
    "amax": LayerSpec(op=Op.REDUCE, params=("dim", "keepdim"), defaults={"dim": (), "keepdim": False},
                      attrs={"dims": Attr("dim", lambda v, a: (v,) if isinstance(v, int) else v),
                             "keepdim": Attr("keepdim")}, fixed={"kind": "max"}),
    "relu": _act("relu", (), {}),
    "sigmoid": _act("sigmoid", (), {}),
    "tanh": _act("tanh", (), {}),
    "softmax": _act("softmax", ("dim",), {"dim": None}, _SOFTMAX_ATTRS),
    "log_softmax": _act("log_softmax", ("dim",), {"dim": None}, _SOFTMAX_ATTRS),
}
# torch functions whose static result is known, by path under `torch.`, with the
# interpreter's built-in behaviour for them (eager mode, never scripting or tracing).
STATIC_CALLS = {"jit.is_scripting": "false", "jit.is_tracing": "false",
                "jit.annotate": "typing.cast", "_assert": "noop"}

# Functional forms that apply a module's own weights, `F.conv2d(x, self.weight, ...)` in
# the forward of an nn.Conv2d subclass (timm's Conv2dSame): applied as that module with
# these call arguments overriding its constructor's.
WEIGHT_CALLS: dict[str, tuple[str, ...]] = {
    "conv1d": ("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
    "conv2d": ("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
    "conv3d": ("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
}
# Module attributes torch stores as tuples even when the constructor got an int.
TUPLE_ATTRIBUTES = frozenset({"kernel_size", "stride", "padding", "dilation", "output_padding"})
# Functions that live in the `torch` namespace (messages spell the others `F.`).
ROOT_FUNCTIONS = frozenset({"flatten", "transpose", "chunk", "cat", "concat", "add", "permute",
                            "reshape", "matmul", "bmm"})

# Functions that reparametrize a module's weight in place and return the module, by path
# under `torch.nn.`, with their signature and defaults: `weight_norm(conv, name="weight",
# dim=2)` replaces `weight` by `weight_g` (its norms along `dim`: weight.shape[dim]
# values, one when dim is None) and `weight_v` (weight's shape), one parameter more per
# norm (torch/nn/utils/weight_norm.py, torch/nn/utils/parametrizations.py).
REPARAMETRIZATIONS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "utils.weight_norm": (("module", "name", "dim"), {"name": "weight", "dim": 0}),
    "utils.parametrizations.weight_norm": (("module", "name", "dim"), {"name": "weight", "dim": 0}),
}

CONTAINERS = frozenset({"Sequential"})
MODULE_LISTS = frozenset({"ModuleList", "ModuleDict"})
MODULE_BASES = frozenset({"Module"})

ROOTS = ("torch",)
