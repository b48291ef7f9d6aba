"""Shape rules of the windowed and spatially resized ops: convolutions and pooling (with
their resolved padding), transposed convolutions, upsampling, padding and cropping.

Resolved padding is stored in `attrs["pads"]` as ((before, after), ...) per spatial
dimension, so rules can compare TF `'same'` with torch's symmetric integers; a transposed
convolution's crops in `attrs["transpose_crops"]`.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from .. import ir
from ..ir import UNKNOWN, Node, is_known
from ..knowledge.ops import Op
from .axes import conv_layout, default_layout, join_channels, split_channels


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
    layout = conv_layout(node, framework)
    attrs = node.attrs
    rank = attrs.get("rank", 2)
    shape = node.in_shape
    spatial, chans = split_channels(shape, layout) if shape and len(shape) == rank + 1 else ((None,) * rank, None)
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
    if node.op in (Op.CONV, Op.SEPARABLE_CONV):
        out_chans = attrs.get("filters")
    elif node.op == Op.DEPTHWISE_CONV:
        multiplier = attrs.get("depth_multiplier", 1)
        out_chans = chans * multiplier if isinstance(chans, int) and isinstance(multiplier, int) else None
    else:
        out_chans = chans
    if not isinstance(out_chans, int):
        out_chans = None
    return join_channels(tuple(out_spatial), out_chans, layout), layout


def _conv(node: Node, inputs: list[Node], framework: str) -> tuple:
    return _windowed(node, inputs, framework, "kernel")


def _pool(node: Node, inputs: list[Node], framework: str) -> tuple:
    return _windowed(node, inputs, framework, "pool")


def _edges(node: Node, framework: str, key: str, sign: int, same_rank: bool) -> tuple:
    """Each spatial axis gains (`sign` 1: padding) or loses (-1: cropping) the
    ((before, after), ...) edges in `attrs[key]`."""
    edges = node.attrs.get(key)
    shape, layout = node.in_shape, node.in_layout or default_layout(framework, node.in_shape)
    if shape is None or not isinstance(edges, tuple) or not is_known(edges):
        return None, layout
    spatial, chans = split_channels(shape, layout)
    if same_rank and len(edges) != len(spatial):
        return None, layout
    out = tuple(None if d is None else d + sign * (a + b) for d, (a, b) in zip(spatial, edges))
    return join_channels(out, chans, layout), layout


def _crop(node: Node, inputs: list[Node], framework: str) -> tuple:
    return _edges(node, framework, "crops", -1, same_rank=False)


def _pad(node: Node, inputs: list[Node], framework: str) -> tuple:
    return _edges(node, framework, "explicit_pads", 1, same_rank=True)


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
    layout = conv_layout(node, framework)
    rank = node.attrs.get("rank", 2)
    shape = node.in_shape
    crops = transpose_crops(node)
    node.attrs["transpose_crops"] = crops
    filters = node.attrs.get("filters")
    filters = filters if isinstance(filters, int) else None
    if not shape or len(shape) != rank + 1 or crops is None:
        return None, layout
    spatial, _ = split_channels(shape, layout)
    kernel, stride = node.attrs["kernel"], node.attrs.get("stride") or (1,) * rank
    dilation = node.attrs.get("dilation") or (1,) * rank
    out = tuple(None if h is None else (h - 1) * s + _dilated(k, d) - b - e
                for h, k, s, d, (b, e) in zip(spatial, kernel, stride, dilation, crops))
    return join_channels(out, filters, layout), layout


def _upsample(node: Node, inputs: list[Node], framework: str) -> tuple:
    layout = node.in_layout or conv_layout(node, framework)
    shape = node.in_shape
    if not shape:
        return None, layout
    spatial, chans = split_channels(shape, layout)
    size, scale = node.attrs.get("size"), node.attrs.get("scale")
    if isinstance(size, int):
        size = (size,) * len(spatial)
    if isinstance(size, (tuple, list)) and len(size) == len(spatial):
        return join_channels(tuple(d if isinstance(d, int) else None for d in size), chans, layout), layout
    if isinstance(scale, tuple) and len(scale) == len(spatial):
        out = tuple(None if d is None or not isinstance(f, (int, float)) else int(d * f)
                    for d, f in zip(spatial, scale))
        return join_channels(out, chans, layout), layout
    return None, layout



SPATIAL_SHAPE_RULES: dict[str, Callable[[Node, list[Node], str], tuple]] = {
    Op.CONV: _conv,
    Op.DEPTHWISE_CONV: _conv,
    Op.SEPARABLE_CONV: _conv,
    Op.POOL: _pool,
    Op.CONV_TRANSPOSE: _conv_transpose,
    Op.UPSAMPLE: _upsample,
    Op.CROP: _crop,
    Op.PAD: _pad,
}
