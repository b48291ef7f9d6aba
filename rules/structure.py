"""Layer structure: output and declared input shapes (PTL502), layers missing on one
side (PTL503)."""

from __future__ import annotations

from typing import Iterable

from portlint.align import KERAS_ONLY, MOVED, TORCH_ONLY
from portlint.findings import Finding
from portlint.ir import CHANNELS_FIRST, TORCH, Graph, Node
from portlint.knowledge import source_param
from portlint.knowledge.ops import LAYOUT_ONLY, Op
from portlint.layout import channels, to_layout
from portlint.rule import FRAMEWORK_LABEL, Case, PairContext, Rule, describe
from portlint.rules.layer_config import KERAS_MLP, TORCH_MLP  # shared case models

KERAS_CNN = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(8, 8, 3))
    x = layers.Conv2D(16, 3)(inputs)
    x = layers.Flatten()(x)
    x = layers.Dense(10)(x)
    return keras.Model(inputs, x)
"""
TORCH_CNN = """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d({cin}, 16, 3)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear({features}, 10)

    def forward(self, x):
        return self.fc(self.flatten(self.conv(x)))
"""

KERAS_POOLED_CNN = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(8, 8, 3))
    x = layers.Conv2D(16, 3, activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(10)(x)
    return keras.Model(inputs, x)
"""
TORCH_POOLED_CNN_VIEW = """
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3)
        self.conv2 = nn.Conv2d(16, 32, 3)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear({features}, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(x.size(0), -1)
        return self.fc(x)
"""
TORCH_POOLED_CNN_FLATTEN = """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, kernel_size=3), nn.ReLU(),
        )
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x.mean((2, 3)), 1)
        return self.fc(x)
"""


class ShapeMismatch(Rule):
    code = "PTL502"
    name = "shape-mismatch"
    severity = "error"
    summary = "Statically inferred in_features/in_channels/shapes disagree"
    doc = """
## What it flags
Shapes that cannot both be right: a torch `in_channels`/`in_features`/`num_features`
that differs from what the previous layer produces (shapes are propagated from the Keras
`Input`, `--input-shape`, or the partner model's input in the other layout), or aligned
layers whose output shapes differ once layouts are converted. Only the first divergence
between the models is reported; later ones usually follow from it.

## Why it matters
The port fails at run time or at weight loading, or (when a size happens to match in a
different place) silently computes something else.

## Example
```python
# Keras: Conv2D(16, 3) on 8x8x3 -> 6x6x16 -> Flatten -> 576 features
# PyTorch port
self.fc = nn.Linear(1024, 10)      # expects 1024
```

## Fix
Use the inferred size the message gives.

## References
- port-mismatches reference §15 (in_features cross-check)
"""
    VALID = [
        Case(KERAS_CNN, TORCH_CNN.format(cin=3, features=576), 0),
        Case(KERAS_POOLED_CNN, TORCH_POOLED_CNN_VIEW.format(features=32), 0,
             note="functional pooling and x.view(x.size(0), -1) with the right in_features"),
        Case(KERAS_POOLED_CNN, TORCH_POOLED_CNN_FLATTEN, 0,
             note="nn.Sequential feature stack, global mean as x.mean((2, 3)), torch.flatten"),
    ]
    INVALID = [
        Case(KERAS_CNN, TORCH_CNN.format(cin=3, features=1024), 1, line=9, message="576"),
        Case(KERAS_CNN, TORCH_CNN.format(cin=1, features=576), 1, line=7, message="in_channels"),
        Case(KERAS_POOLED_CNN, TORCH_POOLED_CNN_VIEW.format(features=288), 1, line=11,
             message="in_features=288 but receives 32",
             note="in_features computed for a 32x3x3 map, as if the global pooling were not there"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        problems = [*self._declared(ctx, ctx.port_graph), *self._declared(ctx, ctx.origin_graph)]
        yield from problems
        if problems:
            return
        for port, origin, _ in ctx.matched():
            if port.op != origin.op or port.op == Op.RNN:
                # compatible ops (global vs adaptive pooling) may differ in rank; what an
                # RNN returns is rnn-convention-mismatch's to judge
                continue
            mine = port.out_shape
            theirs = to_layout(origin.out_shape, origin.layout, port.layout) if port.layout else None
            if not mine or not theirs or None in mine or None in theirs:
                continue
            if _squeezed(mine) != _squeezed(theirs):
                label = FRAMEWORK_LABEL[ctx.origin]
                yield self.finding(ctx, f"output shape {tuple(mine)} of {describe(port)} differs "
                                        f"from {label} {tuple(origin.out_shape)} "
                                        f"({origin.layout})", at=port, about=origin)
                return

    def _declared(self, ctx: PairContext, graph: Graph) -> Iterable[Finding]:
        for node in graph.nodes:
            if "shape_error" in node.attrs:
                yield self.finding(ctx, f"{describe(node)} cannot be applied to input shape "
                                        f"{node.in_shape}: {node.attrs['shape_error']}", at=node)
                continue
            if not node.in_shape or None in node.in_shape:
                continue
            for canonical, actual in _declared_inputs(node):
                declared = node.attrs.get(canonical)
                if isinstance(declared, int) and actual is not None and declared != actual:
                    param = _param(node, canonical)
                    yield self.finding(ctx, f"{describe(node)} declares {param}={declared} but "
                                            f"receives {actual} (input shape {node.in_shape})",
                                       at=node)


def _is_identity(node: Node) -> bool:
    """A shape-preserving pooling over windows of one element: the input unchanged."""
    return (node.op == Op.ADAPTIVE_POOL and node.in_shape is not None
            and node.out_shape == node.in_shape and None not in node.in_shape)


def _squeezed(shape: tuple) -> tuple:
    """A shape without its size-1 dimensions: (C, 1, 1) and (C,) hold the same values."""
    return tuple(d for d in shape if d != 1)


def _param(node: Node, canonical: str) -> str:
    return source_param(node.framework, node.layer_type, canonical) or canonical


def _declared_inputs(node: Node) -> list[tuple[str, int | None]]:
    if node.op in (Op.CONV, Op.CONV_TRANSPOSE):
        layout = CHANNELS_FIRST if node.framework == TORCH else node.in_layout
        return [("in_channels", channels(node.in_shape, layout))]
    if node.op == Op.RNN and len(node.in_shape) == 2:
        return [("input_size", node.in_shape[-1])]
    if node.op == Op.DENSE:
        return [("in_features", node.in_shape[-1])]
    if node.op == Op.BATCH_NORM:
        return [("num_features", node.normalized_features)]
    return []

KERAS_RESIDUAL = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(16, 16, 8))
    y = layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    y = layers.Conv2D(8, 3, padding="same")(y)
    x = layers.add([inputs, y])
    x = layers.MaxPooling2D()(x)
    return keras.Model(inputs, x)
"""
TORCH_RESIDUAL = """
import torch.nn as nn
import torch.nn.functional as F

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x):
        y = self.conv2(F.relu(self.conv1(x)))
        return {out}
