"""Convolution geometry: TF 'same' padding vs torch's symmetric padding (PTL3xx)."""

from __future__ import annotations

from typing import Iterable

from portlint.findings import Finding
from portlint.ir import UNKNOWN, is_known
from portlint.rule import FRAMEWORK_LABEL, Case, PairContext, Rule

KERAS_CONV = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=({size}, {size}, 3))
    x = layers.Conv2D(8, {k}, strides={s}, padding="same")(inputs)
    return keras.Model(inputs, x)
"""
TORCH_CONV = """
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, {k}, stride={s}, padding={p})

    def forward(self, x):
        {pad}
        return self.conv(x)
"""


def _pads_text(pads: tuple) -> str:
    return ", ".join(f"({a}, {b})" for a, b in pads)


class SamePaddingMismatch(Rule):
    code = "PTL301"
    name = "same-padding-mismatch"
    severity = "error"
    summary = "TF 'same' padding (asymmetric for stride > 1 or even kernels) vs torch padding"
    doc = """
## What it flags
A convolution pair whose effective padding differs. TF/Keras `padding="same"` pads a
total of P = max((ceil(H/s) - 1)*s + d*(k - 1) + 1 - H, 0) per spatial dimension,
floor(P/2) before and the rest after. For stride 1 and odd kernels that is the symmetric
(k-1)/2 torch writes as `padding=1`; for stride 2 it depends on whether the input size is
even or odd, and for even kernels it is always asymmetric, which torch's integer padding
cannot express. portlint resolves both sides from the inferred input sizes and compares
the (before, after) pairs; an explicit `F.pad` before a `padding=0` convolution is
recognised as correct emulation.

## Why it matters
The output shapes usually agree, so nothing fails: the result is shifted by a pixel.
ResNet's stem (224x224, k7, s2) pads (2, 3) in TF and (3, 3) in torch, a max abs
difference of 4.97 in the reference experiment E03.

## Example
```python
# Keras
layers.Conv2D(64, 7, strides=2, padding="same")   # on 224x224: pads (2, 3)
# PyTorch port
nn.Conv2d(3, 64, 7, stride=2, padding=3)          # pads (3, 3)
```

## Fix
```python
x = F.pad(x, (2, 3, 2, 3))                       # left, right, top, bottom
x = nn.Conv2d(3, 64, 7, stride=2, padding=0)(x)
```

## References
- https://www.tensorflow.org/api_docs/python/tf/nn (Notes on padding)
- https://github.com/pytorch/pytorch/issues/3867
- port-mismatches reference §3 (experiments E03, E11)
"""
    VALID = [
        Case(KERAS_CONV.format(size=8, k=3, s=1), TORCH_CONV.format(k=3, s=1, p=1, pad=""), 0,
             note="stride 1, odd kernel: symmetric"),
        Case(KERAS_CONV.format(size=7, k=3, s=2), TORCH_CONV.format(k=3, s=2, p=1, pad=""), 0,
             note="odd input size: TF pads (1, 1) too"),
        Case(KERAS_CONV.format(size=8, k=3, s=2), TORCH_CONV.format(
            k=3, s=2, p=0, pad="x = F.pad(x, (0, 1, 0, 1))"), 0, note="explicit F.pad emulation"),
    ]
    INVALID = [
        Case(KERAS_CONV.format(size=8, k=3, s=2), TORCH_CONV.format(k=3, s=2, p=1, pad=""), 1,
             line=8, message="(0, 1)"),
        Case(KERAS_CONV.format(size=8, k=4, s=1), TORCH_CONV.format(k=4, s=1, p=2, pad=""), 1,
             line=8),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for port, origin, _ in ctx.matched("conv"):
            mine, theirs = effective_pads(ctx, port), effective_pads(ctx, origin)
            if mine is None or theirs is None or mine == theirs:
                continue
            label = FRAMEWORK_LABEL[ctx.origin]
            size = origin.in_shape
            message = (f"padding differs: the port pads {_pads_text(mine)} (before, after) per "
                       f"spatial dimension, {label} pads {_pads_text(theirs)}"
                       f"{' for an input of ' + str(size) if size else ''}; the outputs are "
                       f"shifted. Pad explicitly (F.pad) and use padding=0")
            yield self.finding(ctx, message, at=port, about=origin)


def effective_pads(ctx: PairContext, node) -> tuple | None:
    """The conv's own padding plus any explicit zero padding directly before it."""
    pads = node.attrs.get("pads")
    if not isinstance(pads, tuple) or not all(p is not UNKNOWN and is_known(p) for p in pads):
        return None
    graph = ctx.alignment.graph(node.framework)
    extra = graph.node(node.inputs[0]).attrs.get("explicit_pads") if node.inputs else None
    if isinstance(extra, tuple) and len(extra) == len(pads):
        pads = tuple((a + c, b + d) for (a, b), (c, d) in zip(pads, extra))
    return pads


RULES = [SamePaddingMismatch]
