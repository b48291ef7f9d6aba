"""Convolution geometry: TF 'same' padding vs torch's symmetric padding (PTL3xx)."""

from __future__ import annotations

from typing import Iterable

from portlint.findings import Finding
from portlint.ir import UNKNOWN, is_known
from portlint.knowledge.ops import Op
from portlint.rule import FRAMEWORK_LABEL, Case, PairContext, Rule, set_argument_fix

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


KERAS_CAUSAL = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(20, 4))
    return keras.Model(inputs, layers.Conv1D(8, 3, padding="causal", dilation_rate=2)(inputs))
"""
TORCH_CAUSAL = """
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 8, 3, dilation=2)

    def forward(self, x):
        return self.conv(F.pad(x.transpose(1, 2), ({left}, {right})))
"""
TORCH_CONV2D_SAME = """
import math
import torch.nn as nn
import torch.nn.functional as F


class Conv2dSame(nn.Conv2d):
    def forward(self, x):
        ih, iw = x.size()[-2:]
        kh, kw = self.weight.size()[-2:]
        pad_h = max((math.ceil(ih / self.stride[0]) - 1) * self.stride[0] + (kh - 1) * self.dilation[0] + 1 - ih, 0)
        pad_w = max((math.ceil(iw / self.stride[1]) - 1) * self.stride[1] + (kw - 1) * self.dilation[1] + 1 - iw, 0)
        x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = Conv2dSame(3, 8, {k}, stride={s})

    def forward(self, x):
        return self.conv(x)
"""
TORCH_ZERO_PAD = """
import torch.nn as nn

model = nn.Sequential(nn.ZeroPad2d({pads}), nn.Conv2d(3, 8, 3, stride=2))
"""
KERAS_ZERO_PAD = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(8, 8, 3))
    x = layers.ZeroPadding2D(((1, 2), (0, 1)))(inputs)
    return keras.Model(inputs, layers.Conv2D(8, 3, strides=2)(x))
"""


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
the (before, after) pairs. Correct emulation stays silent: an explicit `F.pad` or
`nn.ZeroPad2d` before a `padding=0` convolution (in torch's (left, right, top, bottom)
order), torch `padding="same"` at stride 1 (extra pad after, like TF), a timm-style
`Conv2dSame` that computes the TF padding in `forward`, and causal `Conv1D` as a left pad
of dilation*(k-1).

