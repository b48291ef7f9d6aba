"""Data layout: flatten/reshape order and concatenation axis under NHWC vs NCHW (PTL2xx)."""

from __future__ import annotations

import math
from typing import Iterable

from portlint.findings import Finding
from portlint.ir import CHANNELS_FIRST, CHANNELS_LAST, KERAS, Graph, Node
from portlint.knowledge.ops import Op
from portlint.layout import axis_meaning
from portlint.rule import FRAMEWORK_LABEL, Case, PairContext, Rule, describe

_PASS_THROUGH = frozenset({Op.ACTIVATION, Op.DROPOUT, Op.IDENTITY})


def dense_after(node: Node, graph: Graph) -> Node | None:
    """The Dense/Linear layer a flatten feeds, through activations and dropout."""
    current = node
    while True:
        consumers = graph.consumers(current.id)
        if len(consumers) != 1:
            return None
        current = consumers[0]
        if current.op == Op.DENSE:
            return current
        if current.op not in _PASS_THROUGH:
            return None


def spatial_and_channels(node: Node) -> tuple[tuple, int] | None:
    """(spatial dims, channels) of a flatten's input, or None when not a feature map."""
    shape, layout = node.in_shape, node.in_layout
    if not shape or len(shape) < 2 or any(d is None for d in shape):
        return None
    if layout == CHANNELS_LAST:
        return tuple(shape[:-1]), shape[-1]
    if layout == CHANNELS_FIRST:
        return tuple(shape[1:]), shape[0]
    return None


def permutation_recipe(port: Node, dense_port: Node | None, dense_origin: Node | None,
                       spatial: tuple, chans: int) -> str:
    """The weight permutation that makes copied Dense/Linear weights right."""
    dims = ", ".join(str(d) for d in spatial)
    n = len(spatial)
    target = dense_port.name if dense_port is not None else "the next layer"
    source = dense_origin.name if dense_origin is not None else "the original layer"
    if port.framework != KERAS:
        # Keras kernel (H*W*C, out) -> torch weight (out, C*H*W)
        order = ", ".join(str(i) for i in [n + 1, n] + list(range(n)))
        return (f"{target}.weight = K.reshape({dims}, {chans}, out).permute({order})"
                f".reshape(out, -1) where K is the kernel of Keras `{source}`")
    # torch weight (out, C*H*W) -> Keras kernel (H*W*C, out)
    order = ", ".join(str(i) for i in list(range(2, n + 2)) + [1, 0])
    return (f"kernel of `{target}` = W.reshape(out, {chans}, {dims}).permute({order})"
            f".reshape(-1, out) where W is {source}.weight")


KERAS_FLAT = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=({h}, {w}, 3))
    x = layers.Conv2D(8, 3, padding="same")(inputs)
    x = layers.Flatten()(x)
    x = layers.Dense(10)(x)
    return keras.Model(inputs, x)
"""
TORCH_FLAT = """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear({features}, 10)

    def forward(self, x):
        x = self.conv(x)
        {flatten}
        return self.fc(x)
"""


class FlattenLayoutMismatch(Rule):
    code = "PTL201"
    name = "flatten-layout-mismatch"
    severity = "warning"
    summary = "Flatten of a channels-last map vs a channels-first map before Dense/Linear"
    doc = """
