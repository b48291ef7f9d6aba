"""Normalization layers: momentum convention, epsilon, affine parameters (PTL1xx)."""

from __future__ import annotations

from typing import Iterable

from portlint.findings import Finding
from portlint.ir import KERAS, Node
from portlint.knowledge import source_param
from portlint.rule import FRAMEWORK_LABEL, Case, PairContext, Rule, fmt, set_argument_fix

NORMALIZATION_OPS = ("batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm")


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
    ]
    INVALID = [
        Case(KERAS_BN_15.format(args="momentum=0.15"), TORCH_BN.format(args="4"), 1, line=8,
             message="momentum=0.85"),
        Case(KERAS_BN_15.format(args="momentum=0.15"), TORCH_BN.format(args="4, momentum=0.15"), 1,
             line=8, message="copied literally"),
        Case(KERAS_BN_15.format(args=""), TORCH_BN.format(args="4, momentum=None"), 1, line=8,
             message="cumulative"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for port, origin, _ in ctx.matched("batch_norm"):
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
             message="eps=1e-05 (default)"),
        Case(KERAS_BN_15.format(args="epsilon=1.001e-5"), TORCH_BN.format(args="4, 1e-3"), 1,
             line=8, message="epsilon=1.001e-05"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for port, origin, _ in ctx.matched(*NORMALIZATION_OPS):
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
        for port, origin, _ in ctx.matched(*NORMALIZATION_OPS):
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


RULES = [BatchNormMomentumMismatch, NormEpsilonMismatch, NormAffineMismatch]
