"""Recurrent layers: conventions torch's nn.LSTM/GRU/RNN fix differently from Keras (PTL6xx)."""

from __future__ import annotations

from typing import Iterable

from portlint.findings import Finding
from portlint.ir import KERAS, TORCH, Graph, Node
from portlint.knowledge.ops import Op
from portlint.rule import Case, PairContext, Rule, fmt, set_argument_fix

KERAS_RNN = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(20, 8))
    x = layers.{layer}
    x = layers.Dense(3)(x)
    return keras.Model(inputs, x)
"""
TORCH_RNN = """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.{module}
        self.fc = nn.Linear({width}, 3)

    def forward(self, x):
        {body}
        return self.fc(x)
"""

# The gates and activations torch's recurrent modules always use.
TORCH_RECURRENT_ACTIVATION = "sigmoid"
TORCH_ACTIVATION = "tanh"


def _torch_pair(port: Node, origin: Node) -> tuple[Node, Node]:
    """(Keras node, torch node) of an aligned pair."""
    return (port, origin) if port.framework == KERAS else (origin, port)


def _moves_batch(node: Node | None) -> bool:
    """x.transpose(0, 1) / x.permute(1, 0, 2): a batch-first tensor made time-major."""
    if node is None:
        return False
    dims = node.attrs.get("dims")
    if node.op == Op.TRANSPOSE and isinstance(dims, tuple):
        return 0 in dims
    if node.op == Op.PERMUTE and isinstance(dims, tuple) and dims:
        return dims[0] != 0
    return False


def _last_step(index: tuple, batch_first: bool) -> bool:
    """`out[:, -1]` (batch first) or `out[-1]` (time major), optionally `[..., :]`."""
    time_axis = 1 if batch_first else 0
    return (len(index) > time_axis and index[time_axis] == -1
            and all(i == slice(None) for i in index[:time_axis] + index[time_axis + 1:]))


class RnnConventionMismatch(Rule):
    code = "PTL601"
    name = "rnn-convention-mismatch"
    severity = "warning"
    summary = ("Recurrent conventions: reset_after, gate activations, batch_first, returned "
               "sequence or state, bidirectional last step and merge mode")
    doc = """
## What it flags
An aligned Keras LSTM/GRU/SimpleRNN and torch nn.LSTM/GRU/RNN that do not compute the
same thing because of a convention:
- Keras `GRU(reset_after=False)` (multi-backend Keras 2 and `tf.compat.v1` default):
  torch's GRU applies the reset gate after the matrix product and cannot express it.
- A non-default `activation` / `recurrent_activation` (e.g. Keras 2 `hard_sigmoid`):
  torch fixes tanh and sigmoid (only nn.RNN takes `nonlinearity`).
- torch's default `batch_first=False` on Keras-layout `(N, T, F)` data with no transpose
  before the module: it runs silently over the wrong axis.
- What is returned: Keras `return_sequences=False` returns the last step; torch always
  returns the whole sequence, so the port must select it (`out[:, -1]`, `h_n[-1]`); and
  the other way round.
- `Bidirectional(..., return_sequences=False)`: the backward half of `out[:, -1]` has seen
  one step only; the Keras output is `cat(h_n[-2], h_n[-1])`.
- `merge_mode` other than `'concat'` (torch always concatenates); `go_backwards`,
  `stateful`, `recurrent_dropout`, which torch modules do not have.

## Why it matters
Each of these gives a model with the same parameter count and a different function
(reference §10: the bidirectional last step differs by 0.30, a time-major LSTM fed
batch-first data runs without error and returns garbage).

## Example
```python
# Keras
x = layers.Bidirectional(layers.LSTM(32))(x)
# PyTorch port
out, _ = self.lstm(x)          # nn.LSTM(..., batch_first=True, bidirectional=True)
x = out[:, -1]                 # backward direction has seen one step
```

## Fix
```python
out, (h_n, c_n) = self.lstm(x)
x = torch.cat((h_n[-2], h_n[-1]), dim=1)
```
Set `batch_first=True` (unsafe fix: indexing after the module may assume time-major).
Weight copies also need GRU gates reordered (Keras z, r, h; torch r, z, n) and, for LSTM
and SimpleRNN, Keras's single bias split into `bias_ih` (the Keras bias) and `bias_hh`
(zeros); `portlint verify --emit-mapping` writes that code.

