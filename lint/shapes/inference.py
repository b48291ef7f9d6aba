"""Static shape inference over an IR graph: each node's input and output shape and layout,
one shape rule per canonical op (the spatial ones live in `windows`).

Shapes are per sample (no batch dimension) in the framework's own layout; unknown
dimensions are None.
"""

from __future__ import annotations

import math
from typing import Callable

from .. import ir
from ..ir import CHANNELS_FIRST, CHANNELS_LAST, FLAT, Counts, Graph, Node, is_known
from ..knowledge.ops import NORMALIZATIONS, Op
from ..layout import Shape, channels
from .axes import clean_shape, conv_layout, default_layout, join_channels, product
from .counting import count, inferred_feature_count, rnn_directions
from . import products
from .windows import SPATIAL_SHAPE_RULES


# First steps of a torch model that take the Keras layout unchanged: layers that read
# features from the last axis (a sequence (T, F), tokens), and an explicit permute or
# transpose (a port that converts NHWC input itself).
FEATURES_LAST_OPS = frozenset({Op.RNN, Op.DENSE, Op.EMBEDDING, Op.LAYER_NORM, Op.RMS_NORM,
                               Op.ATTENTION, Op.PERMUTE, Op.TRANSPOSE})


def first_layer_op(graph: Graph) -> str | None:
    for node in graph.nodes:
        if node.op not in (Op.INPUT, Op.ACTIVATION, Op.DROPOUT, Op.IDENTITY):
            return node.op
    return None


def infer(graph: Graph, input_shape: Shape | None = None) -> None:
    """Fill in_shape/out_shape/layout/counts on every node of `graph`, in place."""
    seen_keys: set[int] = set()
    features_last = graph.framework == ir.TORCH and first_layer_op(graph) in FEATURES_LAST_OPS
    for node in graph.nodes:
        infer_node(node, [graph.nodes[i] for i in node.inputs], graph.framework, input_shape)
        if node.op in NORMALIZATIONS:
            node.normalized_features = inferred_feature_count(node)
        if node.op == Op.INPUT and features_last and node.out_shape and len(node.out_shape) > 1:
            node.layout = CHANNELS_LAST  # (T, F) for an RNN or Linear: features last
        if node.layer_key is not None and node.layer_key in seen_keys:
            node.counts = Counts()  # a shared layer's weights count once
        else:
            node.counts = count(node, graph.framework)
            if node.layer_key is not None:
                seen_keys.add(node.layer_key)


def infer_node(node: Node, inputs: list[Node], framework: str,
               input_shape: Shape | None = None) -> None:
    """Shape and layout of one node from its inputs' (already inferred) shapes."""
    first = inputs[0] if inputs else None
    node.in_shape = first.out_shape if first else None
    node.in_layout = first.layout if first else None
    if node.op == Op.INPUT:
        shape = input_shape if input_shape is not None else node.attrs.get("shape")
        node.out_shape = clean_shape(shape)
        # An input declared channels-first in a Keras model (HF's TF vision models take
        # `pixel_values` as NCHW and transpose inside) keeps that layout.
        declared = node.attrs.get("layout") if node.out_shape and len(node.out_shape) > 1 else None
        node.layout = declared or default_layout(framework, node.out_shape)
        return
    rule = SHAPE_RULES.get(node.op, _unknown_shape)
    try:
        node.out_shape, node.layout = rule(node, inputs, framework)
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        node.out_shape, node.layout = None, node.in_layout


def _same(node: Node, inputs: list[Node], framework: str) -> tuple:
    return node.in_shape, node.in_layout


def _dropout(node: Node, inputs: list[Node], framework: str) -> tuple:
    """Shape-preserving. torch's channel dropout (`nn.Dropout2d`, `F.dropout2d`) of a
    (N, C) input drops each of its one-element "channels", i.e. single elements (torch
    warns and keeps it so): the variant that input gets is element dropout."""
    shape = node.in_shape
    if (framework == ir.TORCH and node.attrs.get("variant") == "channels"
            and shape is not None and len(shape) == 1):
        node.attrs["variant"] = "elements"
    return shape, node.in_layout