"""


class MissingLayer(Rule):
    code = "PTL503"
    name = "missing-layer"
    severity = "error"
    summary = "A layer on one side has no counterpart on the other"
    doc = """
## What it flags
A layer with weights or behaviour (convolution, dense, normalization, pooling, dropout,
...) that the alignment could not pair with anything on the other side. Activations are
reported by the activation rules and pure layout steps (flatten, reshape, permute,
padding) by the layout and shape rules, so they are not repeated here. A missing dropout
is a warning: it changes training, not inference.

## Why it matters
The models compute different functions, or train differently.

## Example
```python
# Keras
x = layers.BatchNormalization()(x)
# PyTorch port: no BatchNorm2d
```

## Fix
Add the layer to the port at the place the finding points to.

## References
- port-mismatches reference §0
"""
    VALID = [
        Case(KERAS_MLP.format(units=8, bias=True, rate=0.5), TORCH_MLP.format(units=8, bias=True, rate=0.5), 0),
        Case(KERAS_RESIDUAL, TORCH_RESIDUAL.format(out="F.max_pool2d(x + y, 2)"), 0,
             note="layers.add as `x + y`, MaxPooling2D as F.max_pool2d: functional, no modules"),
    ]
    INVALID = [
        Case(KERAS_RESIDUAL, TORCH_RESIDUAL.format(out="x + y"), 1, line=13,
             message="MaxPooling2D"),
        Case(KERAS_RESIDUAL, TORCH_RESIDUAL.format(out="F.max_pool2d(y, 2)"), 1, line=12,
             message="layers.add", note="the residual connection is dropped"),
        Case(KERAS_MLP.format(units=8, bias=True, rate=0.5), """
import torch.nn as nn

model = nn.Sequential(
    nn.Linear(16, 8),
    nn.Linear(8, 4),
)
""", 1, line=5, message="Dropout"),
        Case(KERAS_CNN, """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3)
        self.bn = nn.BatchNorm2d(16)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(576, 10)

    def forward(self, x):
        return self.fc(self.flatten(self.bn(self.conv(x))))
