"""Shapes and layouts: the per-sample shape tuple and where its channel axis is.

Shapes have no batch dimension and are in the framework's own layout; a node's layout
says where its channels are (channels_last, channels_first or flat). Shape inference and
weight counting share these helpers; the channel-axis facts rules read too are in
`portlint.layout`.
"""

from __future__ import annotations

import math
from typing import Any

from .. import ir
from ..ir import CHANNELS_FIRST, CHANNELS_LAST, FLAT, Node
from ..layout import Shape


def default_layout(framework: str, shape: Shape | None) -> str | None:
    if shape is None:
        return None
    if len(shape) <= 1:
        return FLAT
    return CHANNELS_LAST if framework == ir.KERAS else CHANNELS_FIRST


def conv_layout(node: Node, framework: str) -> str:
    if framework == ir.TORCH:
        return CHANNELS_FIRST
    return node.attrs.get("data_format") or CHANNELS_LAST


def split_channels(shape: Shape, layout: str) -> tuple[Shape, int | None]:
    if layout == CHANNELS_FIRST:
        return shape[1:], shape[0]
    return shape[:-1], shape[-1]


def join_channels(spatial: Shape, chans: int | None, layout: str) -> Shape:
    return (chans, *spatial) if layout == CHANNELS_FIRST else (*spatial, chans)


def clean_shape(shape: Any) -> Shape | None:
    if not isinstance(shape, (tuple, list)):
        return None
    return tuple(d if isinstance(d, int) and not isinstance(d, bool) else None for d in shape)


def product(dims: Shape) -> int | None:
    if any(d is None for d in dims):
        return None
    return math.prod(dims)

