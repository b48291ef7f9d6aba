"""Layout facts of IR nodes that several rule families read: where a shape's channel axis
is, what an axis means independently of the layout (so NHWC and NCHW layers compare), and
the axes softmax and normalization layers act on. Pure functions of the IR, no inference.
"""

from __future__ import annotations

from .ir import CHANNELS_FIRST, CHANNELS_LAST, FLAT, KERAS, Node
from .knowledge.ops import Op

Shape = tuple  # of int | None, per sample (no batch dimension)


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


def axis_meaning(position: int, rank: int, layout: str) -> str:
    """What a position (batch excluded) of a `rank`-dimensional `layout` shape holds:
    "features" for the channel axis, else "axis i" among the other axes."""
    if layout == FLAT or rank == 1:
        return "features"
    channel = 0 if layout == CHANNELS_FIRST else rank - 1
    if position == channel:
        return "features"
    others = [p for p in range(rank) if p != channel]
    return f"axis {others.index(position)}"


def normalized_axes(node: Node) -> frozenset[str] | None:
    """The axes a normalization layer normalizes, by meaning ("channels", "axis 0", ...)
    rather than position, so that NHWC and NCHW layers can be compared."""
    shape, layout = node.in_shape, node.in_layout
    if not shape or layout is None:
        return None
    rank = len(shape)
    if node.framework == KERAS:
        axes = node.attrs.get("axis", -1)
        axes = axes if isinstance(axes, tuple) else tuple(axes) if isinstance(axes, list) else (axes,)
        if not all(isinstance(a, int) for a in axes):
            return None
        positions = {a - 1 if a > 0 else rank + a for a in axes}
    elif node.op in (Op.BATCH_NORM, Op.GROUP_NORM):
        positions = {0}  # torch normalizes over dim 1 of (N, C, ...)
    else:
        normalized = node.attrs.get("normalized_shape")
        if not isinstance(normalized, tuple):
            return None
        positions = set(range(rank - len(normalized), rank))
    if any(p < 0 or p >= rank for p in positions):
        return None
    return frozenset(axis_meaning(p, rank, layout) for p in positions)


def softmax_axis(node: Node) -> int | None:
    """The softmax axis as a non-negative index into the full shape (batch first);
    torch's `dim=None` picks 0 for 1-D and 3-D tensors and 1 otherwise."""
    if node.in_shape is None:
        return None
    rank = len(node.in_shape) + 1
    axis = node.attrs.get("axis")
    if axis is None:
        return 0 if rank in (1, 3) else 1
    return axis % rank if isinstance(axis, int) else None
