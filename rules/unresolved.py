"""What the static analysis could not follow (PTL9xx)."""

from __future__ import annotations

from typing import Iterable

from portlint.findings import Finding
from portlint.rule import Case, PairContext, Rule


class UnresolvedConstruct(Rule):
    code = "PTL901"
    name = "unresolved-construct"
    severity = "info"
    summary = "Code the static analysis could not follow"
    doc = """
## What it flags
A place in either model where portlint's front end met code it does not model: a call
into a library it has no table for, a loop over a value only known at run time, a
condition it cannot decide, an argument computed at run time. The rest of the model is
still extracted; the layer at that place becomes an opaque step in the alignment.

## Why it matters
So that silence means "checked", not "not understood". Checks that need the unresolved
value (a shape, a momentum) are skipped for that layer.

## Example
```python
self.act = make_activation(cfg)     # make_activation is defined in another package
```

## Fix
None in your code. Pass `--input-shape`, select the model with `PATH::MODEL`, or run
`portlint verify` for the dynamic check. Report constructs you think portlint should
follow.
"""
    VALID = [
        Case("""
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(16,)), layers.Dense(4)])
""", """
import torch.nn as nn

model = nn.Sequential(nn.Linear(16, 4))
""", 0),
    ]
    INVALID = [
        Case("""
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(16,)), layers.Dense(4)])
""", """
import torch.nn as nn
from somewhere import make_activation

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)
        self.act = make_activation("relu")

    def forward(self, x):
        return self.act(self.fc(x))
""", 1, line=12, message="somewhere.make_activation"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        seen = set()
        for graph in (ctx.port_graph, ctx.origin_graph):
            for item in graph.unresolved:
                key = (item.span, item.reason)
                if key in seen:
                    continue
                seen.add(key)
                yield self.finding(ctx, f"not followed statically: {item.reason}",
                                   span=item.span or graph.span)


RULES = [UnresolvedConstruct]
