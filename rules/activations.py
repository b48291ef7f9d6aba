"""Activations: missing, extra, different, reordered, and the output head (PTL4xx)."""

from __future__ import annotations

from typing import Iterable

from portlint.align import KERAS_ONLY, MATCH, REORDERED, TORCH_ONLY, Row
from portlint.findings import Finding
from portlint.ir import CHANNELS_FIRST, KERAS, Graph, Node
from portlint.knowledge import IDENTITY_ACTIVATIONS, PROBABILITY_HEADS
from portlint.knowledge.ops import Op
from portlint.layout import softmax_axis
from portlint.rule import FRAMEWORK_LABEL, Case, PairContext, Rule, describe, set_argument_fix

# Ops that do not change which activation a model ends with.
_TRANSPARENT = frozenset({Op.FLATTEN, Op.RESHAPE, Op.PERMUTE, Op.IDENTITY, Op.DROPOUT})


def kind(node: Node) -> str:
    return str(node.attrs.get("kind"))


def label(node: Node) -> str:
    """`ReLU`-style description, naming the layer an activation was fused into."""
    text = kind(node)
    if node.fused_into is not None:
        return f"{text} (fused into {node.layer_type.replace('(activation=)', '')} via activation=)"
    return f"{text} ({node.layer_type})"


def is_output_head(node: Node, graph: Graph) -> bool:
    """An activation whose result reaches a model output through layout ops only."""
    current = node
    while True:
        if current.id in graph.outputs:
            return True
        consumers = graph.consumers(current.id)
        if len(consumers) != 1 or consumers[0].op not in _TRANSPARENT:
            return False
        current = consumers[0]


def _head_row(ctx: PairContext, row: Row) -> bool:
    nodes = [n for n in (row.keras, row.torch) if n is not None]
    return all(n.op == Op.ACTIVATION and kind(n) in PROBABILITY_HEADS
               and is_output_head(n, ctx.alignment.graph(n.framework)) for n in nodes)


# Two dense layers 16 -> 8 -> 4: the activation cases vary the hidden layer's activation,
# the output-head cases the last one.
KERAS_TWO_DENSE = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(16,))
    x = layers.Dense(8, activation={hidden})(inputs)
    x = layers.Dense(4{output})(x)
    return keras.Model(inputs, x)
"""
TORCH_TWO_LINEAR = """
import torch
import torch.nn as nn
{functional}
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 8)
        self.fc2 = nn.Linear(8, 4)

    def forward(self, x):
        x = {hidden}
        return {output}
"""
KERAS_DENSE = KERAS_TWO_DENSE.format(hidden="{act}", output="")
TORCH_DENSE = TORCH_TWO_LINEAR.format(functional="import torch.nn.functional as F\n",
                                      hidden="{body}", output="self.fc2(x)")


class ActivationMismatch(Rule):
    code = "PTL401"
    name = "activation-mismatch"
    severity = "error"
    summary = "Missing, extra or different activation at aligned positions"
    doc = """
## What it flags
An activation present on one side and absent on the other, or a different activation at
the same position. Keras layers often carry their activation inside them
(`Dense(100, activation="relu")`, `Conv2D(..., activation="relu")`); a port must apply
it explicitly (`nn.ReLU()` in a Sequential, `F.relu` or `torch.relu` in `forward`).
portlint expands every fused `activation=` into its own step before aligning, so a
dropped one shows up here. Output heads (softmax/sigmoid at the end) are reported by
`output-activation-mismatch` instead.

## Why it matters
Without the activation the port computes a different function: two Linear layers with
nothing between them collapse into one linear map. The weights load without error and the
outputs are simply wrong.

## Example
```python
# Keras
dense = layers.Dense(100, activation="relu")(x)
# PyTorch port
x = self.fc1(x)          # the ReLU was dropped
```

## Fix
```python
x = F.relu(self.fc1(x))
```

