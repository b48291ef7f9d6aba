"""Rules that need no partner model: one file, one model (PTL8xx)."""

from __future__ import annotations

from typing import Iterable

from portlint.findings import Edit, Finding, Fix, Related
from portlint.ir import CHANNELS_FIRST, KERAS, TORCH, Node
from portlint.knowledge.ops import Op
from portlint.layout import normalized_axes, softmax_axis
from portlint.rule import Case, FileContext, FileRule, Withheld, describe, set_argument_fix

KERAS_HEAD = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape={shape})
    x = layers.Dense(8)(inputs)
    x = layers.Softmax()(x)
    return keras.Model(inputs, x)
"""
TORCH_HEAD = """
import torch
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear({features}, 8)
        self.softmax = {softmax}

    def forward(self, x):
        return self.softmax(self.fc(x))
"""


class SoftmaxImplicitDim(FileRule):
    code = "PTL801"
    name = "softmax-implicit-dim"
    severity = "warning"
    summary = "torch softmax/log_softmax without dim: the implicit dim is the batch axis for 3-D input"
    doc = """
## What it flags
`nn.Softmax()`, `nn.LogSoftmax()`, `F.softmax(x)` and `F.log_softmax(x)` without `dim`.
torch then picks the dimension itself (deprecated, with a warning): 0 for 1-D and 3-D
input, 1 otherwise. For a `(N, T, C)` sequence that is the batch axis.

## Why it matters
Keras's softmax is over the last axis. A softmax over the batch sums to 1 across
samples: every output is wrong, silently (reference §6, experiment E04).

## Example
```python
self.softmax = nn.Softmax()          # on (N, T, C): normalizes over N
```

## Fix
```python
self.softmax = nn.Softmax(dim=-1)
```
When the input rank is known and the implicit dim is not the batch, the fix writes that
same dim explicitly (safe: nothing changes but the warning). When it is the batch axis,
the fix writes `dim=-1` and is unsafe: it changes the output, which is the point.

## References
- `torch/nn/functional.py` (`_get_softmax_dim`)
- port-mismatches reference §6 (softmax axis)
"""
    VALID = [
        Case(KERAS_HEAD.format(shape="(16,)"), TORCH_HEAD.format(features=16, softmax="nn.Softmax(dim=-1)"), 0),
        Case(KERAS_HEAD.format(shape="(16,)"),
             TORCH_HEAD.format(features=16, softmax="nn.Identity()").replace(
                 "return self.softmax(self.fc(x))", "return F.softmax(self.fc(x), 1)"), 0,
             note="functional softmax with a positional dim"),
    ]
    INVALID = [
        Case(KERAS_HEAD.format(shape="(10, 16)"), TORCH_HEAD.format(features=16, softmax="nn.Softmax()"),
             1, line=10, message="batch",
             fixed=TORCH_HEAD.format(features=16, softmax="nn.Softmax(dim=-1)")),
        Case(KERAS_HEAD.format(shape="(16,)"),
             TORCH_HEAD.format(features=16, softmax="nn.Identity()").replace(
                 "return self.softmax(self.fc(x))", "return F.log_softmax(self.fc(x))"), 1,
             line=13, message="dim=1",
             fixed=TORCH_HEAD.format(features=16, softmax="nn.Identity()").replace(
                 "return self.softmax(self.fc(x))", "return F.log_softmax(self.fc(x), dim=1)")),
    ]

    def check_file(self, ctx: FileContext) -> Iterable[Finding]:
        if ctx.framework != TORCH:
            return
        for node in ctx.graph.nodes:
            if node.op != Op.ACTIVATION or node.attrs.get("kind") not in ("softmax", "log_softmax"):
                continue
            if node.attrs.get("axis") is not None or "axis" in node.explicit:
                continue
            implicit = softmax_axis(node)
            where = node.span or node.call_span
            if implicit == 0:
                message = (f"{describe(node)} has no dim: on its {len(node.in_shape) + 1}-D input "
                           f"torch picks dim=0, the batch axis, so probabilities sum to 1 across "
                           f"samples; Keras uses the last axis (dim=-1)")
                fix = _dim_fix(node, -1, "unsafe")
            elif implicit is not None:
                message = (f"{describe(node)} has no dim: torch picks dim={implicit} for this "
                           f"{len(node.in_shape) + 1}-D input, with a deprecation warning; write "
                           f"dim={implicit} explicitly")
                fix = _dim_fix(node, implicit, "safe")
            else:
                message = (f"{describe(node)} has no dim: torch picks 0 for 1-D and 3-D input "
                           f"(the batch axis of (N, T, C)) and 1 otherwise; write the dim")
                fix = None
            yield self.file_finding(message, where, fix=fix)


def _dim_fix(node: Node, dim: int, applicability: str) -> Fix | Withheld | None:
    """`dim=...` added to the call that constructs (or applies) the softmax."""
    if node.insert_at is None:
        return None
    if node.indirect is not None:
        return Withheld(node.indirect)
    text = f"{node.insert_prefix}dim={dim}"
    return Fix(applicability, (Edit(node.insert_at, text),), title=f"set dim={dim}")


class ProbabilitiesIntoLogitsLoss(FileRule):
    code = "PTL802"
    name = "probabilities-into-logits-loss"
    severity = "warning"
    summary = "A softmax/sigmoid model output fed to a loss that expects logits"
    doc = """
