"""Static shape inference and convention-aware weight counting over an IR graph.

Shapes are per sample (no batch dimension) in the framework's own layout; each node
records the layout of its output (channels_last, channels_first or flat). Unknown
dimensions are None. Resolved convolution/pooling padding is stored in `attrs["pads"]`
as ((before, after), ...) per spatial dimension, so rules can compare TF `'same'` with
torch's symmetric integers.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from . import ir
from .ir import CHANNELS_FIRST, CHANNELS_LAST, FLAT, UNKNOWN, Counts, Graph, Node, is_known

Shape = tuple  # of int | None


# First steps of a torch model that take the Keras layout unchanged: layers that read
# features from the last axis (a sequence (T, F), tokens), and an explicit permute or
# transpose (a port that converts NHWC input itself).
FEATURES_LAST_OPS = frozenset({"rnn", "dense", "embedding", "layer_norm", "rms_norm",
                               "attention", "permute", "transpose"})


def first_layer_op(graph: Graph) -> str | None:
    for node in graph.nodes:
        if node.op not in ("input", "activation", "dropout", "identity"):
            return node.op
    return None


def infer(graph: Graph, input_shape: Shape | None = None) -> None:
    """Fill in_shape/out_shape/layout/counts on every node of `graph`, in place."""
    seen_keys: set[int] = set()
    features_last = graph.framework == ir.TORCH and first_layer_op(graph) in FEATURES_LAST_OPS
    for node in graph.nodes:
        infer_node(node, [graph.nodes[i] for i in node.inputs], graph.framework, input_shape)
        if node.op == "input" and features_last and node.out_shape and len(node.out_shape) > 1:
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
    if node.op == "input":
        shape = input_shape if input_shape is not None else node.attrs.get("shape")
        node.out_shape = _clean(shape)
        node.layout = default_layout(framework, node.out_shape)
        return
    rule = SHAPE_RULES.get(node.op, _unknown_shape)
    try:
        node.out_shape, node.layout = rule(node, inputs, framework)
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        node.out_shape, node.layout = None, node.in_layout


def default_layout(framework: str, shape: Shape | None) -> str | None:
    if shape is None:
        return None
    if len(shape) <= 1:
        return FLAT
    return CHANNELS_LAST if framework == ir.KERAS else CHANNELS_FIRST


def to_layout(shape: Shape | None, source: str | None, target: str) -> Shape | None:
    """Move the channel axis: (H, W, C) <-> (C, H, W)."""
    if shape is None or source == target or source in (None, FLAT) or len(shape) < 2:
        return shape
    if source == CHANNELS_LAST and target == CHANNELS_FIRST:
        return (shape[-1], *shape[:-1])
    if source == CHANNELS_FIRST and target == CHANNELS_LAST:
        return (*shape[1:], shape[0])
    return shape


def channels(shape: Shape | None, layout: str | None) -> int | None:
    if not shape:
        return None
    if layout == CHANNELS_FIRST:
        return shape[0]
    return shape[-1]


def _clean(shape: Any) -> Shape | None:
    if not isinstance(shape, (tuple, list)):
        return None
    return tuple(d if isinstance(d, int) and not isinstance(d, bool) else None for d in shape)


def _prod(dims: Shape) -> int | None:
    if any(d is None for d in dims):
        return None
    return math.prod(dims)


# --- shape rules, one per canonical op -----------------------------------------------

def _same(node: Node, inputs: list[Node], framework: str) -> tuple:
    return node.in_shape, node.in_layout


def _unknown_shape(node: Node, inputs: list[Node], framework: str) -> tuple:
    return None, node.in_layout


def _conv_layout(node: Node, framework: str) -> str:
    if framework == ir.TORCH:
        return CHANNELS_FIRST
    return node.attrs.get("data_format") or CHANNELS_LAST


def _split(shape: Shape, layout: str) -> tuple[Shape, int | None]:
    if layout == CHANNELS_FIRST:
        return shape[1:], shape[0]
    return shape[:-1], shape[-1]


def _join(spatial: Shape, chans: int | None, layout: str) -> Shape:
    return (chans, *spatial) if layout == CHANNELS_FIRST else (*spatial, chans)


def resolve_pads(padding: Any, size: int | None, kernel: int, stride: int, dilation: int) -> Any:
    """Explicit (before, after) padding for one spatial dimension, or UNKNOWN.

    TF `'same'`: total P = max((ceil(H/s) - 1)*s + d(k-1) + 1 - H, 0), floor(P/2) before
    and the rest after (tensorflow.org/api_docs/python/tf/nn, "Notes on padding").
    """
    extent = dilation * (kernel - 1)
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        if stride == 1:
            total = extent
        elif size is None:
            return UNKNOWN
        else:
            total = max((math.ceil(size / stride) - 1) * stride + extent + 1 - size, 0)
        return (total // 2, total - total // 2)
    if padding == "causal":
        return (extent, 0)
    if isinstance(padding, tuple) and len(padding) == 2:
        return padding
    return UNKNOWN


def _windowed(node: Node, inputs: list[Node], framework: str, window_key: str) -> tuple:
    layout = _conv_layout(node, framework)
    attrs = node.attrs
    rank = attrs.get("rank", 2)
    shape = node.in_shape
    spatial, chans = _split(shape, layout) if shape and len(shape) == rank + 1 else ((None,) * rank, None)
    window = attrs.get(window_key) or (1,) * rank
    stride = attrs.get("stride") or (1,) * rank
    dilation = attrs.get("dilation") or (1,) * rank
    padding = attrs.get("padding", "valid")
    pads, out_spatial = [], []
    for axis in range(rank):
        per_axis = padding[axis] if isinstance(padding, tuple) and len(padding) == rank else padding
        pad = resolve_pads(per_axis, spatial[axis], window[axis], stride[axis], dilation[axis])
        pads.append(pad)
        size = spatial[axis]
        if size is None or pad is UNKNOWN or not is_known((window[axis], stride[axis])):
            out_spatial.append(None)
            continue
        extent = dilation[axis] * (window[axis] - 1) + 1
        span = size + pad[0] + pad[1] - extent
        if span < 0:
            attrs["shape_error"] = (f"window {extent} is larger than the padded input "
                                    f"{size + pad[0] + pad[1]} along spatial axis {axis}")
            out_spatial.append(None)
            continue
        steps = math.ceil(span / stride[axis]) if attrs.get("ceil_mode") else span // stride[axis]
        out_spatial.append(steps + 1)
    attrs["pads"] = tuple(pads)
    if node.op in ("conv", "separable_conv"):
        out_chans = attrs.get("filters")
    elif node.op == "depthwise_conv":
        multiplier = attrs.get("depth_multiplier", 1)
        out_chans = chans * multiplier if isinstance(chans, int) and isinstance(multiplier, int) else None
    else:
        out_chans = chans
    if not isinstance(out_chans, int):
        out_chans = None
    return _join(tuple(out_spatial), out_chans, layout), layout


def _conv(node: Node, inputs: list[Node], framework: str) -> tuple:
    return _windowed(node, inputs, framework, "kernel")


def _pool(node: Node, inputs: list[Node], framework: str) -> tuple:
    return _windowed(node, inputs, framework, "pool")


def _crop(node: Node, inputs: list[Node], framework: str) -> tuple:
    crops = node.attrs.get("crops")
    shape, layout = node.in_shape, node.in_layout or default_layout(framework, node.in_shape)
    if shape is None or not isinstance(crops, tuple) or not is_known(crops):
        return None, layout
    spatial, chans = _split(shape, layout)
    out = tuple(None if d is None else d - a - b for d, (a, b) in zip(spatial, crops))
    return _join(out, chans, layout), layout


def _lambda(node: Node, inputs: list[Node], framework: str) -> tuple:
    declared = node.attrs.get("output_shape")
    if isinstance(declared, tuple) and is_known(declared):
        return _clean(declared), default_layout(framework, declared)
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


def _pad(node: Node, inputs: list[Node], framework: str) -> tuple:
    pads = node.attrs.get("explicit_pads")
    shape, layout = node.in_shape, node.in_layout or default_layout(framework, node.in_shape)
    if shape is None or not isinstance(pads, tuple) or not is_known(pads):
        return None, layout
    spatial, chans = _split(shape, layout)
    if len(pads) != len(spatial):
        return None, layout
    out = tuple(None if d is None else d + a + b for d, (a, b) in zip(spatial, pads))
    return _join(out, chans, layout), layout


def _global_pool(node: Node, inputs: list[Node], framework: str) -> tuple:
    layout = node.in_layout or _conv_layout(node, framework)
    chans = channels(node.in_shape, layout)
    if node.attrs.get("keepdims"):
        rank = node.attrs.get("rank", 2)
        return _join((1,) * rank, chans, layout), layout
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
        merged = _prod(full[start:end + 1])
        out = (*full[1:start], merged, *full[end + 1:])
        return out, FLAT if len(out) == 1 else node.in_layout
    return (_prod(shape),), FLAT


def _reshape(node: Node, inputs: list[Node], framework: str) -> tuple:
    target = node.attrs.get("target_shape")
    if not isinstance(target, tuple):
        return None, None
    if framework == ir.TORCH:
        target = target[1:]  # the first entry is the batch dimension
    total = _prod(node.in_shape) if node.in_shape else None
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
    # Keras Permute dims are 1-based without the batch; torch's include the batch at 0.
    if framework == ir.TORCH:
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


def _dilated(kernel: int, dilation: int) -> int:
    return dilation * (kernel - 1) + 1


def transpose_crops(node: Node) -> tuple | None:
    """What a transposed convolution removes from its full output (length (H-1)s + k)
    at each end, per spatial axis: ((before, after), ...); a negative `after` extends.

    Keras (keras.src.utils.conv_utils.deconv_output_length): `'same'` without
    output_padding gives H*s, cropping floor((k-s)/2) before and the rest after; `'valid'`
    gives (H-1)s + max(k, s). torch crops `padding` on both ends and adds
    `output_padding` at the end (reference §3, experiment E03b).
    """
    a = node.attrs
    rank = a.get("rank", 2)
    kernel, stride = a.get("kernel"), a.get("stride") or (1,) * rank
    dilation = a.get("dilation") or (1,) * rank
    if not is_known((kernel, stride, dilation)):
        return None
    out = []
    for axis in range(rank):
        k, s = _dilated(kernel[axis], dilation[axis]), stride[axis]
        extra = a.get("output_padding")
        extra = extra[axis] if isinstance(extra, tuple) else extra
        padding = a.get("padding")
        if node.framework == ir.KERAS:
            if extra is None:
                if padding == "same":
                    before = max(k - s, 0) // 2
                    out.append((before, (k - s) - before))
                else:
                    out.append((0, -max(s - k, 0)))
                continue
            pad = k // 2 if padding == "same" else 0
            out.append((pad, pad - extra))
            continue
        pads = padding[axis] if isinstance(padding, tuple) and len(padding) == rank else padding
        if not (isinstance(pads, tuple) and is_known(pads)) or not isinstance(extra, int):
            return None
        out.append((pads[0], pads[1] - extra))
    return tuple(out)


def _conv_transpose(node: Node, inputs: list[Node], framework: str) -> tuple:
    layout = _conv_layout(node, framework)
    rank = node.attrs.get("rank", 2)
    shape = node.in_shape
    crops = transpose_crops(node)
    node.attrs["transpose_crops"] = crops
    filters = node.attrs.get("filters")
    filters = filters if isinstance(filters, int) else None
    if not shape or len(shape) != rank + 1 or crops is None:
        return None, layout
    spatial, _ = _split(shape, layout)
    kernel, stride = node.attrs["kernel"], node.attrs.get("stride") or (1,) * rank
    dilation = node.attrs.get("dilation") or (1,) * rank
    out = tuple(None if h is None else (h - 1) * s + _dilated(k, d) - b - e
                for h, k, s, d, (b, e) in zip(spatial, kernel, stride, dilation, crops))
    return _join(out, filters, layout), layout


def _upsample(node: Node, inputs: list[Node], framework: str) -> tuple:
    layout = node.in_layout or _conv_layout(node, framework)
    shape = node.in_shape
    if not shape:
        return None, layout
    spatial, chans = _split(shape, layout)
    size, scale = node.attrs.get("size"), node.attrs.get("scale")
    if isinstance(size, int):
        size = (size,) * len(spatial)
    if isinstance(size, (tuple, list)) and len(size) == len(spatial):
        return _join(tuple(d if isinstance(d, int) else None for d in size), chans, layout), layout
    if isinstance(scale, tuple) and len(scale) == len(spatial):
        out = tuple(None if d is None or not isinstance(f, (int, float)) else int(d * f)
                    for d, f in zip(spatial, scale))
        return _join(out, chans, layout), layout
    return None, layout


def _embedding(node: Node, inputs: list[Node], framework: str) -> tuple:
    dim = node.attrs.get("embedding_dim")
    dim = dim if isinstance(dim, int) else None
    shape = node.in_shape or ()
    return (*shape, dim), CHANNELS_LAST if shape else FLAT


def rnn_directions(node: Node) -> int:
    return 2 if node.attrs.get("bidirectional") else 1


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
    "conv": _conv,
    "conv_transpose": _conv_transpose,
    "upsample": _upsample,
    "embedding": _embedding,
    "rnn": _rnn,
    "rnn_state": _rnn_state,
    "index": _index,
    "rms_norm": _same,
    "depthwise_conv": _conv,
    "separable_conv": _conv,
    "pool": _pool,
    "crop": _crop,
    "lambda": _lambda,
    "layer_norm": _same,
    "reduce": _reduce,
    "transpose": _transpose,
    "chunk": _chunk,
    "attention": _attention,
    "group_norm": _same,
    "normalization": _same,
    "rescale": _same,
    "pad": _pad,
    "global_pool": _global_pool,
    "adaptive_pool": _adaptive_pool,
    "dense": _dense,
    "batch_norm": _same,
    "activation": _same,
    "dropout": _same,
    "identity": _same,
    "flatten": _flatten,
    "reshape": _reshape,
    "permute": _permute,
    "add": _merge,
    "elementwise": _merge,
    "multiply": _merge,
    "concat": _concat,
}


# --- counts --------------------------------------------------------------------------

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
    is_conv = node.op in ("conv", "conv_transpose")
    explicit = node.attrs.get("in_channels" if is_conv else "in_features")
    if isinstance(explicit, int):
        return explicit
    if is_conv:
        layout = _conv_layout(node, node.framework)
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
    cin = channels(node.in_shape, _conv_layout(node, node.framework)) if node.in_shape else None
    kernel, multiplier = a.get("kernel"), a.get("depth_multiplier", 1)
    if cin is None or not is_known(kernel) or not isinstance(multiplier, int):
        return None
    out = cin * multiplier
    return Counts(trainable=math.prod(kernel) * out + (out if a.get("bias") else 0))


def _count_separable(node: Node) -> Counts | None:
    a = node.attrs
    cin = channels(node.in_shape, _conv_layout(node, node.framework)) if node.in_shape else None
    kernel, multiplier, filters = a.get("kernel"), a.get("depth_multiplier", 1), a.get("filters")
    if cin is None or not is_known(kernel) or not isinstance(filters, int) or not isinstance(multiplier, int):
        return None
    depthwise = math.prod(kernel) * cin * multiplier
    return Counts(trainable=depthwise + cin * multiplier * filters + (filters if a.get("bias") else 0))


def _normalized_size(node: Node) -> int | None:
    """How many features a layer/group norm has one gamma (and beta) for."""
    if node.framework == ir.TORCH:
        if node.op == "group_norm":
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


COUNT_RULES: dict[str, Callable[[Node], Counts | None]] = {
    "attention": _count_attention,
    "depthwise_conv": _count_depthwise,
    "separable_conv": _count_separable,
    "layer_norm": _count_norm,
    "group_norm": _count_norm_with_stats,
    "rms_norm": _count_rms_norm,
    "normalization": _count_normalization,
    "conv": _count_conv,
    "conv_transpose": _count_conv,
    "embedding": _count_embedding,
    "activation": _count_activation,
    "rnn": _count_rnn,
    "dense": _count_dense,
    "batch_norm": _count_batch_norm,
}


def count(node: Node, framework: str) -> Counts | None:
    if node.functional:
        return Counts()  # F.linear(x, self.weight): counted with the module's own weights
    rule = COUNT_RULES.get(node.op)
    if rule is None:
        return None if node.op == "opaque" else Counts()
    try:
        return rule(node)
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        # As for shapes (infer_node): attributes of a type the formula cannot take
        # (`nn.Conv2d(1, 4, kernel_size=True)`, a string size) leave the count unknown
        # instead of ending the run with an internal error (found by test_properties).
        return None