## References
- port-mismatches reference §6 ("Fused activation= kwarg") and §0 (the seed pair)
"""
    VALID = [
        Case(KERAS_DENSE.format(act='"relu"'), TORCH_DENSE.format(body="F.relu(self.fc1(x))"), 0),
        Case(KERAS_DENSE.format(act='"tanh"'), TORCH_DENSE.format(body="torch.tanh(self.fc1(x))"), 0),
        Case(KERAS_DENSE.format(act="None"), TORCH_DENSE.format(body="self.fc1(x)"), 0,
             note="no activation on either side"),
        Case(KERAS_DENSE.format(act='"hard_sigmoid"'), TORCH_DENSE.format(body="F.hardsigmoid(self.fc1(x))"),
             0, note="Keras 3 hard_sigmoid is torch's"),
        Case(KERAS_DENSE.format(act="None").replace("x = layers.Dense(4)(x)",
                                                   "x = layers.ReLU(6.0)(x)\n    x = layers.Dense(4)(x)"),
             TORCH_DENSE.format(body="F.relu6(self.fc1(x))"), 0,
             note="Keras ReLU(max_value=6) is ReLU6"),
    ]
    INVALID = [
        Case(KERAS_DENSE.format(act='"relu"'), TORCH_DENSE.format(body="self.fc1(x)"), 1,
             line=13, message="relu"),
        Case(KERAS_DENSE.format(act='"relu"'), TORCH_DENSE.format(body="torch.sigmoid(self.fc1(x))"),
             1, line=13, message="sigmoid"),
        Case(KERAS_DENSE.format(act="None"), TORCH_DENSE.format(body="F.relu(self.fc1(x))"), 1,
             line=13, message="extra"),
        Case(KERAS_DENSE.format(act="None").replace("x = layers.Dense(4)(x)",
                                                   "x = layers.ReLU(6.0)(x)\n    x = layers.Dense(4)(x)"),
             TORCH_DENSE.format(body="F.relu(self.fc1(x))"), 1, line=13, message="relu6",
             note="an unbounded ReLU for Keras ReLU(6.0)"),
        Case(KERAS_DENSE.format(act='"hard_sigmoid"'), TORCH_DENSE.format(body="F.hardsigmoid(self.fc1(x))"),
             1, line=13, message="0.2x+0.5", keras_version=2,
             note="Keras 2 hard_sigmoid is clip(0.2x + 0.5), torch's relu6(x + 3) / 6"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for row in ctx.rows:
            if row.status == REORDERED or _head_row(ctx, row):
                continue
            port, origin = ctx.split(row)
            theirs = FRAMEWORK_LABEL[ctx.origin]
            if row.status == MATCH and port.op == Op.ACTIVATION:
                if kind(port) != kind(origin) and "?" not in (kind(port), kind(origin)):
                    yield self.finding(ctx, f"different activation: the port applies "
                                            f"{label(port)} where {theirs} applies {label(origin)}",
                                       at=port, about=origin)
            elif row.status in (KERAS_ONLY, TORCH_ONLY):
                node = port or origin
                if node.op != Op.ACTIVATION or kind(node) in IDENTITY_ACTIVATIONS:
                    continue
                if ctx.beside_opaque(row):
                    continue  # the other side's step there was not followed
                if origin is not None:
                    after = ctx.anchor_before(origin)
                    where = f" after {describe(after)}" if after is not None else ""
                    yield self.finding(ctx, f"missing activation{where}: {theirs} applies "
                                            f"{label(origin)} here and the port applies none",
                                       about=origin, prefer_call=True)
                else:
                    yield self.finding(ctx, f"extra activation: the port applies {label(port)} "
                                            f"with no counterpart in {theirs}",
                                       at=port, prefer_call=True)


KERAS_ORDER = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(8, 8, 3))
    x = layers.Conv2D(4, 3, activation={act})(inputs)
    x = layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)
    {after}
    return keras.Model(inputs, x)
"""
TORCH_ORDER = """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(3, 4, 3),
            {first}
            {second}
        )

    def forward(self, x):
        return self.block(x)
"""