""", 1, line=8, message="BatchNorm2d"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for row in ctx.rows:
            if row.status not in (KERAS_ONLY, TORCH_ONLY):
                continue
            port, origin = ctx.split(row)
            node = port or origin
            if node.op in LAYOUT_ONLY or node.op in (Op.ACTIVATION, Op.INPUT, Op.OPAQUE):
                continue
            if _is_identity(node):
                continue  # e.g. AdaptiveAvgPool2d((7, 7)) on a 7x7 map
            if ctx.beside_opaque(row):
                continue  # the other side's step there was not followed
            severity = "warning" if node.op == Op.DROPOUT else None
            theirs = FRAMEWORK_LABEL[ctx.origin]
            if origin is not None:
                after = ctx.anchor_before(origin)
                where = (f" (expected after {describe(after)})" if after is not None
                         else " (expected at the start of the model)")
                yield self.finding(ctx, f"{theirs} {describe(origin)} has no counterpart in the "
                                        f"port{where}", about=origin,
                                   severity=severity, prefer_call=True)
            else:
                yield self.finding(ctx, f"{describe(port)} has no counterpart in {theirs}",
                                   at=port, severity=severity)



KERAS_BN_POOL = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(8, 8, 3))
    x = layers.Conv2D(16, 3, padding="same")(inputs)
    x = layers.BatchNormalization(momentum={momentum})(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(10)(x))
"""
TORCH_BN_POOL = """
import torch.nn as nn

model = nn.Sequential(
    nn.Conv2d(3, 16, 3, padding=1),
    {first},
    {second},
    nn.Flatten(),
    nn.Linear(256, 10),
)
"""
_BN, _POOL = "nn.BatchNorm2d(16, eps=1e-3, momentum={momentum})", "nn.MaxPool2d(2)"


class LayerOrderMismatch(Rule):
    code = "PTL505"
    name = "layer-order-mismatch"
    severity = "warning"
    summary = "The same layer in a different place: BatchNorm before a pool on one side, after it on the other"
    doc = """
## What it flags
A layer that has its counterpart on the other side a step or two away, past other layers
that do pair: `BatchNormalization` then `MaxPooling2D` in Keras, `MaxPool2d` then
`BatchNorm2d` in the port. The two layers are still paired, so their settings (momentum,
epsilon, pool size, ...) are compared as usual; this rule says that the order differs.
Activations moved across a normalization are `activation-order-mismatch`.

## Why it matters
Reordered layers compute a different function in general. Some orders commute at
inference (a batch norm is a per-channel affine map, which commutes with average pooling,
and with max pooling only where its scale is positive), but training does not: the batch
statistics are taken over a different tensor (pooled or not), so the trained weights differ.

## Example
```python
# Keras
x = layers.BatchNormalization()(x)
x = layers.MaxPooling2D(2)(x)
# PyTorch port
nn.MaxPool2d(2), nn.BatchNorm2d(16),
```

## Fix
Put the layers in the original's order (or keep the order deliberately and suppress the
finding where it is known to commute).

## References
- port-mismatches reference §0 (structure)
"""
    VALID = [
        Case(KERAS_BN_POOL.format(momentum=0.9),
             TORCH_BN_POOL.format(first=_BN.format(momentum=0.1), second=_POOL), 0,
             note="the same order"),
        Case(KERAS_BN_POOL.format(momentum=0.9),
             TORCH_BN_POOL.format(first=_POOL, second="nn.Identity()"), 0,
             note="a batch norm missing in the port is missing-layer, not moved"),
    ]
    INVALID = [
        Case(KERAS_BN_POOL.format(momentum=0.9),
             TORCH_BN_POOL.format(first=_POOL, second=_BN.format(momentum=0.1)), 1, line=6,
             message="MaxPool2d", note="pool and batch norm swapped; the batch norms still pair"),
        Case(KERAS_MLP.format(units=8, bias=True, rate=0.5),
             "import torch.nn as nn\n\nmodel = nn.Sequential(\n    nn.Linear(16, 8),\n"
             "    nn.Linear(8, 4),\n    nn.Dropout(0.5),\n)\n", 1, line=6, message="Dropout",
             note="the dropout moved after the last layer"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for row in ctx.rows:
            if row.status != MOVED:
                continue
            port, origin = ctx.split(row)
            side = 0 if ctx.port == "keras" else 1
            crossed = ", ".join(describe(pair[side]) for pair in row.crossed)
            theirs = FRAMEWORK_LABEL[ctx.origin]
            before = port.id < row.crossed[0][side].id  # node ids follow evaluation order
            yield self.finding(
                ctx, f"{describe(port)} comes {'before' if before else 'after'} {crossed} here, "
                     f"{'after' if before else 'before'} it in {theirs} "
                     f"({describe(origin)}): the layers are paired, their order differs",
                at=port, about=origin)


RULES = [ShapeMismatch, MissingLayer, LayerOrderMismatch]