Transposed convolutions are compared by what they crop from the full output: Keras
`'same'` gives H*s, cropping floor((k-s)/2) before and the rest after; torch crops
`padding` on both sides and adds `output_padding` at the end. torch's `padding_mode`
other than zeros has no Keras counterpart.

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
        Case(KERAS_CONV.format(size=8, k=4, s=2).replace("Conv2D", "Conv2DTranspose"),
             TORCH_CONV.format(k=4, s=2, p=1, pad="").replace("nn.Conv2d", "nn.ConvTranspose2d"),
             0, note="transposed conv k4 s2: padding=(k-s)/2 is exact"),
        Case(KERAS_CAUSAL, TORCH_CAUSAL.format(left=4, right=0), 0,
             note="causal: left-pad dilation*(k-1), then padding=0"),
        Case(KERAS_CONV.format(size=8, k=4, s=1), TORCH_CONV.format(k=4, s=1, p="'same'", pad=""), 0,
             note="torch padding='same' puts the extra pad after, as TF does"),
        Case(KERAS_CONV.format(size=8, k=3, s=2), TORCH_CONV2D_SAME.format(k=3, s=2), 0,
             note="a timm-style Conv2dSame computing TF padding in forward"),
        Case(KERAS_ZERO_PAD, TORCH_ZERO_PAD.format(pads="(0, 1, 1, 2)"), 0,
             note="ZeroPad2d takes (left, right, top, bottom)"),
    ]
    INVALID = [
        Case(KERAS_CONV.format(size=8, k=3, s=2), TORCH_CONV.format(k=3, s=2, p=1, pad=""), 1,
             line=8, message="(0, 1)"),
        Case(KERAS_CONV.format(size=8, k=4, s=1), TORCH_CONV.format(k=4, s=1, p=2, pad=""), 1,
             line=8),
        Case(KERAS_CONV.format(size=8, k=3, s=2).replace("Conv2D", "Conv2DTranspose"),
             TORCH_CONV.format(k=3, s=2, p="1, output_padding=1", pad="").replace(
                 "nn.Conv2d", "nn.ConvTranspose2d"), 1, line=8, message="(0, 1)",
             note="the common transposed-conv recipe shifts by one pixel"),
        Case(KERAS_CONV.format(size=8, k=3, s=1), TORCH_CONV.format(
            k=3, s=1, p="1, padding_mode='reflect'", pad=""), 1, line=8, message="reflect"),
        Case(KERAS_ZERO_PAD, TORCH_ZERO_PAD.format(pads="(1, 2, 0, 1)"), 1, line=4,
             message="(1, 2), (0, 1)", note="Keras order ((top, bottom), (left, right)) copied"),
        Case(KERAS_CAUSAL, TORCH_CAUSAL.format(left=2, right=2), 1, line=8, message="(4, 0)",
             note="centred instead of causal"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for port, origin, _ in ctx.matched(Op.CONV_TRANSPOSE):
            mine, theirs = port.attrs.get("transpose_crops"), origin.attrs.get("transpose_crops")
            if not (isinstance(mine, tuple) and isinstance(theirs, tuple)) or mine == theirs:
                continue
            label = FRAMEWORK_LABEL[ctx.origin]
            yield self.finding(ctx, (
                f"transposed convolution output window differs: the port crops "
                f"{_pads_text(mine)} (before, after; negative = extends) from the full output "
                f"per spatial dimension, {label} crops {_pads_text(theirs)}. The usual recipe "
                f"padding=(k-1)//2, output_padding=s-1 shifts values by one pixel; use "
                f"padding=floor((k-s)/2) and crop the last row/column when k-s is odd"),
                at=port, about=origin)
        for port, origin, _ in ctx.matched(Op.CONV):
            mode = next((n.attrs.get("padding_mode") for n in (port, origin)
                         if n.attrs.get("padding_mode") not in (None, "zeros")), None)
            if mode is not None and origin.op == Op.CONV:
                yield self.finding(ctx, f"torch padding_mode={mode!r} pads with {mode} values; "
                                        f"Keras convolutions pad with zeros", at=port, about=origin)
                continue
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
        if not all(isinstance(pair, tuple) and len(pair) == 2
                   and all(type(v) is int for v in pair) for pair in extra):
            return None  # a padding size not known statically: nothing to compare
        pads = tuple((a + c, b + d) for (a, b), (c, d) in zip(pads, extra))
    return pads


KERAS_POOL = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=({size}, {size}, 3))
    x = layers.{layer}({args})(inputs)
    return keras.Model(inputs, x)
"""
TORCH_POOL = """
import torch.nn as nn

model = nn.Sequential(
    nn.{layer}({args}),
)
"""


def pooling_pads(ctx: PairContext, node) -> tuple | None:
    """Effective (before, after) padding of a pooling layer; torch's ceil_mode adds the
    trailing cells a last partial window reaches."""
    pads = effective_pads(ctx, node)
    if pads is None or not node.attrs.get("ceil_mode"):
        return pads
    shape, out = node.in_shape, node.out_shape
    window, stride = node.attrs.get("pool"), node.attrs.get("stride")
    if not shape or not out or not is_known((window, stride)):
        return None
    spatial, out_spatial = shape[1:], out[1:]  # torch: channels first
    grown = []
    for (before, after), size, steps, k, s in zip(pads, spatial, out_spatial, window, stride):
        if size is None or steps is None:
            return None
        reach = (steps - 1) * s + k - (size + before + after)
        grown.append((before, after + max(reach, 0)))
    return tuple(grown)


class PoolingMismatch(Rule):
    code = "PTL302"
    name = "pooling-mismatch"
    severity = "error"
    summary = "Pooling padding, count_include_pad or ceil_mode that changes the result"
    doc = """
## What it flags
Aligned pooling layers that do not pool the same cells:
- the effective padding differs (TF `'same'` pads asymmetrically for stride > 1; torch's
  `ceil_mode=True` lets a last partial window reach past the input);
- average pooling over padded windows where Keras excludes the padded cells from the
  divisor and torch's `AvgPool2d` includes them (`count_include_pad=True` by default).

## Why it matters
Border outputs differ with no error: a 4x4 corner average of 3.5 becomes 1.556 in the
reference experiment E06 (max difference 7.5; 0.0 with `count_include_pad=False`).
Converters get this wrong too (onnx2keras and nobuco ignore `count_include_pad`).

## Example
```python
# Keras
layers.AveragePooling2D(3, strides=1, padding="same")
# PyTorch port
nn.AvgPool2d(3, stride=1, padding=1)          # counts the zero padding
```

## Fix
```python
nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
```
The `count_include_pad` fix is safe: it is what Keras computes. Asymmetric padding needs
an explicit pad (`F.pad(x, ..., value=-inf)` before a max pool).

## References
- https://www.tensorflow.org/api_docs/python/tf/nn ("the padded input values are ignored")
- port-mismatches reference §4 (experiments E06, E03, E11)
"""
    VALID = [
        Case(KERAS_POOL.format(size=8, layer="AveragePooling2D", args='3, strides=1, padding="same"'),
             TORCH_POOL.format(layer="AvgPool2d", args="3, stride=1, padding=1, count_include_pad=False"), 0),
        Case(KERAS_POOL.format(size=8, layer="MaxPooling2D", args='2, padding="same"'),
             TORCH_POOL.format(layer="MaxPool2d", args="2"), 0, note="even size: no padding either way"),
    ]
    INVALID = [
        Case(KERAS_POOL.format(size=8, layer="AveragePooling2D", args='3, strides=1, padding="same"'),
             TORCH_POOL.format(layer="AvgPool2d", args="3, stride=1, padding=1"), 1, line=5,
             message="count_include_pad",
             fixed=TORCH_POOL.format(layer="AvgPool2d",
                                     args="3, stride=1, padding=1, count_include_pad=False")),
        Case(KERAS_POOL.format(size=7, layer="MaxPooling2D", args="2"),
             TORCH_POOL.format(layer="MaxPool2d", args="2, ceil_mode=True"), 1, line=5,
             message="ceil_mode"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for port, origin, _ in ctx.matched(Op.POOL):
            if origin.op != Op.POOL or port.attrs.get("kind") != origin.attrs.get("kind"):
                continue  # a different kind of pooling is a layer-config-mismatch
            mine, theirs = pooling_pads(ctx, port), pooling_pads(ctx, origin)
            if mine is None or theirs is None:
                continue
            label = FRAMEWORK_LABEL[ctx.origin]
            if mine != theirs:
                why = " (ceil_mode extends the last window)" if port.attrs.get("ceil_mode") or \
                    origin.attrs.get("ceil_mode") else ""
                yield self.finding(ctx, f"pooling windows differ: the port pads {_pads_text(mine)}"
                                        f"{why}, {label} pads {_pads_text(theirs)} per spatial "
                                        f"dimension", at=port, about=origin)
                continue
            padded = any(a or b for a, b in mine)
            counts = port.attrs.get("count_include_pad"), origin.attrs.get("count_include_pad")
            if port.attrs.get("kind") == "avg" and padded and counts[0] != counts[1]:
                keras_excludes = counts[1] is False
                message = (f"average pooling over padded windows: the port "
                           f"{'counts' if counts[0] else 'excludes'} the padded cells in the "
                           f"divisor, {label} {'excludes' if keras_excludes else 'counts'} them "
                           f"(count_include_pad={counts[0]}); border outputs differ")
                fix = set_argument_fix(port, "count_include_pad", counts[1]) if port.framework != "keras" else None
                yield self.finding(ctx, message, at=port, about=origin, fix=fix)


RULES = [SamePaddingMismatch, PoolingMismatch]
