"""Normalization layers: momentum convention, epsilon, affine parameters (PTL1xx)."""

from __future__ import annotations

from typing import Iterable

from portlint.findings import Finding
from portlint.ir import KERAS, Node
from portlint.knowledge import source_param
from portlint.knowledge.ops import NORMALIZATIONS, Op
from portlint.layout import normalized_axes
from portlint.rule import FRAMEWORK_LABEL, Case, PairContext, Rule, fmt, set_argument_fix


def spelled(node: Node, canonical: str, value: object) -> str:
    """How the node's framework writes a canonical value: `momentum=0.15 (default)`."""
    param = source_param(node.framework, node.layer_type, canonical) or canonical
    default = "" if canonical in node.explicit else " (default)"
    return f"{param}={fmt(value)}{default}"


def keras_momentum(new_stat_weight: float) -> float:
    return round(1.0 - new_stat_weight, 12)


KERAS_BN_15 = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(8, 8, 3))
    x = layers.Conv2D(4, 3)(inputs)
    x = layers.BatchNormalization({args})(x)
    return keras.Model(inputs, x)
"""
TORCH_BN = """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d({args})

    def forward(self, x):
        return self.bn(self.conv(x))
"""


class BatchNormMomentumMismatch(Rule):
    code = "PTL101"
    name = "batchnorm-momentum-mismatch"
    severity = "error"
    summary = "Batch-norm momenta that are not equivalent under the two conventions"
    doc = """
## What it flags
A BatchNormalization / BatchNorm pair whose momenta do not describe the same moving
average. Keras updates `moving = m * moving + (1 - m) * batch`: its momentum weighs the
**old** value (default 0.99). PyTorch updates `running = (1 - m) * running + m * batch`:
its momentum weighs the **new** batch statistic (default 0.1). Keras `m` corresponds to
torch `1 - m`. torch `momentum=None` (a cumulative average) has no Keras equivalent.

## Why it matters
The running statistics are what inference uses. With Keras `momentum=0.15` and the value
copied literally into torch, one training step moves the running mean 5.7 times less than
Keras does (0.41 vs 2.34 in the reference experiment E02). Copying weights and training
further, or fine-tuning, gives a different model.

## Example
```python
# Keras
x = layers.BatchNormalization(momentum=0.15)(x)
# PyTorch port
self.bn = nn.BatchNorm2d(32)               # momentum=0.1: Keras 0.9, not 0.15
self.bn = nn.BatchNorm2d(32, momentum=0.15)  # copied literally: Keras 0.85
```

## Fix
```python
self.bn = nn.BatchNorm2d(32, momentum=0.85)  # = 1 - 0.15
```
The fix is safe: it sets the port's momentum to the exact equivalent of the original.
It is offered only where the call names the class (`nn.BatchNorm2d(...)`, an import alias):
a layer built through a parameter such as torchvision's `norm_layer(width)` may be given
`FrozenBatchNorm2d`, which takes no momentum, so there the finding says to change it where
the layer class is chosen.