class ActivationOrderMismatch(Rule):
    code = "PTL402"
    name = "activation-order-mismatch"
    severity = "error"
    summary = "The same activation and normalization in a different order"
    doc = """
## What it flags
The same activation placed before a normalization layer on one side and after it on the
other: Keras `Conv2D(..., activation="relu")` followed by `BatchNormalization` computes
conv → ReLU → BN, while a port written as conv → BN → ReLU computes something else.

## Why it matters
ReLU→BN normalizes non-negative values; BN→ReLU clips normalized values. With the same
weights the outputs differ everywhere.

## Example
```python
# Keras
x = layers.Conv2D(32, 3, activation="relu")(x)
x = layers.BatchNormalization()(x)
# PyTorch port
nn.Conv2d(1, 32, 3), nn.BatchNorm2d(32), nn.ReLU()
```

## Fix
Apply the activation where the original does: `nn.Conv2d(...), nn.ReLU(), nn.BatchNorm2d(...)`.

## References
- port-mismatches reference §6
"""
    VALID = [
        Case(KERAS_ORDER.format(act='"relu"', after=""),
             TORCH_ORDER.format(first="nn.ReLU(),", second="nn.BatchNorm2d(4),"), 0),
        Case(KERAS_ORDER.format(act="None", after="x = layers.ReLU()(x)"),
             TORCH_ORDER.format(first="nn.BatchNorm2d(4),", second="nn.ReLU(),"), 0),
        Case(KERAS_ORDER.format(act='"relu"', after=""), """
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x):
        return self.bn(F.relu(self.conv(x)))
""", 0, note="fused Keras activation as F.relu in forward, before the BN module"),
    ]
    INVALID = [
        Case(KERAS_ORDER.format(act='"relu"', after=""),
             TORCH_ORDER.format(first="nn.BatchNorm2d(4),", second="nn.ReLU(),"), 1, line=10,
             message="before"),
        Case(KERAS_ORDER.format(act="None", after="x = layers.ReLU()(x)"),
             TORCH_ORDER.format(first="nn.ReLU(),", second="nn.BatchNorm2d(4),"), 1, line=9,
             message="after"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        rows = ctx.rows
        for index, row in enumerate(rows):
            if row.status != REORDERED or row.side(ctx.port) is None:
                continue
            port_act = row.side(ctx.port)
            # Its partner is the nearest reordered row on the other side.
            partner = None
            for other in (rows[index + 1:] + rows[:index][::-1]):
                if other.status == REORDERED and other.side(ctx.origin) is not None:
                    partner = other.side(ctx.origin)
                    break
            if partner is None:
                continue
            norm = _norm_between(ctx, port_act)
            norm_text = describe(norm) if norm is not None else "the normalization"
            port_before = norm is not None and port_act.id < norm.id
            theirs = FRAMEWORK_LABEL[ctx.origin]
            message = (f"{kind(port_act)} is applied {'before' if port_before else 'after'} "
                       f"{norm_text} in the port but {'after' if port_before else 'before'} "
                       f"the normalization in {theirs} ({label(partner)})")
            yield self.finding(ctx, message, at=port_act, about=partner)


def _norm_between(ctx: PairContext, act: Node) -> Node | None:
    """The matched normalization next to a reordered activation in the port."""
    rows = ctx.rows
    position = next(i for i, r in enumerate(rows) if r.side(ctx.port) is act)
    for step in (1, -1):
        k = position + step
        if 0 <= k < len(rows) and rows[k].status == MATCH and rows[k].side(ctx.port) is not None:
            node = rows[k].side(ctx.port)
            if node.op.endswith("norm"):
                return node
    return None


KERAS_HEAD = KERAS_TWO_DENSE.format(hidden='"relu"', output=", activation={head}")
TORCH_HEAD = TORCH_TWO_LINEAR.format(functional="", hidden="torch.relu(self.fc1(x))",
                                     output="{ret}")


class OutputActivationMismatch(Rule):
    code = "PTL404"
    name = "output-activation-mismatch"
    severity = "warning"
    summary = "Softmax/sigmoid head on one side, logits on the other"
    doc = """
## What it flags
A model that ends in a probability head (softmax, sigmoid, log-softmax) ported to one
that returns logits, or the reverse, or two different heads.

## Why it matters
It may be intended: `nn.CrossEntropyLoss` expects logits and applies log-softmax
itself, so a torch port often drops Keras's final softmax. But then the two models'
outputs are not comparable, inference code must apply the softmax, and keeping the
softmax while training with `CrossEntropyLoss` is a double softmax that flattens the
loss (6.84 vs 2.39 in the reference experiment E08). The rule is a warning so that the
choice is made deliberately.

## Example
```python
# Keras
out = layers.Dense(10, activation="softmax")(x)
# PyTorch port
return self.fc2(x)    # logits
```

## Fix
Either apply `torch.softmax(logits, dim=1)` at inference and train with
`CrossEntropyLoss`, or make the heads equal. Suppress the finding where logits are the
intended contract (`# portlint: ignore[output-activation-mismatch]`).

## References
- port-mismatches reference §13 (softmax in model + cross-entropy)
"""
    VALID = [
        Case(KERAS_HEAD.format(head='"softmax"'), TORCH_HEAD.format(ret="torch.softmax(self.fc2(x), dim=-1)"), 0),
        Case(KERAS_HEAD.format(head="None"), TORCH_HEAD.format(ret="self.fc2(x)"), 0,
             note="logits on both sides"),
    ]
    INVALID = [
        Case(KERAS_HEAD.format(head='"softmax"'), TORCH_HEAD.format(ret="self.fc2(x)"), 1,
             line=13, message="logits"),
        Case(KERAS_HEAD.format(head='"sigmoid"'), TORCH_HEAD.format(ret="self.fc2(x)"), 1,
             line=13, message="sigmoid"),
        Case(KERAS_HEAD.format(head="None"), TORCH_HEAD.format(ret="torch.softmax(self.fc2(x), dim=1)"),
             1, line=13, message="logits"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for row in ctx.rows:
            if row.status == REORDERED or not _head_row(ctx, row):
                continue
            port, origin = ctx.split(row)
            theirs = FRAMEWORK_LABEL[ctx.origin]
            if row.status != MATCH and ctx.beside_opaque(row):
                continue  # the other side's step there was not followed
            if port is not None and origin is not None:
                if kind(port) != kind(origin):
                    yield self.finding(ctx, f"output heads differ: the port ends in "
                                            f"{label(port)}, {theirs} in {label(origin)}",
                                       at=port, about=origin)
            elif origin is not None:
                yield self.finding(ctx, f"{theirs} ends in {label(origin)} but the port returns "
                                        f"logits: outputs are not comparable; apply the "
                                        f"{kind(origin)} at inference (and train on logits "
                                        f"with a loss that expects them)",
                                   about=origin, prefer_call=True)
            else:
                yield self.finding(ctx, f"the port ends in {label(port)} but {theirs} returns "
                                        f"logits", at=port, prefer_call=True)


def _feature_dim(port: Node, origin: Node) -> int | None:
    """The torch `dim` that is the original's softmax axis, when that axis is the
    features (channels) axis: -1 for features-last data, 1 for channels-first maps."""
    from portlint.ir import CHANNELS_LAST, FLAT

    axis = softmax_axis(origin)
    shape, layout = origin.in_shape, origin.in_layout
    if axis is None or not shape or axis - 1 != (0 if layout == CHANNELS_FIRST else len(shape) - 1):
        return None
    if port.in_layout in (CHANNELS_LAST, FLAT) or (port.in_shape and len(port.in_shape) == 1):
        return -1
    return 1 if port.in_layout == CHANNELS_FIRST else None


def prelu_sharing(node: Node) -> str | None:
    """How a PReLU shares its slope: "overall", "per channel" or "per element"."""
    if node.framework != KERAS:
        size = node.attrs.get("num_parameters", 1)
        return "overall" if size == 1 else "per channel" if isinstance(size, int) else None
    shape = node.in_shape
    if not shape:
        return None
    shared = node.attrs.get("shared_axes") or ()
    shared = set(shared) if isinstance(shared, tuple) else {shared}
    rank = len(shape)
    channel = 1 if node.in_layout == CHANNELS_FIRST else rank  # 1-based, batch excluded
    others = set(range(1, rank + 1)) - {channel}
    if shared >= set(range(1, rank + 1)):
        return "overall"
    if shared >= others:
        return "per channel"
    return "per element" if not shared else "per element of the unshared axes"


KERAS_ACT = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape={shape})
    x = layers.Dense(8)(inputs)
    x = layers.{layer}(x)
    return keras.Model(inputs, x)
"""
TORCH_ACT = """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear({features}, 8)
        self.act = nn.{layer}

    def forward(self, x):
        return self.act(self.fc(x))
"""


class ActivationDefaultMismatch(Rule):
    code = "PTL403"
    name = "activation-default-mismatch"
    severity = "error"
    summary = "Same activation, different effective parameters (slopes, GELU approximation, softmax axis)"
    doc = """
## What it flags
The same activation on both sides with different effective parameters, defaults included:
- LeakyReLU slopes: the Keras layer defaults to 0.3, the string `"leaky_relu"` to 0.2,
  torch to 0.01;
- GELU's tanh approximation on one side only;
- the softmax axis: Keras normalises the last axis; torch's `nn.Softmax()` without `dim`
  picks dim 0 (the batch) for 3-D input;
- PReLU sharing: Keras learns one slope per element unless `shared_axes` (131,072 for a
  64x64x32 map), torch one overall (`PReLU()`) or one per channel (`PReLU(C)`).

## Why it matters
Different numbers at inference with the same weights: LeakyReLU(0.3) vs 0.01 changes
every negative activation by a factor of 30; a softmax over the batch axis makes each
sample's output depend on the others (reference experiment E04).

## Example
```python
# Keras
x = layers.LeakyReLU()(x)           # negative_slope=0.3
# PyTorch port
self.act = nn.LeakyReLU()           # negative_slope=0.01
```

## Fix
```python
self.act = nn.LeakyReLU(negative_slope=0.3)
```
Safe for slopes: it copies the original's effective value.

## References
- port-mismatches reference §6 (LeakyReLU slope, GELU, softmax axis; experiment E04)
"""
    VALID = [
        Case(KERAS_ACT.format(shape="(16,)", layer="LeakyReLU()"),
             TORCH_ACT.format(features=16, layer="LeakyReLU(0.3)"), 0),
        Case(KERAS_ACT.format(shape="(5, 16)", layer="Softmax()"),
             TORCH_ACT.format(features=16, layer="Softmax(dim=-1)"), 0),
        Case(KERAS_ACT.format(shape="(5, 16)", layer="PReLU(shared_axes=[1])"),
             TORCH_ACT.format(features=16, layer="PReLU(16)"), 0,
             note="per-feature slopes on a sequence"),
        Case(KERAS_ACT.format(shape="(16,)", layer='Activation("gelu")'),
             TORCH_ACT.format(features=16, layer="GELU()"), 0, note="exact GELU on both sides"),
    ]
    INVALID = [
        Case(KERAS_ACT.format(shape="(16,)", layer="LeakyReLU()"),
             TORCH_ACT.format(features=16, layer="LeakyReLU()"), 1, line=8, message="0.3",
             fixed=TORCH_ACT.format(features=16, layer="LeakyReLU(negative_slope=0.3)")),
        Case(KERAS_ACT.format(shape="(5, 16)", layer="Softmax()"),
             TORCH_ACT.format(features=16, layer="Softmax()"), 1, line=8, message="batch",
             fixed=TORCH_ACT.format(features=16, layer="Softmax(dim=-1)")),
        Case(KERAS_ACT.format(shape="(5, 16)", layer="PReLU()"),
             TORCH_ACT.format(features=16, layer="PReLU(16)"), 1, line=8, message="per element",
             note="Keras PReLU learns one slope per element unless shared_axes"),
        Case(KERAS_ACT.format(shape="(16,)", layer="Activation(keras.ops.gelu)"),
             TORCH_ACT.format(features=16, layer="GELU()"), 1, line=8, message="approximate",
             note="keras.ops.gelu defaults to the tanh approximation"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        theirs = FRAMEWORK_LABEL[ctx.origin]
        for port, origin, _ in ctx.matched(Op.ACTIVATION):
            if kind(port) != kind(origin):
                continue  # a different activation is activation-mismatch
            for name in ("negative_slope", "approximate", "alpha"):
                mine, other = port.attrs.get(name), origin.attrs.get(name)
                if mine is None or other is None or mine == other:
                    continue
                fix = set_argument_fix(port, name, other) if name == "negative_slope" else None
                yield self.finding(ctx, f"{kind(port)} {name}: the port uses {mine}, {theirs} "
                                        f"{other}", at=port, about=origin, fix=fix)
            if kind(port) == "prelu":
                mine, other = prelu_sharing(port), prelu_sharing(origin)
                if mine is not None and other is not None and mine != other:
                    yield self.finding(ctx, f"PReLU learns one slope {mine}, {theirs} one slope "
                                            f"{other}: Keras shared_axes=[1, 2] on images is torch "
                                            f"PReLU(C); PReLU() shares one slope", at=port, about=origin)
            if kind(port) in ("softmax", "log_softmax") and port.in_shape and origin.in_shape \
                    and len(port.in_shape) <= 2:
                mine, other = softmax_axis(port), softmax_axis(origin)
                if mine is not None and other is not None and mine != other:
                    where = "the batch axis" if mine == 0 else f"axis {mine}"
                    dim = _feature_dim(port, origin)
                    fix = set_argument_fix(port, "axis", dim) if dim is not None and \
                        port.framework != KERAS else None
                    yield self.finding(ctx, f"{kind(port)} over {where} of a {len(port.in_shape) + 1}-D "
                                            f"tensor; {theirs} normalises axis {other}",
                                       at=port, about=origin, fix=fix)


RULES = [ActivationMismatch, ActivationOrderMismatch, ActivationDefaultMismatch,
         OutputActivationMismatch]
