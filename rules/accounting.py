"""Whole-model accounting: parameter totals, buffers, initializers (PTL7xx)."""

from __future__ import annotations

from typing import Iterable

from portlint.findings import Finding, Related
from portlint.ir import KERAS, Graph, Node
from portlint.knowledge.ops import Op
from portlint.rule import FRAMEWORK_LABEL, Case, PairContext, Rule, describe


def n(value: int) -> str:
    return f"{value:,}"


def totals_text(graph: Graph) -> str:
    total = graph.total_counts()
    if graph.framework == KERAS:
        return (f"Keras total {n(total.trainable + total.state)} = {n(total.trainable)} trainable "
                f"+ {n(total.state)} non-trainable")
    buffers = total.state + total.torch_extra_buffers
    return f"PyTorch {n(total.trainable)} parameters + {n(buffers)} buffer elements"


def _model_finding(rule: Rule, ctx: PairContext, message: str, severity: str | None = None) -> Finding:
    finding = rule.finding(ctx, message, span=ctx.port_graph.span, severity=severity)
    origin = ctx.origin_graph
    if origin.span is not None:
        finding.related.append(Related(origin.span, f"{FRAMEWORK_LABEL[origin.framework]} model "
                                                    f"`{origin.model}`"))
    return finding


KERAS_SEQ = """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(8, 8, 3)),
    layers.Conv2D(4, 3, use_bias={bias}),
    layers.BatchNormalization(momentum=0.9, epsilon=1e-5),
    layers.Flatten(),
    layers.Dense(10),
])
"""
TORCH_SEQ = """
import torch.nn as nn

model = nn.Sequential(
    nn.Conv2d(3, 4, 3, bias={bias}),
    nn.BatchNorm2d(4),
    nn.Flatten(),
    nn.Linear(144, 10),
)
"""