def _unknown_shape(node: Node, inputs: list[Node], framework: str) -> tuple:
    return None, node.in_layout


def _lambda(node: Node, inputs: list[Node], framework: str) -> tuple:
    declared = node.attrs.get("output_shape")
    if isinstance(declared, tuple) and is_known(declared):
        return clean_shape(declared), default_layout(framework, declared)
    return node.in_shape, node.in_layout


def _reduce(node: Node, inputs: list[Node], framework: str) -> tuple:
    """x.mean(dims): torch dims count the batch dimension."""
    dims, shape = node.attrs.get("dims"), node.in_shape
    if shape is None or not isinstance(dims, tuple) or not is_known(dims):
        return None, None
    axes = {(d % (len(shape) + 1)) - 1 for d in dims}
    if node.attrs.get("keepdim"):
        out = tuple(1 if i in axes else d for i, d in enumerate(shape))
        return out, node.in_layout
    out = tuple(d for i, d in enumerate(shape) if i not in axes)
    return out, FLAT if len(out) == 1 else node.in_layout


def _transpose(node: Node, inputs: list[Node], framework: str) -> tuple:
    """torch.transpose(x, d0, d1): dims count the batch dimension."""
    dims, shape = node.attrs.get("dims"), node.in_shape
    if shape is None or not isinstance(dims, tuple) or not all(isinstance(d, int) for d in dims):
        return None, None
    a, b = ((d % (len(shape) + 1)) - 1 for d in dims)
    if a < 0 or b < 0:
        return None, None
    out = list(shape)
    out[a], out[b] = out[b], out[a]
    channel_axis = 0 if node.in_layout == CHANNELS_FIRST else len(shape) - 1
    moved = b if channel_axis == a else a if channel_axis == b else channel_axis
    layout = CHANNELS_FIRST if moved == 0 else CHANNELS_LAST if moved == len(out) - 1 else None
    return tuple(out), layout


