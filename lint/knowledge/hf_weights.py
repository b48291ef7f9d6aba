"""Hugging Face's weight-layout conventions between a `TF<X>Model` and its torch `<X>Model`.

Pure data and string/shape functions (no framework): `verify --numeric` reads them to pair
an HF TensorFlow model's variables with its torch twin's tensors (by name and module
structure, never by position) and to convert each tensor's layout. They are conventions,
not port errors:

* **names**: TF variable names are scope paths (`tf_bert_model/bert/encoder/layer_._0/
  attention/self/query/kernel:0`, built with `build_in_name_scope`); torch names are module
  paths (`encoder.layer.0.attention.self.query.weight`). The top scope is the Keras model's
  own name; `_._` joins a list attribute and its index (`layer_._0` = `layer.0`); the
  main layer's scope (`bert`) is the torch `base_model_prefix`, absent from a bare
  `BertModel`'s names and present in a head model's (`bert.encoder...`).
* **leaf names**: Keras `kernel`, `gamma`, `beta`, `embeddings`, `moving_mean`,
  `moving_variance` are torch `weight`, `weight`, `bias`, `weight`, `running_mean`,
  `running_var`; a weight HF creates with `add_weight("weight")` keeps its name.
* **layouts** (by the torch module that owns the tensor, checked against the shapes):
  `nn.Linear` stores (out, in), a Keras Dense kernel (in, out): transposed; HF's `Conv1D`
  (GPT-2's `c_attn`, `c_fc`, `c_proj`) stores (in, out) like the TF side: not transposed;
  conv kernels are HWIO in Keras, OIHW in torch; a depthwise Keras kernel (kh, kw, C, m)
  is a grouped torch weight (C*m, 1, kh, kw); embeddings, norms and plain parameters keep
  their layout; a TF bias of shape (1, n) (TFConv1D) is a torch (n,).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

LIST_JOIN = "_._"  # TF scope `layer_._3` <-> torch `layer.3`
DUPLICATE = "___"  # HF's `a___b` scope: TF duplicates a level that torch names b

# Keras leaf name -> its torch names, most likely first. A separable conv's two kernels
# are two torch convs (ConvBERT's `depthwise.weight`, `pointwise.weight`); a weight-normed
# conv's g and v are torch's `weight_g`/`weight_v`, or, with torch's parametrizations,
# `parametrizations.weight.original0`/`original1` (wav2vec2's positional conv).
LEAF_NAMES = {
    "kernel": ("weight",),
    "gamma": ("weight",),
    "beta": ("bias",),
    "embeddings": ("weight",),
    "moving_mean": ("running_mean",),
    "moving_variance": ("running_var",),
    "depthwise_kernel": ("depthwise.weight", "weight"),
    "pointwise_kernel": ("pointwise.weight",),
    "weight_g": ("weight_g", "parametrizations.weight.original0"),
    "weight_v": ("weight_v", "parametrizations.weight.original1"),
}

# Layouts, by name: how a Keras array becomes the torch tensor. Each is applied by the
# worker (`portlint.dynamic.hf_transfer.LAYOUTS`) in both directions.
SAME = "same"
TRANSPOSE = "transpose"  # rank 2: Dense kernel (in, out) <-> Linear weight (out, in)
CONV = "conv"  # (*k, in, out) <-> (out, in, *k); (*k, out, in) <-> (in, out, *k) transposed
DEPTHWISE = "depthwise"  # (*k, C, m) <-> (C*m, 1, *k): (kh, kw, C, m) <-> (C*m, 1, kh, kw)
RESHAPE = "reshape"  # same elements, 1-sized axes differ: TFConv1D bias (1, n) <-> (n,)

LAYOUT_TEXT = {
    SAME: "same layout",
    TRANSPOSE: "kernel (in, out) -> weight (out, in)",
    CONV: "kernel (*k, in, out) -> weight (out, in, *k)",
    DEPTHWISE: "depthwise kernel (*k, C, m) -> grouped weight (C*m, 1, *k)",
    RESHAPE: "reshaped (1-sized axes)",
}

# The layout the torch module class implies for its `weight`, by the class's name.
# HF's Conv1D is the transposed Linear (GPT-2 and its relatives).
MODULE_WEIGHT_LAYOUT = {
    "Linear": TRANSPOSE, "NonDynamicallyQuantizableLinear": TRANSPOSE, "LazyLinear": TRANSPOSE,
    "Conv1D": SAME,
    "Conv1d": CONV, "Conv2d": CONV, "Conv3d": CONV,
    "ConvTranspose1d": CONV, "ConvTranspose2d": CONV, "ConvTranspose3d": CONV,
    "Embedding": SAME, "LayerNorm": SAME, "GroupNorm": SAME,
    "BatchNorm1d": SAME, "BatchNorm2d": SAME, "BatchNorm3d": SAME,
}

# torch tensors that carry no weights of the TF side (never expected there).
TORCH_ONLY_TENSORS = ("num_batches_tracked",)


def split_name(tf_name: str) -> list[str]:
    """A TF variable name as scope levels: `:0` dropped, `_._` a level separator, the
    `a___b` duplication resolved to `b`, empty levels removed."""
    name = re.sub(r":\d+$", "", tf_name)
    name = name.replace(LIST_JOIN, "/")
    levels = [level.split(DUPLICATE)[-1] for level in name.split("/")]
    return [level for level in levels if level]


def torch_names(levels: list[str]) -> list[str]:
    """The torch paths of scope levels (the model's top scope already removed)."""
    if not levels:
        return []
    leaves = LEAF_NAMES.get(levels[-1], (levels[-1],))
    return [".".join([*levels[:-1], leaf]) for leaf in leaves]


def candidates(tf_name: str, base_prefix: str = "") -> list[str]:
    """The torch names a TF variable can have, most likely first: the scope path without
    the model's own top scope, then without (or with) the `base_model_prefix`."""
    levels = split_name(tf_name)
    if len(levels) > 1:
        levels = levels[1:]
    out = torch_names(levels)
    if base_prefix:
        dotted = f"{base_prefix}."
        if any(name.startswith(dotted) for name in out):
            # `bert/...`, or a scope spelled with the prefix (BART's `model.shared`)
            out += [name[len(dotted):] for name in out if name.startswith(dotted)]
        else:
            out += [dotted + name for name in out]
    return list(dict.fromkeys(out))


def _squeezed(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(d for d in shape if d != 1)


@dataclass(frozen=True)
class Layout:
    """How one Keras array becomes one torch tensor."""

    kind: str  # SAME, TRANSPOSE, CONV, DEPTHWISE, RESHAPE
    by: str  # "module" (the torch class implies it) or "shape" (only the shapes fit)

    @property
    def text(self) -> str:
        return LAYOUT_TEXT[self.kind]


def converted_shape(kind: str, keras_shape: tuple[int, ...],
                    torch_shape: tuple[int, ...]) -> Optional[tuple[int, ...]]:
    """The torch shape a Keras array of `keras_shape` gets under layout `kind` (None when
    the layout does not apply to that rank)."""
    rank = len(keras_shape)
    if kind == SAME:
        return keras_shape
    if kind == TRANSPOSE:
        return keras_shape[::-1] if rank == 2 else None
    if kind == CONV:
        return (keras_shape[-1], keras_shape[-2], *keras_shape[:-2]) if rank >= 3 else None
    if kind == DEPTHWISE:
        if rank < 3:
            return None
        *k, c, m = keras_shape
        return (c * m, 1, *k)
    if kind == RESHAPE:
        same = _squeezed(keras_shape) == _squeezed(torch_shape)
        return torch_shape if same else None
    return None


def layout(module_class: str, leaf: str, keras_shape: tuple[int, ...],
           torch_shape: tuple[int, ...]) -> Optional[Layout]:
    """The layout converting a Keras array to a torch tensor owned by a module of class
    `module_class` under attribute `leaf`: the one the module implies when the shapes
    agree with it, else the first that fits the shapes; None when none does."""
    keras_shape, torch_shape = tuple(keras_shape), tuple(torch_shape)
    implied = MODULE_WEIGHT_LAYOUT.get(module_class) if leaf == "weight" else SAME
    if implied == CONV and len(keras_shape) == len(torch_shape) >= 3 \
            and torch_shape[1] == 1 and keras_shape[-1] != torch_shape[0]:
        implied = DEPTHWISE  # a Keras depthwise kernel as a grouped torch conv
    if implied is not None and converted_shape(implied, keras_shape, torch_shape) == torch_shape:
        return Layout(implied, "module")
    for kind in (SAME, RESHAPE, TRANSPOSE, CONV):
        if converted_shape(kind, keras_shape, torch_shape) == torch_shape:
            return Layout(kind, "shape")
    return None


def is_torch_only(torch_name_: str) -> bool:
    return torch_name_.rsplit(".", 1)[-1] in TORCH_ONLY_TENSORS


def randomised_kind(leaf: str, shape: tuple[int, ...]) -> Optional[str]:
    """Which original tensors get random values before the transfer (defaults such as
    zero biases and unit scales would hide a difference), by the tensor's own name (Keras
    or torch) and shape: "variance" (positive), "scale" (around 1), "shift" (around 0),
    or None (left as initialised: kernels, embeddings)."""
    if len(_squeezed(tuple(shape))) > 1:
        return None
    if leaf in ("moving_variance", "running_var"):
        return "variance"
    if leaf in ("gamma", "scale") or (leaf == "weight" and len(shape) == 1):
        return "scale"
    if leaf in ("beta", "bias", "moving_mean", "running_mean"):
        return "shift"
    return None


# Source lines that make a Keras file Hugging Face TF code, which runs under tf_keras
# (Keras 2) only: transformers' `modeling_tf_utils`, tf_keras itself, or a TF model
# class imported from transformers.
TF_KERAS_SOURCE = (
    re.compile(r"^\s*from\s+[.\w]*modeling_tf_utils\s+import\b", re.M),
    re.compile(r"^\s*(?:import\s+tf_keras\b|from\s+tf_keras\b)", re.M),
    re.compile(r"^\s*from\s+transformers\s+import\s+[^#\n]*\bTF[A-Z]\w*", re.M),
)


def needs_tf_keras(source: str) -> bool:
    """The Keras file's code is built with tf_keras (see TF_KERAS_SOURCE)."""
    return any(pattern.search(source) for pattern in TF_KERAS_SOURCE)


# torch modules whose outputs put the channels on axis 1 (a Keras layer's output on the
# last axis): compared with the channels moved last. HF's `Conv1D` is not one of them.
CHANNELS_FIRST_MODULES = frozenset({
    "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "InstanceNorm1d",
    "InstanceNorm2d", "InstanceNorm3d"})


def keras_channels_last(data_format: object, axis: object, rank: int) -> bool:
    """A Keras layer keeps its channels last: `data_format="channels_last"` (convs), or a
    normalization over the last axis (`axis=-1`, `[-1]`, `[rank - 1]`)."""
    if data_format is not None:
        return data_format == "channels_last"
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    return len(axes) == 1 and axes[0] in (-1, rank - 1)