## References
- https://pytorch.org/docs/stable/generated/torch.nn.GRU.html (gate equations)
- https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html (outputs, batch_first)
- port-mismatches reference §10 (experiments E05, E13)
"""
    VALID = [
        Case(KERAS_RNN.format(layer="LSTM(16)(inputs)"),
             TORCH_RNN.format(module="LSTM(8, 16, batch_first=True)", width=16,
                              body="out, _ = self.rnn(x)\n        x = out[:, -1]"), 0,
             note="last step of a batch-first LSTM"),
        Case(KERAS_RNN.format(layer="Bidirectional(layers.GRU(16))(inputs)"),
             TORCH_RNN.format(module="GRU(8, 16, batch_first=True, bidirectional=True)", width=32,
                              body="_, h_n = self.rnn(x)\n        x = torch.cat((h_n[-2], h_n[-1]), dim=1)"),
             0, note="final states of both directions"),
        Case(KERAS_RNN.format(layer="LSTM(16)(inputs)"),
             TORCH_RNN.format(module="LSTM(8, 16)", width=16,
                              body="out, (h, c) = self.rnn(x.transpose(0, 1))\n        x = h[-1]"),
             0, note="time-major module after an explicit transpose, final hidden state"),
        Case(KERAS_RNN.format(layer="GRU(16, return_sequences=True)(inputs)"),
             TORCH_RNN.format(module="GRU(8, 16, batch_first=True)", width=16,
                              body="x, _ = self.rnn(x)"), 0, note="whole sequence on both sides"),
    ]
    INVALID = [
        Case(KERAS_RNN.format(layer="Bidirectional(layers.LSTM(16))(inputs)"),
             TORCH_RNN.format(module="LSTM(8, 16, batch_first=True, bidirectional=True)", width=32,
                              body="out, _ = self.rnn(x)\n        x = out[:, -1]"),
             1, line=13, message="backward"),
        Case(KERAS_RNN.format(layer="LSTM(16)(inputs)"),
             TORCH_RNN.format(module="LSTM(8, 16)", width=16,
                              body="out, _ = self.rnn(x)\n        x = out[:, -1]"),
             1, line=8, message="batch_first",
             fixed=TORCH_RNN.format(module="LSTM(8, 16, batch_first=True)", width=16,
                                    body="out, _ = self.rnn(x)\n        x = out[:, -1]")),
        Case(KERAS_RNN.format(layer="GRU(16, reset_after=False)(inputs)"),
             TORCH_RNN.format(module="GRU(8, 16, batch_first=True)", width=16,
                              body="out, _ = self.rnn(x)\n        x = out[:, -1]"),
             1, line=8, message="reset_after"),
        Case(KERAS_RNN.format(layer="GRU(16)(inputs)"),
             TORCH_RNN.format(module="GRU(8, 16, batch_first=True)", width=16,
                              body="x, _ = self.rnn(x)\n        x = x.mean(1)"),
             1, line=13, message="return_sequences"),
        Case(KERAS_RNN.format(layer="LSTM(16, recurrent_activation='hard_sigmoid')(inputs)"),
             TORCH_RNN.format(module="LSTM(8, 16, batch_first=True)", width=16,
                              body="out, _ = self.rnn(x)\n        x = out[:, -1]"),
             1, line=8, message="hard_sigmoid"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for port, origin, _ in ctx.matched(Op.RNN):
            if origin.op != Op.RNN:
                continue
            keras, torch = _torch_pair(port, origin)
            problems = [(m, port) for m in self._cell(keras, torch, ctx)]
            fix = None
            wrong_axis = self._time_major_on_batch_first(torch, ctx.alignment.graph(TORCH))
            if not wrong_axis:  # otherwise what the port selects is moot
                problems += [(m, at if at is not None and port is torch else port)
                             for m, at in self._returned(keras, torch, ctx)]
            if wrong_axis:
                problems.insert(0, (
                    f"torch {torch.layer_type} has batch_first=False (time-major) but receives "
                    f"the Keras layout (N, T, F) without a transpose: it runs over the wrong "
                    f"axis without any error; set batch_first=True", port))
                if torch is port:
                    fix = set_argument_fix(torch, "batch_first", True, "unsafe")
            for message, at in problems:
                yield self.finding(ctx, message, at=at, about=origin, fix=fix)
                fix = None

    def _cell(self, keras: Node, torch: Node, ctx: PairContext) -> Iterable[str]:
        a = keras.attrs
        if a.get("cell") == "gru" and a.get("reset_after") is False:
            yield ("Keras GRU reset_after=False applies the reset gate before the recurrent "
                   "matrix product; torch nn.GRU only implements reset_after=True, so this needs "
                   "a custom cell")
        for attr, torch_value in (("recurrent_activation", torch.attrs.get("recurrent_activation")),
                                  ("activation", torch.attrs.get("activation"))):
            mine = a.get(attr)
            if mine is None or torch_value is None or not isinstance(mine, str) or mine == torch_value:
                continue
            extra = (" (Keras 2's hard_sigmoid is clip(0.2x + 0.5), not even torch's "
                     "Hardsigmoid)" if mine == "hard_sigmoid" and ctx.keras_version == 2 else "")
            yield (f"Keras {keras.layer_type} {attr}={mine!r}, torch {torch.layer_type} always uses "
                   f"{torch_value}{extra}: a custom cell is needed")
        if a.get("merge_mode") not in (None, "concat") and a.get("bidirectional"):
            yield (f"Keras Bidirectional merge_mode={a['merge_mode']!r}; torch always concatenates "
                   f"[forward, backward]: combine the halves explicitly")
        for attr, meaning in (("go_backwards", "processes the sequence reversed"),
                              ("stateful", "carries state across batches")):
            if a.get(attr):
                yield f"Keras {keras.layer_type} {attr}=True {meaning}; torch modules have no such option"
        if isinstance(a.get("recurrent_dropout"), (int, float)) and a["recurrent_dropout"] > 0:
            yield (f"Keras recurrent_dropout={fmt(a['recurrent_dropout'])} drops recurrent "
                   f"connections; torch's dropout= only acts between stacked layers")

    def _time_major_on_batch_first(self, torch: Node, graph: Graph) -> bool:
        if torch.attrs.get("batch_first") is not False or not torch.inputs:
            return False
        return not _moves_batch(graph.nodes[torch.inputs[0]])

    def _returned(self, keras: Node, torch: Node, ctx: PairContext) -> Iterable[tuple[str, Node | None]]:
        """Problems with what the port takes from the module, and the node to point at."""
        graph = ctx.alignment.graph(TORCH)
        batch_first = bool(torch.attrs.get("batch_first"))
        consumers = graph.consumers(torch.id)
        outputs = [n for n in consumers if n.op != Op.RNN_STATE]
        states = [n for n in consumers if n.op == Op.RNN_STATE]
        used_states = [n for s in states for n in graph.consumers(s.id)]
        last_steps = [n for n in outputs if n.op == Op.INDEX and _last_step(n.attrs[Op.INDEX], batch_first)]
        bidirectional = bool(keras.attrs.get("bidirectional"))
        if keras.attrs.get("return_sequences"):
            if last_steps:
                yield ("Keras returns the whole sequence (return_sequences=True) but the port "
                       "keeps only the last step", last_steps[0])
            return
        if last_steps and bidirectional:
            yield ("Keras Bidirectional returns the final state of both directions; `out[:, -1]` "
                   "takes the backward direction after one step only. Use "
                   "torch.cat((h_n[-2], h_n[-1]), dim=1)", last_steps[0])
            return
        if last_steps or used_states:
            return
        if outputs or torch.id in graph.outputs:
            yield ("Keras returns only the last step (return_sequences=False) but the port "
                   "passes the whole output sequence on; select `out[:, -1]` or use `h_n[-1]`",
                   outputs[0] if outputs else None)


RULES = [RnnConventionMismatch]
