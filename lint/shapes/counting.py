"""Convention-aware parameter and buffer counts of one IR node (`Counts`): what Keras
`count_params()` and torch `parameters()`/`buffers()` would report for the layer, from its
attributes and inferred input shape.
"""

from __future__ import annotations

import math
from typing import Callable

from .. import ir
from ..ir import CHANNELS_FIRST, Counts, Node, is_known
from ..knowledge.ops import Op
from ..layout import channels
from .axes import conv_layout


def rnn_directions(node: Node) -> int:
    return 2 if node.attrs.get("bidirectional") else 1


def feature_count(node: Node) -> int | None:
    """The number of features a normalization layer normalizes (torch: as declared)."""
    declared = node.attrs.get("num_features")
    if node.framework == ir.TORCH and isinstance(declared, int):
        return declared
    return inferred_feature_count(node)


def inferred_feature_count(node: Node) -> int | None:
    """The size of the normalized axis in the layer's inferred input."""
    if node.framework == ir.TORCH:
        return channels(node.in_shape, CHANNELS_FIRST)
    axis = node.attrs.get("axis", -1)
    if isinstance(axis, int) and node.in_shape:
        full = (None, *node.in_shape)  # Keras axis counts the batch dimension
        try:
            return full[axis]
        except IndexError:
            return None
    return None


def input_features(node: Node) -> int | None:
    """in_channels / in_features: the torch argument, else from the inferred input."""
    is_conv = node.op in (Op.CONV, Op.CONV_TRANSPOSE)
    explicit = node.attrs.get("in_channels" if is_conv else "in_features")
    if isinstance(explicit, int):
        return explicit
    if is_conv:
        layout = conv_layout(node, node.framework)
        return channels(node.in_shape, layout) if node.in_shape else None
    return node.in_shape[-1] if node.in_shape else None