## References
- keras `keras/src/layers/normalization/batch_normalization.py` (moving average update)
- https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html (momentum note)
- port-mismatches reference §1 (experiment E02)
"""
    VALID = [
        Case(KERAS_BN_15.format(args="momentum=0.15"), TORCH_BN.format(args="4, momentum=0.85"), 0,
             note="converted momentum"),
        Case(KERAS_BN_15.format(args="momentum=0.9"), TORCH_BN.format(args="4"), 0,
             note="Keras 0.9 is torch's default 0.1"),
        Case(KERAS_BN_15.format(args="momentum=0.15"), TORCH_BN.format(args="4").replace(
            "self.bn = nn.BatchNorm2d(4)", "self.bn = nn.BatchNorm2d(4)\n        self.bn.momentum = 0.85"),
             0, note="momentum set on the module after construction"),
    ]
    INVALID = [
        Case(KERAS_BN_15.format(args="momentum=0.15"), TORCH_BN.format(args="4"), 1, line=8,
             message="momentum=0.85", fixed=TORCH_BN.format(args="4, momentum=0.85")),
        Case(KERAS_BN_15.format(args="momentum=0.15"), TORCH_BN.format(args="4, momentum=0.15"), 1,
             line=8, message="copied literally", fixed=TORCH_BN.format(args="4, momentum=0.85")),
        Case(KERAS_BN_15.format(args=""), TORCH_BN.format(args="4, momentum=None"), 1, line=8,
             message="cumulative"),
        Case(KERAS_BN_15.format(args=""), TORCH_BN.format(args="4, momentum=0.01, track_running_stats=False"),
             1, line=8, message="track_running_stats=False"),
        Case(KERAS_BN_15.format(args="renorm=True"), TORCH_BN.format(args="4, momentum=0.01"), 1,
             line=8, message="renorm"),
        Case(KERAS_BN_15.format(args="momentum=0.15"), TORCH_BN.format(args="4").replace(
            "def __init__(self):", "def __init__(self, norm_layer=nn.BatchNorm2d):").replace(
            "nn.BatchNorm2d(4)", "norm_layer(4)"), 1, line=8,
             message="no automatic fix: `norm_layer` is a parameter",
             note="built through a parameter: reported, not edited"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for port, origin, _ in ctx.matched(Op.BATCH_NORM):
            unportable = list(_unportable_statistics(port, origin))
            for message in unportable:
                yield self.finding(ctx, message, at=port, about=origin)
            if unportable:
                continue
            mine, theirs = port.attrs.get("new_stat_weight"), origin.attrs.get("new_stat_weight")
            if not (_is_weight(mine) and _is_weight(theirs)):
                continue  # unknown values are reported as unresolved
            label = FRAMEWORK_LABEL[origin.framework]
            if mine is None or theirs is None:
                if mine is theirs:
                    continue
                message = (f"{port.layer_type} {momentum_text(port)} is not {label} "
                           f"{momentum_text(origin)}: torch momentum=None is a cumulative "
                           f"average over all batches, which Keras cannot express")
                yield self.finding(ctx, message, at=port, about=origin)
                continue
            if abs(mine - theirs) < 1e-9:
                continue
            equivalent = keras_momentum(theirs) if port.framework == KERAS else theirs
            message = (f"{port.layer_type} {momentum_text(port)} is not {label} "
                       f"{momentum_text(origin)}: Keras momentum weighs the old running "
                       f"statistic, torch momentum the new batch statistic, so the "
                       f"equivalent is momentum={fmt(equivalent)}")
            if abs(momentum_value(port) - momentum_value(origin)) < 1e-9:
                message += " (the value was copied literally)"
            yield self.finding(ctx, message, at=port, about=origin,
                               fix=set_argument_fix(port, "new_stat_weight", theirs))


def _unportable_statistics(*nodes: Node) -> Iterable[str]:
    """Running-statistics settings one framework has and the other cannot express."""
    for node in nodes:
        a = node.attrs
        if node.framework == KERAS:
            if a.get("renorm") is True:
                yield ("Keras BatchNormalization(renorm=True) (batch renormalization, with 3 "
                       "more statistics per channel) has no torch equivalent")
            if a.get("virtual_batch_size") is not None:
                yield (f"tf.keras virtual_batch_size={a['virtual_batch_size']} (ghost batch "
                       f"norm) has no torch equivalent")
            if a.get("adjustment") is not None:
                yield "tf.keras BatchNormalization(adjustment=...) has no torch equivalent"
        elif a.get("track_running_stats") is False and node.op == Op.BATCH_NORM:
            yield (f"{node.layer_type}(track_running_stats=False) keeps no running statistics "
                   f"and normalizes with batch statistics at inference too; Keras always uses "
                   f"its moving statistics at inference")


def _is_weight(value: object) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def momentum_value(node: Node) -> float | None:
    """The momentum as the node's own framework writes it."""
    weight = node.attrs.get("new_stat_weight")
    if weight is None or node.framework != KERAS:
        return weight
    return keras_momentum(weight)


def momentum_text(node: Node) -> str:
    return spelled(node, "new_stat_weight", momentum_value(node))