## What it flags
A model whose output is a softmax (or sigmoid) in a file that also builds a loss which
applies that activation itself: torch `nn.CrossEntropyLoss` / `F.cross_entropy` (log-
softmax inside), `nn.BCEWithLogitsLoss`, and Keras losses with `from_logits=True`.

## Why it matters
The loss applies softmax to probabilities: gradients flatten and training slows or
stalls (reference §13, experiment E08: loss 2.39 instead of 6.84 on the same batch).
Ports make this mistake when a Keras model ends in `Dense(..., activation="softmax")`
and the torch training code uses the usual `CrossEntropyLoss`.

## Example
```python
self.head = nn.Sequential(nn.Linear(64, 10), nn.Softmax(dim=1))
criterion = nn.CrossEntropyLoss()
```

## Fix
Return logits from the model (apply softmax only at prediction time), or use
`log_softmax` with `nn.NLLLoss`. No automatic fix.

## References
- https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html
- port-mismatches reference §13
"""
    VALID = [
        Case(KERAS_HEAD.format(shape="(16,)"),
             TORCH_HEAD.format(features=16, softmax="nn.Identity()") + "\ncriterion = nn.CrossEntropyLoss()\n",
             0, note="logits into CrossEntropyLoss"),
        Case(KERAS_HEAD.format(shape="(16,)"),
             TORCH_HEAD.format(features=16, softmax="nn.LogSoftmax(dim=1)") + "\ncriterion = nn.NLLLoss()\n",
             0, note="log_softmax with NLLLoss"),
    ]
    INVALID = [
        Case(KERAS_HEAD.format(shape="(16,)"),
             TORCH_HEAD.format(features=16, softmax="nn.Softmax(dim=1)") + "\ncriterion = nn.CrossEntropyLoss()\n",
             1, line=15, message="CrossEntropyLoss"),
        Case(KERAS_HEAD.format(shape="(16,)") + "\nLOSS = keras.losses.CategoricalCrossentropy(from_logits=True)\n",
             TORCH_HEAD.format(features=16, softmax="nn.Identity()"), 1, line=11,
             message="from_logits"),
    ]

    def check_file(self, ctx: FileContext) -> Iterable[Finding]:
        head = ctx.graph.probability_head()
        if head is None:
            return
        for call in ctx.graph.logits_losses:
            name = call.name
            if ctx.framework == TORCH and call.applies != head.attrs.get("kind"):
                continue
            related = [Related(head.where, f"the model's output: {describe(head)}")] if head.where else []
            kind = head.attrs.get("kind")
            if ctx.framework == KERAS:
                message = (f"`{name}(from_logits=True)` applies softmax/sigmoid itself, but the "
                           f"model already ends in {kind}: the loss sees probabilities as logits")
            else:
                message = (f"`{name}` expects logits and applies {kind} itself, but the model "
                           f"already ends in {kind}: a double {kind}; return logits from the model")
            yield self.file_finding(message, call.span, related=related)


KERAS_BN_FORMAT = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape={shape})
    x = layers.Conv2D(4, 3{conv})(inputs)
    x = layers.BatchNormalization({bn})(x)
    return keras.Model(inputs, x)
"""
TORCH_BN_PLAIN = """
import torch.nn as nn

model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, momentum=0.01, eps=1e-3))
"""