def _chunk(node: Node, inputs: list[Node], framework: str) -> tuple:
    """One piece of x.chunk(n, dim)."""
    chunks, dim, shape = node.attrs.get("chunks"), node.attrs.get("dim"), node.in_shape
    if shape is None or not isinstance(chunks, int) or not isinstance(dim, int):
        return None, node.in_layout
    axis = (dim % (len(shape) + 1)) - 1
    if axis < 0 or shape[axis] is None:
        return None, node.in_layout
    out = list(shape)
    out[axis] = -(-shape[axis] // chunks)
    return tuple(out), node.in_layout


def _attention(node: Node, inputs: list[Node], framework: str) -> tuple:
    if framework == ir.KERAS and node.in_shape:
        node.attrs["embed_dim"] = node.in_shape[-1]  # Keras projects back to the query's width
    return node.in_shape, node.in_layout


def _global_pool(node: Node, inputs: list[Node], framework: str) -> tuple:
    layout = node.in_layout or conv_layout(node, framework)
    chans = channels(node.in_shape, layout)
    if node.attrs.get("keepdims"):
        rank = node.attrs.get("rank", 2)
        return join_channels((1,) * rank, chans, layout), layout
    return (chans,), FLAT


def _adaptive_pool(node: Node, inputs: list[Node], framework: str) -> tuple:
    out = node.attrs.get("output_size")
    chans = channels(node.in_shape, CHANNELS_FIRST)
    return (chans, *out), CHANNELS_FIRST


def _dense(node: Node, inputs: list[Node], framework: str) -> tuple:
    shape = node.in_shape
    units = node.attrs.get("units")
    units = units if isinstance(units, int) else None
    if not shape:
        return (units,), FLAT
    out = (*shape[:-1], units)
    return out, FLAT if len(out) == 1 else CHANNELS_LAST  # features on the last axis


def _flatten(node: Node, inputs: list[Node], framework: str) -> tuple:
    shape = node.in_shape
    if shape is None:
        return None, FLAT
    start = node.attrs.get("start_dim", 1)
    end = node.attrs.get("end_dim", -1)
    if framework == ir.TORCH and start == 0:
        return None, FLAT  # flattens the batch dimension too
    if framework == ir.TORCH and (start != 1 or end != -1):
        full = (None, *shape)
        end = end % len(full)
        merged = product(full[start:end + 1])
        out = (*full[1:start], merged, *full[end + 1:])
        return out, FLAT if len(out) == 1 else node.in_layout
    return (product(shape),), FLAT


def _reshape(node: Node, inputs: list[Node], framework: str) -> tuple:
    target = node.attrs.get("target_shape")
    if not isinstance(target, tuple):
        return None, None
    if framework == ir.TORCH or node.attrs.get("with_batch"):
        target = target[1:]  # the first entry is the batch dimension (torch, tf.reshape)
    total = product(node.in_shape) if node.in_shape else None
    dims = [d if isinstance(d, int) else None for d in target]
    if -1 in dims:
        known = [d for d in dims if d not in (-1, None)]
        if total is not None and None not in dims and known is not None:
            dims[dims.index(-1)] = total // math.prod(known) if known else total
        else:
            dims[dims.index(-1)] = None
    out = tuple(dims)
    if len(out) == 1:
        return out, FLAT
    # Keras reshapes into its own channels-last convention; a torch view may be either
    # (ports often view as NHWC and then permute), so its layout is left open.
    return out, default_layout(framework, out) if framework == ir.KERAS else None


def _permute(node: Node, inputs: list[Node], framework: str) -> tuple:
    dims = node.attrs.get("dims")
    shape = node.in_shape
    if not isinstance(dims, tuple) or shape is None:
        return None, None
    # Keras Permute dims are 1-based without the batch; torch's (and tf.transpose's perm)
    # include the batch at 0.
    if framework == ir.TORCH or node.attrs.get("with_batch"):
        if len(dims) != len(shape) + 1 or dims[0] != 0:
            return None, None
        order = [d - 1 for d in dims[1:]]
    else:
        order = [d - 1 for d in dims]
    out = tuple(shape[i] for i in order)
    channel_axis = 0 if node.in_layout == CHANNELS_FIRST else len(shape) - 1
    new_axis = order.index(channel_axis)
    layout = CHANNELS_FIRST if new_axis == 0 else CHANNELS_LAST if new_axis == len(out) - 1 else None
    return out, layout


def _merge(node: Node, inputs: list[Node], framework: str) -> tuple:
    return (inputs[0].out_shape if inputs else None), node.in_layout


def _concat(node: Node, inputs: list[Node], framework: str) -> tuple:
    shapes = [i.out_shape for i in inputs]
    if any(s is None for s in shapes):
        return None, node.in_layout
    axis = node.attrs.get("axis", -1)
    rank = len(shapes[0])
    axis = axis % (rank + 1) - 1 if framework == ir.TORCH else (axis % (rank + 1)) - 1
    if axis < 0:
        return None, node.in_layout
    sizes = [s[axis] for s in shapes]
    out = list(shapes[0])
    out[axis] = None if any(d is None for d in sizes) else sum(sizes)
    return tuple(out), node.in_layout


def _embedding(node: Node, inputs: list[Node], framework: str) -> tuple:
    dim = node.attrs.get("embedding_dim")
    dim = dim if isinstance(dim, int) else None
    shape = node.in_shape or ()
    return (*shape, dim), CHANNELS_LAST if shape else FLAT


def _rnn(node: Node, inputs: list[Node], framework: str) -> tuple:
    """(T, F) -> (T, D*units) with return_sequences, else (D*units,). A time-major torch
    RNN fed batch-first data is still shaped as batch-first here: the rule about
    `batch_first` reports that case."""
    units = node.attrs.get("units")
    units = units if isinstance(units, int) else None
    width = units
    if units is not None and node.attrs.get("merge_mode", "concat") == "concat":
        width = units * rnn_directions(node)
    shape = node.in_shape
    if node.attrs.get("return_sequences"):
        steps = shape[0] if shape and len(shape) == 2 else None
        return (steps, width), CHANNELS_LAST
    return (width,), FLAT


def _rnn_state(node: Node, inputs: list[Node], framework: str) -> tuple:
    rnn = inputs[0] if inputs else None
    units = rnn.attrs.get("units") if rnn is not None else None
    units = units if isinstance(units, int) else None
    if framework == ir.KERAS or rnn is None:
        return (units,), FLAT
    # torch h_n/c_n: (num_layers * directions, N, H): the batch is the second axis.
    layers = rnn.attrs.get("num_layers", 1)
    node.attrs["batch_axis"] = 1
    depth = layers * rnn_directions(rnn) if isinstance(layers, int) else None
    return (depth, units), None


def _index(node: Node, inputs: list[Node], framework: str) -> tuple:
    """`x[:, -1]`, `h_n[-1]`: integer indices drop an axis, slices keep it. Indices count
    the batch axis, which is axis 0 except for torch RNN states."""
    index, shape = node.attrs.get("index"), node.in_shape
    if shape is None or not isinstance(index, tuple):
        return None, None
    batch_axis = inputs[0].attrs.get("batch_axis", 0) if inputs else 0
    full: list = list(shape)
    full.insert(batch_axis, "batch")
    if Ellipsis in index:
        at = index.index(Ellipsis)
        fill = len(full) - (len(index) - 1 - index.count(None))
        index = (*index[:at], *(slice(None),) * fill, *index[at + 1:])
    out: list = []
    axis = 0
    for item in index:
        if item is None:
            out.append(1)
            continue
        if axis >= len(full):
            return None, None
        dim = full[axis]
        if isinstance(item, slice):
            if dim == "batch":
                if item != slice(None):
                    return None, None
                out.append(dim)
            else:
                out.append(None if dim is None else len(range(dim)[item]))
        elif dim == "batch":
            return None, None  # selects one sample
        axis += 1
    out += full[axis:]
    if not out or out[0] != "batch" or "batch" in out[1:]:
        return None, None
    result = tuple(out[1:])
    if len(result) == 1:
        return result, FLAT
    return result, node.in_layout if len(result) == len(shape) else CHANNELS_LAST


SHAPE_RULES: dict[str, Callable[[Node, list[Node], str], tuple]] = {
    **SPATIAL_SHAPE_RULES,
    Op.EMBEDDING: _embedding,
    Op.RNN: _rnn,
    Op.RNN_STATE: _rnn_state,
    Op.INDEX: _index,
    Op.LAMBDA: _lambda,
    Op.REDUCE: _reduce,
    Op.TRANSPOSE: _transpose,
    Op.CHUNK: _chunk,
    Op.ATTENTION: _attention,
    Op.GLOBAL_POOL: _global_pool,
    Op.ADAPTIVE_POOL: _adaptive_pool,
    Op.DENSE: _dense,
    Op.FLATTEN: _flatten,
    Op.RESHAPE: _reshape,
    Op.PERMUTE: _permute,
    Op.CONCAT: _concat,
    Op.MATMUL: products.matmul,
    **dict.fromkeys((Op.ADD, Op.MULTIPLY, Op.ELEMENTWISE), _merge),
    # Shape-preserving: normalizations, activations, dropout, fixed rescaling.
    **dict.fromkeys((*NORMALIZATIONS, Op.NORMALIZATION, Op.RESCALE, Op.ACTIVATION,
                     Op.IDENTITY), _same),
    Op.DROPOUT: _dropout,
}