class ParamCountMismatch(Rule):
    code = "PTL701"
    name = "param-count-mismatch"
    severity = "error"
    summary = "Trainable parameter totals differ after convention mapping"
    doc = """
## What it flags
Models whose trainable parameter totals differ once conventions are mapped: Keras
trainable weights against torch parameters, with batch-norm moving statistics on neither
side (they are Keras non-trainable weights and torch buffers; see `buffer-accounting`).
The message lists the aligned layers whose counts differ.

## Why it matters
Different totals mean the architectures differ (a bias, a width, a missing layer);
weights cannot be transferred one to one.

## Example
```python
# Keras
layers.Conv2D(4, 3, use_bias=False)      # 108 weights
# PyTorch port
nn.Conv2d(3, 4, 3)                       # 112 parameters (bias=True)
```

## Fix
Make the differing layers agree; the per-layer list says where.

## References
- port-mismatches reference §0 (reconciliation rule), §10 (RNN bias counts)
"""
    VALID = [
        Case(KERAS_SEQ.format(bias=True), TORCH_SEQ.format(bias=True), 0,
             note="BN moving statistics are not a trainable difference"),
        Case(KERAS_SEQ.format(bias=False), TORCH_SEQ.format(bias=False), 0),
    ]
    INVALID = [
        Case(KERAS_SEQ.format(bias=False), TORCH_SEQ.format(bias=True), 1, line=4, message="112"),
        Case(KERAS_SEQ.format(bias=True), TORCH_SEQ.format(bias=True).replace(
            "nn.Linear(144, 10),", "nn.Linear(144, 10),\n    nn.Linear(10, 10),"), 1, line=4),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        port, origin = ctx.port_graph, ctx.origin_graph
        if not (port.counts_known() and origin.counts_known()):
            return
        mine, theirs = port.total_counts().mapped_trainable, origin.total_counts().mapped_trainable
        if mine == theirs:
            return
        differing = []
        for row in ctx.rows:
            a, b = ctx.split(row)
            ca = a.counts.mapped_trainable if a is not None and a.counts else 0
            cb = b.counts.mapped_trainable if b is not None and b.counts else 0
            if ca != cb:
                name = describe(a) if a is not None else f"(none; {describe(b)})"
                differing.append(f"{name}: {n(ca)} vs {n(cb)}")
        label = FRAMEWORK_LABEL[ctx.origin]
        if differing:
            where = (f"per layer, port vs {label}: " + "; ".join(differing[:6])
                     + (" ..." if len(differing) > 6 else ""))
        else:
            where = ("no aligned layer differs: the difference is in weights outside the "
                     "layer sequence (modules registered but unused in forward, or weights a "
                     "module owns directly)")
        message = (f"trainable parameters differ: the port has {n(mine)}, {label} {n(theirs)} "
                   f"(difference {n(mine - theirs)}); " + where)
        yield _model_finding(self, ctx, message)


class BufferAccounting(Rule):
    code = "PTL702"
    name = "buffer-accounting"
    severity = "info"
    summary = "Explains count differences that are conventions, not bugs"
    doc = """
## What it flags
Nothing wrong: it explains why the two frameworks' summaries show different totals for
equivalent layers. Keras counts a BatchNormalization's `moving_mean` and
`moving_variance` as non-trainable weights, so its summary shows 4*C parameters for C
channels. PyTorch keeps `running_mean` and `running_var` as buffers, plus an int64
`num_batches_tracked` per layer, and `parameters()`, torchsummary and torchinfo do not
count buffers: its summary shows 2*C. The rule states both totals and how they reconcile:
Keras total = torch parameters + torch buffers - number of BatchNorm layers.

## Why it matters
Without this, the user cannot tell a harmless convention from a real difference (the
founding question of this project: Keras 128 vs torch 64 for one BatchNorm).

## Example
```text
Keras total 13,108,758 = 13,108,694 trainable + 64 non-trainable
PyTorch 13,108,694 parameters + 65 buffer elements
```

## Fix
None needed.

## References
- port-mismatches reference §0 and §1 ("What counts as a param", `num_batches_tracked`)
- https://stackoverflow.com/questions/60079783
"""
    VALID = [
        Case("""
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(16,)), layers.Dense(4)])
""", """
import torch.nn as nn

model = nn.Sequential(nn.Linear(16, 4))
""", 0, note="no running statistics, nothing to explain"),
        Case(KERAS_SEQ.format(bias=True).replace(
            "    layers.BatchNormalization(momentum=0.9, epsilon=1e-5),\n", ""),
             TORCH_SEQ.format(bias=True).replace("    nn.BatchNorm2d(4),\n", ""), 0),
    ]
    INVALID = [
        Case(KERAS_SEQ.format(bias=True), TORCH_SEQ.format(bias=True), 1, line=4,
             message="num_batches_tracked"),
        Case(KERAS_SEQ.format(bias=False), TORCH_SEQ.format(bias=False), 1, line=4,
             message="8 non-trainable"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        keras, torch = ctx.alignment.keras, ctx.alignment.torch
        if not (keras.counts_known() and torch.counts_known()):
            return
        k_total, t_total = keras.total_counts(), torch.total_counts()
        if k_total.state == 0 and t_total.state == 0:
            return
        layers = []
        for row in ctx.rows:
            k, t = row.keras, row.torch
            if k is None or t is None or not (k.counts and t.counts) or not (k.counts.state or t.counts.state):
                continue
            kc, tc = k.counts, t.counts
            layers.append(f"{describe(k)} shows {n(kc.trainable + kc.state)} in Keras "
                          f"({n(kc.trainable)} gamma/beta + {n(kc.state)} moving mean/variance), "
                          f"{describe(t)} {n(tc.trainable)} parameters + "
                          f"{n(tc.state + tc.torch_extra_buffers)} buffer elements")
        tracked = t_total.torch_extra_buffers
        message = (f"counts differ by convention only: {totals_text(keras)}; {totals_text(torch)}. "
                   f"Keras counts batch-norm moving_mean/moving_variance as non-trainable weights; "
                   f"torch keeps them as buffers (running_mean/running_var) plus "
                   f"num_batches_tracked ({tracked} int64 element{'s' if tracked != 1 else ''}), "
                   f"which parameter counts and torchsummary leave out. "
                   + "; ".join(layers[:4]) + ("" if len(layers) <= 4 else " ...")
                   + f". Reconciled: Keras total {n(k_total.trainable + k_total.state)} = torch "
                     f"parameters {n(t_total.trainable)} + buffers "
                     f"{n(t_total.state + tracked)} - num_batches_tracked {n(tracked)}")
        if k_total.state != t_total.state:
            message += (f" (running statistics still differ: Keras {n(k_total.state)} vs torch "
                        f"{n(t_total.state)})")
        yield _model_finding(self, ctx, message)


class InitializerMismatch(Rule):
    code = "PTL703"
    name = "initializer-mismatch"
    severity = "info"
    summary = "Default or explicit initializers differ (matters when training from scratch)"
    doc = """
## What it flags
Aligned Dense/Linear and Conv layers whose weight initialization differs. Keras defaults
to `glorot_uniform` kernels (limit sqrt(6 / (fan_in + fan_out))) and zero biases; torch to
`kaiming_uniform_(a=sqrt(5))`, i.e. U(+-1/sqrt(fan_in)), for weights and biases alike.
Also embeddings (Keras U(-0.05, 0.05), torch N(0, 1)) and recurrent layers (Keras
glorot/orthogonal kernels and, for LSTM, a forget-gate bias of 1; torch
U(+-1/sqrt(hidden_size)) everywhere).
The rule stays silent when the torch model calls `torch.nn.init` itself, since it cannot
see which layers that reaches.

## Why it matters
Only for training from scratch: after weights are copied the models are identical. But
"the same model trains worse in PyTorch" is often this (for the seed's Dense 131072->100:
Keras limit 0.00676 vs torch 0.00276).

## Example
```python
# Keras
layers.Dense(100)                  # glorot_uniform, zeros
# PyTorch port
nn.Linear(131072, 100)             # kaiming_uniform(a=sqrt(5)), uniform bias
```

## Fix
```python
nn.init.xavier_uniform_(self.fc1.weight); nn.init.zeros_(self.fc1.bias)
```

## References
- port-mismatches reference §7 (experiment E08)
"""
    VALID = [
        Case("""
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(16,)), layers.Dense(4)])
""", """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)
        nn.init.xavier_uniform_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x):
        return self.fc(x)
""", 0, note="the port initialises explicitly"),
        Case("""
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(16,)), layers.Dropout(0.1)])
""", """
import torch.nn as nn

model = nn.Sequential(nn.Dropout(0.1))
""", 0, note="no weights"),
    ]
    INVALID = [
        Case("""
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(16,)), layers.Dense(4)])
""", """
import torch.nn as nn

model = nn.Sequential(nn.Linear(16, 4))
""", 1, line=4, message="glorot_uniform"),
        Case(KERAS_SEQ.format(bias=True), TORCH_SEQ.format(bias=True), 1, line=4,
             message="2 layer pairs"),
        Case("""
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(20, 8)), layers.LSTM(16)])
""", """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 16, batch_first=True)

    def forward(self, x):
        out, _ = self.lstm(x)
        return out[:, -1]
""", 1, line=4, message="forget-gate bias 1"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        if ctx.alignment.torch.custom_init:
            return
        pairs = []
        for row in ctx.rows:
            k, t = row.keras, row.torch
            if k is None or t is None or k.op not in (Op.DENSE, Op.CONV) or k.op != t.op:
                continue
            if k.attrs.get("kernel_init") != t.attrs.get("kernel_init") or (
                    k.attrs.get("bias") and k.attrs.get("bias_init") != t.attrs.get("bias_init")):
                pairs.append((k, t))
        others = [(k, t) for k, t in ctx.alignment.pairs() if k.op == t.op and k.op in OTHER_INITS
                  and OTHER_INITS[k.op](k) is not None]
        if not pairs and not others:
            return
        parts = []
        if pairs:
            inits = {(k.attrs.get("kernel_init"), k.attrs.get("bias_init")) for k, _ in pairs}
            keras_inits = ", ".join(f"kernel {a}, bias {b}" for a, b in sorted(inits, key=str))
            names = ", ".join(f"{k.name}/{t.name}" for k, t in pairs[:6])
            parts.append(f"{names}: Keras {keras_inits}; torch kaiming_uniform(a=sqrt(5)) "
                         f"weights and uniform(+-1/sqrt(fan_in)) biases")
        for k, t in others:
            parts.append(f"{k.name}/{t.name}: {OTHER_INITS[k.op](k)}")
        count = len(pairs) + len(others)
        message = (f"initializers differ for {count} layer pair{'s' if count != 1 else ''}: "
                   + "; ".join(parts) + ". Matters only when training from scratch")
        yield _model_finding(self, ctx, message)


def _embedding_init(keras: Node) -> str | None:
    init = keras.attrs.get("embedding_init")
    if init == "normal(0, 1)":
        return None
    return f"Keras embeddings {init} (uniform is U(-0.05, 0.05)), torch N(0, 1)"


def _rnn_init(keras: Node) -> str:
    forget = ", forget-gate bias 1 (unit_forget_bias)" if keras.attrs.get("cell") == "lstm" else ""
    return (f"Keras {keras.layer_type} kernel glorot_uniform, recurrent kernel orthogonal, "
            f"bias zeros{forget}; torch U(+-1/sqrt(hidden_size)) for every weight and bias")


# Layers whose Keras and torch default initializers differ beyond Dense/Conv (reference §7).
OTHER_INITS = {Op.EMBEDDING: _embedding_init, Op.RNN: _rnn_init}


RULES = [ParamCountMismatch, BufferAccounting, InitializerMismatch]