## What it flags
A Flatten that feeds a Dense/Linear layer where one side flattens an (H, W, C) map
(Keras's default channels-last layout) and the other a (C, H, W) map (PyTorch). Both
produce H*W*C features, so the shapes agree, but element i is a different pixel and
channel on each side. It stays silent when the map is 1x1 or has one channel (the orders
coincide) and when the port permutes to the other layout before flattening.

## Why it matters
The models are equivalent only if the Dense weights are permuted when copied. Copying the
Keras kernel with a plain transpose is silently wrong: 3.16 max abs difference on a small
model in the reference experiment E06 (4.8e-7 once permuted).

## Example
```python
# Keras: (N, 64, 64, 32) -> Flatten -> Dense(100)
# PyTorch port: (N, 32, 64, 64) -> nn.Flatten() -> nn.Linear(131072, 100)
```

## Fix
Permute the weights when copying (the finding prints the exact expression), or make the
port flatten in Keras order: `x = x.permute(0, 2, 3, 1).flatten(1)`.

## References
- port-mismatches reference §5 (Flatten order, experiment E06)
- https://discuss.pytorch.org/t/transfer-conv2d-layers-from-keras-to-pytorch-give-a-wrong-result/184306
"""
    VALID = [
        Case(KERAS_FLAT.format(h=4, w=4), TORCH_FLAT.format(
            features=128, flatten="x = x.permute(0, 2, 3, 1).flatten(1)"), 0,
             note="the port flattens in Keras order"),
        Case(KERAS_FLAT.format(h=1, w=1), TORCH_FLAT.format(
            features=8, flatten="x = torch.flatten(x, 1)"), 0, note="1x1 map: same order"),
    ]
    INVALID = [
        Case(KERAS_FLAT.format(h=4, w=4), TORCH_FLAT.format(
            features=128, flatten="x = torch.flatten(x, 1)"), 1, line=13, message="permute"),
        Case(KERAS_FLAT.format(h=4, w=4), TORCH_FLAT.format(
            features=128, flatten="x = x.view(x.size(0), -1)"), 1, line=13),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for port, origin, _ in ctx.matched(Op.FLATTEN, Op.RESHAPE):
            if origin.op not in (Op.FLATTEN, Op.RESHAPE):
                continue
            if port.out_shape is None or len(port.out_shape) != 1:
                continue
            mine, theirs = spatial_and_channels(port), spatial_and_channels(origin)
            if mine is None or theirs is None or port.in_layout == origin.in_layout:
                continue
            keras_node = port if port.framework == KERAS else origin
            spatial, chans = spatial_and_channels(keras_node)
            if math.prod(spatial) == 1 or chans == 1:
                continue
            dense_port = dense_after(port, ctx.port_graph)
            dense_origin = dense_after(origin, ctx.origin_graph)
            if dense_port is None and dense_origin is None:
                continue
            theirs_label = FRAMEWORK_LABEL[ctx.origin]
            order = {CHANNELS_LAST: "(H, W, C)", CHANNELS_FIRST: "(C, H, W)"}
            message = (f"the port flattens a {order[port.in_layout]} map {port.in_shape} while "
                       f"{theirs_label} flattens {order[origin.in_layout]} {origin.in_shape}: same "
                       f"size, different element order, so weights copied into "
                       f"{describe(dense_port) if dense_port else 'the next Dense'} need a "
                       f"permutation: {permutation_recipe(port, dense_port, dense_origin, spatial, chans)}")
            yield self.finding(ctx, message, at=port, about=origin, prefer_call=True)


def concat_axis(node: Node) -> str | None:
    """What a concatenation joins along: "features", "batch" or "axis i" (by meaning)."""
    shape, layout = node.in_shape, node.in_layout
    axis = node.attrs.get("axis")
    if not shape or layout is None or not isinstance(axis, int):
        return None
    position = axis % (len(shape) + 1) - 1  # both frameworks count the batch axis
    if position < 0:
        return "batch"
    return axis_meaning(position, len(shape), layout)


KERAS_CONCAT = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(8, 8, 3))
    a = layers.Conv2D(4, 1)(inputs)
    b = layers.Conv2D(6, 1)(inputs)
    x = layers.Concatenate({args})([a, b])
    return keras.Model(inputs, x)
"""
TORCH_CONCAT = """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 1)
        self.b = nn.Conv2d(3, 6, 1)

    def forward(self, x):
        return {cat}
"""


class ConcatAxisMismatch(Rule):
    code = "PTL202"
    name = "concat-axis-mismatch"
    severity = "error"
    summary = "Concatenate axis vs torch.cat dim join different axes under each layout"
    doc = """
## What it flags
A Keras `Concatenate`/`layers.concatenate` and a `torch.cat`/`torch.concat` that join
along different axes once the layouts are taken into account. Keras's default `axis=-1`
is the channels of an NHWC map; torch's default `dim=0` is the **batch**, and `dim=-1`
on NCHW is the width.

## Why it matters
Along the wrong axis the shapes often still work out later (or fail far from the cause):
`cat(dim=0)` stacks samples, `cat(dim=-1)` widens the image instead of adding channels
(reference §5, experiment E08).

## Example
```python
# Keras
x = layers.Concatenate()([a, b])          # channels of NHWC
# PyTorch port
x = torch.cat([a, b])                     # dim=0: the batch
```

## Fix
```python
x = torch.cat([a, b], dim=1)              # channels of NCHW
```

## References
- `keras/src/layers/merging/concatenate.py` (axis=-1)
- https://pytorch.org/docs/stable/generated/torch.cat.html (dim=0)
- port-mismatches reference §5 (Concatenate)
"""
    VALID = [
        Case(KERAS_CONCAT.format(args=""), TORCH_CONCAT.format(cat="torch.cat([self.a(x), self.b(x)], dim=1)"), 0),
        Case(KERAS_CONCAT.format(args="axis=3"), TORCH_CONCAT.format(cat="torch.concat((self.a(x), self.b(x)), -3)"),
             0, note="positive Keras axis, negative torch dim, tuple of tensors"),
    ]
    INVALID = [
        Case(KERAS_CONCAT.format(args=""), TORCH_CONCAT.format(cat="torch.cat([self.a(x), self.b(x)])"),
             1, line=12, message="batch"),
        Case(KERAS_CONCAT.format(args=""), TORCH_CONCAT.format(cat="torch.cat([self.a(x), self.b(x)], dim=-1)"),
             1, line=12, message="axis 1"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        theirs = FRAMEWORK_LABEL[ctx.origin]
        for port, origin, _ in ctx.matched(Op.CONCAT):
            if origin.op != Op.CONCAT:
                continue
            mine, other = concat_axis(port), concat_axis(origin)
            if mine is None or other is None or mine == other:
                continue
            param = "dim" if port.framework != KERAS else "axis"
            yield self.finding(ctx, (
                f"{describe(port)} joins along {mine} ({param}={port.attrs.get('axis')} on "
                f"{port.in_layout} {port.in_shape}), {theirs} along {other}"),
                at=port, about=origin, prefer_call=True)


_SPATIAL_CONSUMERS = frozenset({Op.CONV, Op.DEPTHWISE_CONV, Op.CONV_TRANSPOSE, Op.POOL,
                                Op.GLOBAL_POOL, Op.ADAPTIVE_POOL, Op.BATCH_NORM, Op.UPSAMPLE})


def spatial_consumer(node: Node, graph: Graph) -> Node | None:
    """The first layer that reads `node`'s output as an image (through activations,
    dropout and identity), or None when a permute/transpose or anything else comes first."""
    current = node
    for _ in range(8):
        consumers = graph.consumers(current.id)
        if len(consumers) != 1:
            return None
        current = consumers[0]
        if current.op in _SPATIAL_CONSUMERS:
            return current
        if current.op not in _PASS_THROUGH:
            return None
    return None


def _omits_batch(node: Node) -> bool:
    """A torch permute/view written with Keras's convention: no index for the batch."""
    shape = node.in_shape
    if node.framework == KERAS or not shape or None in shape:
        return False
    if node.op == Op.PERMUTE:
        dims = node.attrs.get("dims")
        return isinstance(dims, tuple) and len(dims) == len(shape)
    if node.op == Op.RESHAPE:
        target = node.attrs.get("target_shape")
        if not isinstance(target, tuple) or not all(isinstance(d, int) and d > 0 for d in target):
            return False
        return math.prod(target) == math.prod(shape)
    return False


KERAS_UNFLATTEN = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(16,))
    x = layers.Dense(128)(inputs)
    x = layers.Reshape((4, 4, 8))(x)
    x = layers.Conv2D(4, 3)(x)
    return keras.Model(inputs, x)
"""
TORCH_UNFLATTEN = """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 128)
        self.conv = nn.Conv2d(8, 4, 3)

    def forward(self, x):
        x = {reshape}
        return self.conv(x)
"""


class ReshapeLayoutMismatch(Rule):
    code = "PTL203"
    name = "reshape-layout-mismatch"
    severity = "warning"
    summary = "Reshape of features into an image in NHWC vs NCHW order, or batch-less torch indices"
    doc = """
## What it flags
- An "unflatten": Keras `Reshape((H, W, C))` of a Dense output read by a convolution,
  ported as torch `x.view(-1, C, H, W)` before a Conv2d. Both run, but Keras reads the
  Dense units in (H, W, C) order and torch in (C, H, W) order, so weights copied from the
  Dense land in the wrong places (the mirror image of flatten-layout-mismatch).
- A torch `permute`/`view` written with Keras's convention: Keras `Permute` dims are
  1-based and exclude the batch, `Reshape` target shapes exclude it; torch's include it
  (`Permute((2, 1))` is `x.permute(0, 2, 1)`).

## Why it matters
The first is silent: shapes match, values do not (reference §5). The second fails for
any batch larger than one, or permutes the batch into the data.

## Example
```python
# Keras
x = layers.Reshape((4, 4, 8))(layers.Dense(128)(x))
# PyTorch port
x = self.fc(x).view(-1, 8, 4, 4)          # reads the 128 units as (C, H, W)
```

## Fix
View in Keras's order and move the channels: `x.view(-1, 4, 4, 8).permute(0, 3, 1, 2)`,
or permute the copied Dense weights:
`fc.weight = K.T.reshape(4, 4, 8, -1).permute(2, 0, 1, 3).reshape(128, -1)` (and the bias
likewise). Give torch `permute`/`view` an index for the batch.

## References
- port-mismatches reference §5 (Flatten order, Reshape / Permute)
"""
    VALID = [
        Case(KERAS_UNFLATTEN, TORCH_UNFLATTEN.format(reshape="self.fc(x).view(-1, 4, 4, 8).permute(0, 3, 1, 2)"),
             0, note="view in Keras order, then channels first"),
        Case(KERAS_UNFLATTEN, TORCH_UNFLATTEN.format(
            reshape="self.fc(x).reshape(x.size(0), 4, 4, 8).permute(0, 3, 1, 2).contiguous()"), 0,
             note="reshape with the batch size spelled out"),
    ]
    INVALID = [
        Case(KERAS_UNFLATTEN, TORCH_UNFLATTEN.format(reshape="self.fc(x).view(-1, 8, 4, 4)"), 1,
             line=11, message="(C, H, W)"),
        Case(KERAS_UNFLATTEN.replace("x = layers.Conv2D(4, 3)(x)", "x = layers.Permute((3, 1, 2))(x)"),
             TORCH_UNFLATTEN.format(reshape="self.fc(x).view(-1, 4, 4, 8).permute(3, 1, 2)").replace(
                 "return self.conv(x)", "return x"), 1, line=11, message="batch"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for node in ctx.port_graph.nodes:
            if _omits_batch(node):
                yield self.finding(ctx, (
                    f"{describe(node)} has one index per sample dimension: torch counts the "
                    f"batch as dim 0 (Keras Permute/Reshape do not); add it, e.g. "
                    f"permute(0, ...) / view(-1, ...)"), at=node, prefer_call=True)
        for port, origin, _ in ctx.matched(Op.RESHAPE):
            if origin.op != Op.RESHAPE:
                continue
            keras, torch = (port, origin) if port.framework == KERAS else (origin, port)
            if not (keras.in_shape and len(keras.in_shape) == 1 and keras.out_shape
                    and len(keras.out_shape) == 3 and None not in keras.out_shape):
                continue
            consumer = spatial_consumer(torch, ctx.alignment.graph(torch.framework))
            if consumer is None or spatial_consumer(keras, ctx.alignment.graph(KERAS)) is None:
                continue
            h, w, c = keras.out_shape
            if torch.out_shape != (c, h, w):
                continue  # a different shape is shape-mismatch's
            yield self.finding(ctx, (
                f"Keras Reshape reads the {h * w * c} features as (H, W, C) = {(h, w, c)}, the "
                f"torch view as (C, H, W) = {(c, h, w)} before {describe(consumer)}: shapes agree "
                f"but the element order does not, so copied Dense weights land in the wrong "
                f"places; view as ({h}, {w}, {c}) and permute(0, 3, 1, 2)"),
                at=port, about=origin, prefer_call=True)


RULES = [FlattenLayoutMismatch, ConcatAxisMismatch, ReshapeLayoutMismatch]
