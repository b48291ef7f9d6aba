"""What the static analysis could not follow (PTL9xx)."""

from __future__ import annotations

from typing import Iterable

from portlint.findings import Finding
from portlint.rule import Case, PairContext, Rule

KERAS_MLP = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(16,))
    x = inputs
    for width in (32, 32):
        x = layers.Dense(width, activation="relu")(x)
    x = layers.Dense(4)(x)
    return keras.Model(inputs, x)
"""
TORCH_MODULE_LIST = """
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self, widths=(32, 32)):
        super().__init__()
        self.hidden = nn.ModuleList()
        previous = 16
        for width in widths:
            self.hidden.append(nn.Linear(previous, width))
            previous = width
        self.out = nn.Linear(previous, 4)

    def forward(self, x):
        for layer in self.hidden:
            x = F.relu(layer(x))
        return self.out(x)
"""
TORCH_ORDERED_DICT = """
from collections import OrderedDict

import torch.nn as nn

def make_model():
    return nn.Sequential(OrderedDict([
        ("fc1", nn.Linear(16, 32)), ("act1", nn.ReLU()),
        ("fc2", nn.Linear(32, 32)), ("act2", nn.ReLU()),
        ("head", nn.Linear(32, 4)),
    ]))

model = make_model()
"""
TORCH_HIDDEN = """
import torch.nn as nn{header}

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 32)
        self.out = nn.Linear(32, 4)

    def forward(self, x):
        x = self.fc1(x).relu()
        x = self.fc2(x).relu()
        {body}
        return self.out(x)
"""
TORCH_WHILE = """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self, depth=2):
        super().__init__()
        layers, width = [], 16
        while len(layers) < 2 * depth * self.training_scale:
            layers += [nn.Linear(width, 32), nn.ReLU()]
            width = 32
        self.hidden = nn.Sequential(*layers)
        self.out = nn.Linear(32, 4)

    def forward(self, x):
        return self.out(self.hidden(x))
"""


class UnresolvedConstruct(Rule):
    code = "PTL901"
    name = "unresolved-construct"
    severity = "info"
    summary = "Code the static analysis could not follow"
    doc = """
## What it flags
A place in either model where portlint's front end met code it does not model: a call
into a library it has no table for (a helper imported from a package outside the
analysed code), a loop over a value only known at run time, a condition it cannot
decide, an argument computed at run time, tensor indexing it does not model (a boolean
mask `x[x > 0]`, whose size depends on the data), a tensor method not in its tables. The
rest of the model is still extracted; the layer at that place becomes an opaque step in
the alignment (a sub-module whose forward cannot be followed is one such step, its weights
not counted: the totals are then marked partial and name it), and no rule reports a
missing or different layer or activation against an opaque step. When nothing with
weights remains of a model, or its constructor reaches `raise` with the arguments given,
nothing could be checked: that is an input error (exit 2) that says where it stopped. A `while` loop runs while its condition is known; where it is not, the
loop stops there, so layers built in it may be missing and other findings (missing
layer, shape, parameter count) may follow from that. In `check`, a file that names a
framework but is too large to analyse (over 1 MiB, or holding a statement other than a
class or function over 256 KiB, such as a generated table) gets one such finding at
that statement, since its models were not checked.

## Why it matters
So that silence means "checked", not "not understood". Checks that need the unresolved
value (a shape, a momentum) are skipped for that layer.

## Example
```python
self.act = make_activation(cfg)     # make_activation is defined in another package
x = x[x > 0]                        # boolean mask: data-dependent size
while len(layers) < self.depth: ... # depth only known at run time
```

## Fix
None in your code. Pass `--input-shape`, select the model with `PATH::MODEL`, or run
`portlint verify` for the dynamic check. Report constructs you think portlint should
follow.
"""
    VALID = [
        Case(KERAS_MLP, TORCH_WHILE.replace(" * self.training_scale", ""), 0,
             note="a while loop whose condition is known at every step is followed"),
        Case("""
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(16,)), layers.Dense(4)])
""", """
import torch.nn as nn

model = nn.Sequential(nn.Linear(16, 4))
""", 0),
        Case(KERAS_MLP, TORCH_MODULE_LIST, 0,
             note="layers built in a for loop over a constructor default, applied in a loop"),
        Case(KERAS_MLP, TORCH_ORDERED_DICT, 0,
             note="a factory function returning nn.Sequential(OrderedDict(...))"),
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
        Case(KERAS_MLP, TORCH_HIDDEN.format(header="\nfrom mylib.ops import clip_outliers",
                                            body="x = clip_outliers(x, 3.0)"), 1, line=15,
             message="mylib.ops.clip_outliers",
             note="a helper from a package portlint cannot read"),
        Case(KERAS_MLP, TORCH_HIDDEN.format(header="", body="x = x[x > 0]"), 1, line=14,
             message="tensor indexing", note="a boolean mask: the result's size is data-dependent"),
        Case(KERAS_MLP, TORCH_WHILE, 1, line=8, message="`while` condition",
             note="hidden layers built in a while loop whose condition is not known"),
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