def _count_conv(node: Node) -> Counts | None:
    a = node.attrs
    cin = input_features(node)
    kernel, filters, groups = a.get("kernel"), a.get("filters"), a.get("groups", 1)
    if cin is None or not is_known((kernel, filters, groups)) or not isinstance(filters, int):
        return None
    weights = math.prod(kernel) * (cin // groups) * filters
    return Counts(trainable=weights + (filters if a.get("bias") else 0))


def _count_dense(node: Node) -> Counts | None:
    cin = input_features(node)
    units = node.attrs.get("units")
    if cin is None or not isinstance(units, int):
        return None
    return Counts(trainable=cin * units + (units if node.attrs.get("bias") else 0))


def _count_batch_norm(node: Node) -> Counts | None:
    c = feature_count(node)
    if c is None:
        return None
    a = node.attrs
    trainable = c * (bool(a.get("center")) + bool(a.get("scale")))
    tracked = bool(a.get("track_running_stats", True))
    state = 2 * c if tracked else 0
    if a.get("renorm") is True:
        state += 3 * c  # moving_stddev, renorm_mean, renorm_stddev (reference §1)
    extra = 1 if node.framework == ir.TORCH and tracked else 0  # num_batches_tracked
    return Counts(trainable=trainable, state=state, torch_extra_buffers=extra)


def _count_depthwise(node: Node) -> Counts | None:
    a = node.attrs
    cin = channels(node.in_shape, conv_layout(node, node.framework)) if node.in_shape else None
    kernel, multiplier = a.get("kernel"), a.get("depth_multiplier", 1)
    if cin is None or not is_known(kernel) or not isinstance(multiplier, int):
        return None
    out = cin * multiplier
    return Counts(trainable=math.prod(kernel) * out + (out if a.get("bias") else 0))


def _count_separable(node: Node) -> Counts | None:
    a = node.attrs
    cin = channels(node.in_shape, conv_layout(node, node.framework)) if node.in_shape else None
    kernel, multiplier, filters = a.get("kernel"), a.get("depth_multiplier", 1), a.get("filters")
    if cin is None or not is_known(kernel) or not isinstance(filters, int) or not isinstance(multiplier, int):
        return None
    depthwise = math.prod(kernel) * cin * multiplier
    return Counts(trainable=depthwise + cin * multiplier * filters + (filters if a.get("bias") else 0))


def _normalized_size(node: Node) -> int | None:
    """How many features a layer/group norm has one gamma (and beta) for."""
    if node.framework == ir.TORCH:
        if node.op == Op.GROUP_NORM:
            declared = node.attrs.get("num_features")
            return declared if isinstance(declared, int) else None
        shape = node.attrs.get("normalized_shape")
        return math.prod(shape) if isinstance(shape, tuple) and is_known(shape) else None
    if not node.in_shape:
        return None
    axes = node.attrs.get("axis", -1)
    axes = axes if isinstance(axes, tuple) else (axes,)
    full = (None, *node.in_shape)  # Keras axes count the batch dimension
    try:
        dims = [full[a] for a in axes]
    except (IndexError, TypeError):
        return None
    return None if None in dims else math.prod(dims)


def _count_norm(node: Node) -> Counts | None:
    size = _normalized_size(node)
    if size is None:
        return None
    return Counts(trainable=size * (bool(node.attrs.get("center")) + bool(node.attrs.get("scale"))))


def _count_normalization(node: Node) -> Counts | None:
    if node.attrs.get("adapted") is False:
        return Counts()
    size = _normalized_size(node)
    return None if size is None else Counts(state=2 * size + 1)  # mean, variance, count


def _count_attention(node: Node) -> Counts | None:
    """nn.MultiheadAttention: packed q/k/v in_proj (3E x E) + out_proj (E x E), biases.
    Keras MultiHeadAttention: query/key/value kernels (E, heads, key_dim or value_dim),
    output kernel (heads, value_dim, E), each with a bias."""
    a = node.attrs
    if node.framework == ir.KERAS:
        return _count_keras_attention(node)
    embed = a.get("embed_dim")
    if not isinstance(embed, int) or a.get("kdim") not in (None, embed) or a.get("vdim") not in (None, embed):
        return None
    bias = 4 * embed if a.get("bias") else 0
    extra = 2 * embed if a.get("add_bias_kv") else 0
    return Counts(trainable=4 * embed * embed + bias + extra)


def _count_norm_with_stats(node: Node) -> Counts | None:
    """GroupNorm / InstanceNorm (torch InstanceNorm may track running statistics)."""
    counts = _count_norm(node)
    if counts is None or not node.attrs.get("track_running_stats"):
        return counts
    size = _normalized_size(node)
    return Counts(trainable=counts.trainable, state=2 * size, torch_extra_buffers=1)


def _count_rms_norm(node: Node) -> Counts | None:
    size = _normalized_size(node)
    return None if size is None else Counts(trainable=size if node.attrs.get("scale") else 0)


def _count_embedding(node: Node) -> Counts | None:
    rows, dim = node.attrs.get("num_embeddings"), node.attrs.get("embedding_dim")
    if not (isinstance(rows, int) and isinstance(dim, int)):
        return None
    return Counts(trainable=rows * dim)


def _count_activation(node: Node) -> Counts | None:
    """Only PReLU has weights: torch `num_parameters`; Keras one alpha per element of
    the input, except along `shared_axes` (reference §6: 131,072 vs 1 for 64x64x32)."""
    if node.attrs.get("kind") != "prelu":
        return Counts()
    if node.framework == ir.TORCH:
        size = node.attrs.get("num_parameters", 1)
        return Counts(trainable=size) if isinstance(size, int) else None
    shape = node.in_shape
    if not shape:
        return None
    shared = node.attrs.get("shared_axes") or ()
    shared = shared if isinstance(shared, tuple) else (shared,)
    dims = [1 if axis + 1 in shared else d for axis, d in enumerate(shape)]
    return None if None in dims else Counts(trainable=math.prod(dims))


RNN_GATES = {"lstm": 4, "gru": 3, "simple": 1}


def _count_rnn(node: Node) -> Counts | None:
    """Keras: kernel + recurrent kernel + one bias (GRU reset_after: two) per direction.
    torch: weight_ih + weight_hh + bias_ih + bias_hh per layer and direction; bias_hh of
    LSTM/RNN is what Keras folds into its single bias (reference §10, experiment E05)."""
    a = node.attrs
    gates, units = RNN_GATES.get(a.get("cell")), a.get("units")
    directions = rnn_directions(node)
    if gates is None or not isinstance(units, int):
        return None
    if node.framework == ir.KERAS:
        features = node.in_shape[-1] if node.in_shape else None
        if not isinstance(features, int):
            return None
        biases = 0
        if a.get("bias"):
            biases = 2 if a.get("cell") == "gru" and a.get("reset_after") else 1
        per_direction = gates * units * (features + units) + biases * gates * units
        return Counts(trainable=directions * per_direction)
    features, layers = a.get("input_size"), a.get("num_layers", 1)
    if not isinstance(features, int) or not isinstance(layers, int) or a.get("proj_size"):
        return None
    total = folded = 0
    for layer in range(layers):
        width = features if layer == 0 else units * directions
        total += directions * gates * units * (width + units)
        if a.get("bias"):
            total += directions * 2 * gates * units
            if a.get("cell") != "gru":
                folded += directions * gates * units
    return Counts(trainable=total, folded_bias=folded)


def _count_keras_attention(node: Node) -> Counts | None:
    a = node.attrs
    heads, key_dim, embed = a.get("num_heads"), a.get("key_dim"), a.get("embed_dim")
    value_dim = a.get("value_dim") or key_dim
    if not all(isinstance(v, int) for v in (heads, key_dim, value_dim, embed)):
        return None
    if a.get("output_shape") is not None or a.get("use_gate"):
        return None
    bias = bool(a.get("bias"))
    projections = 2 * (embed * heads * key_dim + bias * heads * key_dim)
    projections += embed * heads * value_dim + bias * heads * value_dim
    output = heads * value_dim * embed + bias * embed
    return Counts(trainable=projections + output)


def _weight_shape(node: Node) -> tuple | None:
    """A torch convolution's or Linear's weight shape: (out, in / groups, *kernel), (out, in)."""
    if node.op == Op.DENSE:
        return (node.attrs.get("units"), input_features(node))
    if node.op == Op.CONV:
        cin, groups = input_features(node), node.attrs.get("groups", 1)
        kernel = node.attrs.get("kernel")
        if not isinstance(cin, int) or not isinstance(groups, int) or not isinstance(kernel, tuple):
            return None
        return (node.attrs.get("filters"), cin // groups, *kernel)
    return None


def _with_weight_norm(node: Node, counts: Counts) -> Counts | None:
    """torch weight norm: `weight_g` (the norms along `dim`, weight.shape[dim] of them,
    one for dim None) beside `weight_v` (the weight's own size)."""
    dim, shape = node.attrs["weight_norm_dim"], _weight_shape(node)
    if dim is None:
        return counts + Counts(trainable=1)
    if not isinstance(dim, int) or shape is None or not -len(shape) <= dim < len(shape):
        return None
    norms = shape[dim]
    return counts + Counts(trainable=norms) if isinstance(norms, int) else None


COUNT_RULES: dict[str, Callable[[Node], Counts | None]] = {
    Op.ATTENTION: _count_attention,
    Op.DEPTHWISE_CONV: _count_depthwise,
    Op.SEPARABLE_CONV: _count_separable,
    Op.LAYER_NORM: _count_norm,
    Op.GROUP_NORM: _count_norm_with_stats,
    Op.RMS_NORM: _count_rms_norm,
    Op.NORMALIZATION: _count_normalization,
    Op.CONV: _count_conv,
    Op.CONV_TRANSPOSE: _count_conv,
    Op.EMBEDDING: _count_embedding,
    Op.ACTIVATION: _count_activation,
    Op.RNN: _count_rnn,
    Op.DENSE: _count_dense,
    Op.BATCH_NORM: _count_batch_norm,
}


def count(node: Node, framework: str) -> Counts | None:
    if node.functional:
        return Counts()  # F.linear(x, self.weight): counted with the module's own weights
    rule = COUNT_RULES.get(node.op)
    if rule is None:
        return None if node.op == Op.OPAQUE else Counts()
    try:
        counts = rule(node)
        if counts is not None and "weight_norm_dim" in node.attrs:
            return _with_weight_norm(node, counts)
        return counts
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        # As for shapes (infer_node): attributes of a type the formula cannot take
        # (`nn.Conv2d(1, 4, kernel_size=True)`, a string size) leave the count unknown
        # instead of ending the run with an internal error (found by test_properties).
        return None