class BatchNormAxisDataFormat(FileRule):
    code = "PTL803"
    name = "batchnorm-axis-data-format"
    severity = "error"
    summary = "Keras BatchNormalization axis is not the channel axis of its input's data_format"
    doc = """
## What it flags
A Keras `BatchNormalization` whose `axis` is not the channel axis of the map it receives:
`axis=1` after a channels-last convolution (it normalizes rows), or the default `axis=-1`
after a `data_format="channels_first"` convolution (it normalizes columns).

## Why it matters
Batch norm keeps one mean and variance per channel. Over another axis it learns
statistics per row or column: a different function, and weights that do not transfer to
torch's per-channel BatchNorm2d.

## Example
```python
x = layers.Conv2D(32, 3, data_format="channels_first")(x)
x = layers.BatchNormalization()(x)          # axis=-1: the last spatial axis
```

## Fix
```python
x = layers.BatchNormalization(axis=1)(x)    # channels_first
```
Unsafe fix: it changes what the layer computes (which is the intent).

## References
- https://keras.io/api/layers/normalization_layers/batch_normalization/ (axis)
- port-mismatches reference §1 (axis vs channel dim)
"""
    VALID = [
        Case(KERAS_BN_FORMAT.format(shape="(8, 8, 3)", conv="", bn="momentum=0.99"), TORCH_BN_PLAIN, 0),
        Case(KERAS_BN_FORMAT.format(shape="(3, 8, 8)", conv=", data_format='channels_first'", bn="axis=1"),
             TORCH_BN_PLAIN, 0, note="channels_first with axis=1"),
    ]
    INVALID = [
        Case(KERAS_BN_FORMAT.format(shape="(8, 8, 3)", conv="", bn="axis=1"), TORCH_BN_PLAIN, 1,
             line=8, message="axis=-1",
             fixed=KERAS_BN_FORMAT.format(shape="(8, 8, 3)", conv="", bn="axis=-1")),
        Case(KERAS_BN_FORMAT.format(shape="(3, 8, 8)", conv=", data_format='channels_first'", bn=""),
             TORCH_BN_PLAIN, 1, line=8, message="axis=1",
             fixed=KERAS_BN_FORMAT.format(shape="(3, 8, 8)", conv=", data_format='channels_first'",
                                          bn="axis=1")),
    ]

    def check_file(self, ctx: FileContext) -> Iterable[Finding]:
        if ctx.framework != KERAS:
            return
        for node in ctx.graph.nodes:
            if node.op != Op.BATCH_NORM:
                continue
            axes = normalized_axes(node)
            if axes is None or "features" in axes:
                continue
            want = 1 if node.in_layout == CHANNELS_FIRST else -1
            fix = set_argument_fix(node, "axis", want, "unsafe")
            yield self.file_finding(
                f"{describe(node)} normalizes over {', '.join(sorted(axes))} of its "
                f"{node.in_layout} input {node.in_shape}, not the channels: use axis={want}",
                node.span, fix=fix)


RULES = [SoftmaxImplicitDim, ProbabilitiesIntoLogitsLoss, BatchNormAxisDataFormat]