class NormEpsilonMismatch(Rule):
    code = "PTL102"
    name = "norm-epsilon-mismatch"
    severity = "error"
    summary = "Epsilon of a normalization layer differs, defaults included"
    doc = """
## What it flags
A normalization pair (BatchNorm, LayerNorm, GroupNorm, InstanceNorm, RMSNorm) whose
epsilon differs, counting each framework's default: Keras BatchNormalization and
LayerNormalization default to 1e-3, torch's BatchNorm/LayerNorm/GroupNorm to 1e-5.

## Why it matters
Epsilon is added to the variance before the square root. Where a channel's variance is
small the outputs differ visibly: with running variance 1e-4, Keras 1e-3 vs torch 1e-5
gives a max abs difference of 1.95 in the reference experiment E02 (0.0 once equal).

## Example
```python
# Keras
x = layers.BatchNormalization()(x)   # epsilon=1e-3
# PyTorch port
self.bn = nn.BatchNorm2d(32)          # eps=1e-5
```

## Fix
```python
self.bn = nn.BatchNorm2d(32, eps=1e-3)
```
Safe: it copies the original's epsilon.

## References
- port-mismatches reference §1 and §2 (experiments E02, E07)
- Keras Applications ResNet uses 1.001e-5 (`keras/src/applications/resnet.py`)
"""
    VALID = [
        Case(KERAS_BN_15.format(args="epsilon=1e-5"), TORCH_BN.format(args="4"), 0,
             note="explicit Keras epsilon equal to torch's default"),
        Case(KERAS_BN_15.format(args=""), TORCH_BN.format(args="4, eps=0.001"), 0,
             note="torch eps set to Keras's default"),
    ]
    INVALID = [
        Case(KERAS_BN_15.format(args=""), TORCH_BN.format(args="4"), 1, line=8,
             message="eps=1e-05 (default)", fixed=TORCH_BN.format(args="4, eps=0.001")),
        Case(KERAS_BN_15.format(args="epsilon=1.001e-5"), TORCH_BN.format(args="4, 1e-3"), 1,
             line=8, message="epsilon=1.001e-05", fixed=TORCH_BN.format(args="4, 1.001e-05")),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for port, origin, _ in ctx.matched(*NORMALIZATIONS):
            mine, theirs = port.attrs.get("epsilon"), origin.attrs.get("epsilon")
            if not (isinstance(mine, (int, float)) and isinstance(theirs, (int, float))):
                continue
            if abs(mine - theirs) <= 1e-12 + 1e-9 * abs(theirs):
                continue
            label = FRAMEWORK_LABEL[origin.framework]
            message = (f"{port.layer_type} {spelled(port, 'epsilon', mine)} differs from "
                       f"{label} {spelled(origin, 'epsilon', theirs)}; outputs differ wherever "
                       f"a channel's variance is small")
            yield self.finding(ctx, message, at=port, about=origin,
                               fix=set_argument_fix(port, "epsilon", theirs))


class NormAffineMismatch(Rule):
    code = "PTL103"
    name = "norm-affine-mismatch"
    severity = "error"
    summary = "Keras center/scale and torch affine disagree"
    doc = """
## What it flags
Keras normalization layers learn a shift (`center`, beta) and a scale (`scale`, gamma)
independently; torch learns both or neither (`affine`, `elementwise_affine`). The rule
flags pairs where the learned parameters differ: `affine=False` against Keras defaults, or
Keras `scale=False` (beta only), which torch cannot express with `affine` alone.

## Why it matters
Missing gamma/beta make the port a different function once the weights are trained, and
weight transfer fails (Keras has [beta, moving_mean, moving_variance] where torch expects
weight, bias, running_mean, running_var).

## Example
```python
# Keras
x = layers.BatchNormalization(scale=False)(x)
# PyTorch port
self.bn = nn.BatchNorm2d(32)   # affine=True learns a scale Keras does not have
```

## Fix
Match the flags; for beta-only Keras layers keep `affine=True` in torch and freeze the
weight at 1 (`self.bn.weight.requires_grad_(False)`). No automatic fix.

## References
- port-mismatches reference §1 (center/scale vs affine, experiment E02)
"""
    VALID = [
        Case(KERAS_BN_15.format(args="center=False, scale=False"),
             TORCH_BN.format(args="4, affine=False"), 0, note="both without affine"),
        Case(KERAS_BN_15.format(args=""), TORCH_BN.format(args="4, affine=True"), 0),
    ]
    INVALID = [
        Case(KERAS_BN_15.format(args=""), TORCH_BN.format(args="4, affine=False"), 1, line=8,
             message="affine=False"),
        Case(KERAS_BN_15.format(args="scale=False"), TORCH_BN.format(args="4"), 1, line=8,
             message="scale=False"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for port, origin, _ in ctx.matched(*NORMALIZATIONS):
            mine = (port.attrs.get("center"), port.attrs.get("scale"))
            theirs = (origin.attrs.get("center"), origin.attrs.get("scale"))
            if not all(isinstance(v, bool) for v in (*mine, *theirs)) or mine == theirs:
                continue
            keras_node = port if port.framework == KERAS else origin
            torch_node = origin if keras_node is port else port
            k = f"center={keras_node.attrs['center']}, scale={keras_node.attrs['scale']}"
            t_param = source_param(torch_node.framework, torch_node.layer_type, "center") or "affine"
            t = f"{t_param}={torch_node.attrs['center']}"
            note = ""
            if keras_node.attrs["center"] != keras_node.attrs["scale"]:
                note = "; torch cannot learn only one of them: keep affine and freeze the other"
            message = (f"learned normalization parameters differ: Keras {k} vs torch {t}"
                       f"{note}")
            yield self.finding(ctx, message, at=port, about=origin)


def _axes_text(axes: frozenset[str]) -> str:
    return ", ".join(sorted(axes, key=lambda a: (a != "features", a)))


KERAS_SEQ_NORM = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(10, 16))
    x = layers.Dense(16)(inputs)
    x = layers.{layer}(x)
    return keras.Model(inputs, x)
"""
TORCH_SEQ_NORM = """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.norm = nn.{module}

    def forward(self, x):
        {body}
"""


class NormalizationAxisMismatch(Rule):
    code = "PTL104"
    name = "normalization-axis-mismatch"
    severity = "error"
    summary = "The normalized axis is not the same feature axis under each side's layout"
    doc = """
## What it flags
A normalization pair that normalizes different axes once each side's layout is taken
into account:
- Keras BatchNormalization normalizes `axis` (default -1, the channels of NHWC data);
  torch BatchNorm always normalizes dim 1. `BatchNorm1d(F)` on a `(N, T, F)` sequence
  normalizes T, not F: it fails when T != F and is silently wrong when T == F.
- Keras `BatchNormalization(axis=1)` on channels-last data normalizes a spatial axis.
- Keras LayerNormalization normalizes `axis` (default: the last); torch LayerNorm the
  trailing `normalized_shape` dimensions: `LayerNorm(C)` on NCHW normalizes W, and
  `LayerNorm([C, H, W])` corresponds to Keras `axis=[1, 2, 3]`, not `axis=-1`.

## Why it matters
Statistics over the wrong axis give a different function with the same parameter count
(6 vs 96 parameters in the reference's LayerNorm experiment E07 when the axes also differ
in size).

## Example
```python
# Keras: BN after Dense on (N, T, F) normalizes F
x = layers.BatchNormalization()(layers.Dense(16)(x))
# PyTorch port
x = self.bn(self.fc(x))            # BatchNorm1d(16) on (N, T, 16): normalizes T
```

## Fix
```python
x = self.bn(self.fc(x).transpose(1, 2)).transpose(1, 2)
```
or normalize with the matching LayerNorm shape. No automatic fix.

## References
- https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm1d.html (input (N, C, L))
- port-mismatches reference §1 (axis vs channel dim), §2 (axis vs normalized_shape)
"""
    VALID = [
        Case(KERAS_SEQ_NORM.format(layer="LayerNormalization(epsilon=1e-5)"),
             TORCH_SEQ_NORM.format(module="LayerNorm(16)", body="return self.norm(self.fc(x))"), 0,
             note="both normalize the features of a sequence"),
        Case(KERAS_SEQ_NORM.format(layer="BatchNormalization(momentum=0.9, epsilon=1e-5)"),
             TORCH_SEQ_NORM.format(module="BatchNorm1d(16)",
                                   body="return self.norm(self.fc(x).transpose(1, 2)).transpose(1, 2)"),
             0, note="BatchNorm1d after moving features to dim 1"),
    ]
    INVALID = [
        Case(KERAS_SEQ_NORM.format(layer="BatchNormalization(momentum=0.9, epsilon=1e-5)").replace(
            "(10, 16)", "(16, 16)"),
             TORCH_SEQ_NORM.format(module="BatchNorm1d(16)", body="return self.norm(self.fc(x))"),
             1, line=8, message="axis 0", note="T == F: runs, silently normalizes time steps"),
        Case(KERAS_SEQ_NORM.format(layer="LayerNormalization(axis=[1, 2], epsilon=1e-5)"),
             TORCH_SEQ_NORM.format(module="LayerNorm(16)", body="return self.norm(self.fc(x))"),
             1, line=8, message="features"),
        Case(KERAS_BN_15.format(args="axis=1, momentum=0.9, epsilon=1e-5"), TORCH_BN.format(args="4"),
             1, line=8, message="axis 0"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for port, origin, _ in ctx.matched(*NORMALIZATIONS):
            if port.op != origin.op:
                continue
            mine, theirs = normalized_axes(port), normalized_axes(origin)
            if mine is None or theirs is None or mine == theirs:
                continue
            label = FRAMEWORK_LABEL[origin.framework]
            yield self.finding(ctx, (
                f"{port.layer_type} normalizes over {_axes_text(mine)} of its input "
                f"{port.in_shape} ({port.in_layout}), {label} {origin.layer_type} over "
                f"{_axes_text(theirs)} of {origin.in_shape} ({origin.in_layout})"),
                at=port, about=origin)


KERAS_RMS = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(10, 16))
    x = layers.{layer}(inputs)
    return keras.Model(inputs, x)
"""
TORCH_RMS = """
import torch.nn as nn

model = nn.Sequential(nn.{module})
"""


class NormKindMismatch(Rule):
    code = "PTL105"
    name = "norm-kind-mismatch"
    severity = "error"
    summary = "LayerNorm aligned with RMSNorm, or Keras rms_scaling taken for RMSNorm"
    doc = """
## What it flags
A layer normalization on one side aligned with an RMS normalization on the other, and
Keras `LayerNormalization(rms_scaling=True)` in any pairing: it computes
x / sqrt(var + eps) * gamma, an un-centred numerator over a centred variance, which is
neither LayerNorm nor RMSNorm (deprecated in Keras 3.15).

## Why it matters
The outputs differ by the mean of each row: 3.12 max abs difference between
`rms_scaling=True` and torch RMSNorm in the reference experiment E07; RMSNormalization
vs RMSNorm with equal epsilon agree to 2.4e-7.

## Example
```python
# Keras
x = layers.LayerNormalization(rms_scaling=True)(x)
# PyTorch port
self.norm = nn.RMSNorm(16)
```

## Fix
```python
x = layers.RMSNormalization(epsilon=1e-6)(x)   # Keras 3
self.norm = nn.RMSNorm(16, eps=1e-6)           # set eps: torch's None means 1.19e-7
```

## References
- `keras/src/layers/normalization/layer_normalization.py` (rms_scaling)
- https://pytorch.org/docs/stable/generated/torch.nn.RMSNorm.html
- port-mismatches reference §2 (experiment E07)
"""
    VALID = [
        Case(KERAS_RMS.format(layer="RMSNormalization(epsilon=1e-6)"),
             TORCH_RMS.format(module="RMSNorm(16, eps=1e-6)"), 0),
        Case(KERAS_RMS.format(layer="LayerNormalization(epsilon=1e-5)"),
             TORCH_RMS.format(module="LayerNorm(16)"), 0),
        Case(KERAS_RMS.format(layer="RMSNormalization(axis=-1, epsilon=1e-6)"),
             TORCH_RMS.format(module="RMSNorm([16], eps=1e-6, elementwise_affine=True)"), 0,
             note="normalized_shape as a list, defaults spelled out"),
    ]
    INVALID = [
        Case(KERAS_RMS.format(layer="LayerNormalization(rms_scaling=True, epsilon=1e-6)"),
             TORCH_RMS.format(module="RMSNorm(16, eps=1e-6)"), 1, line=4, message="rms_scaling"),
        Case(KERAS_RMS.format(layer="LayerNormalization(epsilon=1e-6)"),
             TORCH_RMS.format(module="RMSNorm(16, eps=1e-6)"), 1, line=4, message="RMS"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for port, origin, _ in ctx.matched(Op.LAYER_NORM, Op.RMS_NORM):
            if origin.op not in (Op.LAYER_NORM, Op.RMS_NORM):
                continue
            label = FRAMEWORK_LABEL[origin.framework]
            rms_scaling = next((n for n in (port, origin) if n.attrs.get("rms_scaling")), None)
            if rms_scaling is not None:
                yield self.finding(ctx, (
                    "Keras LayerNormalization(rms_scaling=True) divides the un-centred input by "
                    "the centred standard deviation: neither LayerNorm nor RMSNorm. Use "
                    "keras.layers.RMSNormalization"), at=port, about=origin)
            elif port.op != origin.op:
                kinds = {Op.LAYER_NORM: "layer normalization (centred)",
                         Op.RMS_NORM: "RMS normalization (not centred)"}
                yield self.finding(ctx, f"{port.layer_type} is {kinds[port.op]}, {label} "
                                        f"{origin.layer_type} is {kinds[origin.op]}",
                                   at=port, about=origin)


RULES = [BatchNormMomentumMismatch, NormEpsilonMismatch, NormAffineMismatch,
         NormalizationAxisMismatch, NormKindMismatch]
