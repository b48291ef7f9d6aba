"""Property-based tests (hypothesis) over generated model code, for both front ends.

A strategy draws a random stack of layers (Conv2D/Conv2d with random filters, kernel,
stride and padding, Dense/Linear, BatchNormalization/BatchNorm with random momentum and
epsilon, fused or separate activations, max/average pooling, Flatten, Dropout) and renders
it four ways: a Keras Sequential, a Keras functional model, a torch nn.Sequential and a
torch nn.Module with `__init__`/`forward`. Properties:

- every rendering is extracted (never a crash) with the parameter counts of a small
  independent formula here, which the real frameworks confirm on a few examples;
- a correct Keras -> torch translation (momentum m -> 1 - m, epsilon copied, 'same'
  padding made explicit only where that is equivalent, a permute before flattening a
  channels-last map) draws no warning or error from `compare`, and a translation with one
  deliberate mistake draws that mistake's rule;
- arbitrary small programs made of plausible model-code fragments never crash `check`
  or `compare` (in-process, and a few through the CLI).

The library is called in-process (as tests/rules/test_rule_cases.py does); the whole file is
meant to stay under about a minute.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from portlint.compare import Options, compare
from portlint.errors import InputError
from portlint.findings import FAILING
from portlint.frontend import ModelRef, extract
from portlint.shapes import infer
from portlint.source import read_source

from support import portlint

SETTINGS = {"deadline": None, "database": None,
            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
# Without the explain phase: it traces every line while it replays a failure, which
# slows the analysis tenfold (the fuzz test's time limit would then fire).
FUZZ_SETTINGS = {**SETTINGS, "phases": [Phase.explicit, Phase.reuse, Phase.generate,
                                        Phase.target, Phase.shrink]}

_WORKDIR = tempfile.TemporaryDirectory(prefix="portlint-properties-")
_names = itertools.count()


def write_file(text: str, stem: str) -> str:
    """A new file for each example: the parse cache keys files by path and mtime, and two
    examples written within one clock tick must not share an entry."""
    path = Path(_WORKDIR.name) / f"{stem}_{next(_names)}.py"
    path.write_text(text, encoding="utf-8")
    return str(path)


# --------------------------------------------------------------------------- the stacks

ACTIVATIONS = ["relu", "tanh", "sigmoid"]
MOMENTA = [0.99, 0.9, 0.95, 0.8, 0.75, 0.6, 0.3]
EPSILONS = [1e-3, 1e-5, 2e-3, 1e-4, 1e-2, 5e-4]
RATES = [0.1, 0.25, 0.5]


@dataclass(frozen=True)
class Layer:
    """One layer, framework-neutral; `shape` is what enters it, in Keras's layout
    ((h, w, c) for an image, (features,) after Flatten)."""

    kind: str  # conv | dense | bn | act | pool | flatten | dropout
    shape: tuple[int, ...]
    units: int = 0  # conv filters, dense units
    kernel: int = 1
    stride: int = 1
    padding: str = "valid"
    bias: bool = True
    activation: str | None = None  # fused (conv, dense) or the separate one (act)
    momentum: float = 0.99
    epsilon: float = 1e-3
    pool: str = "max"
    size: int = 2
    rate: float = 0.5
    style: int = 0  # a free choice of spelling, interpreted by each renderer


@dataclass(frozen=True)
class Stack:
    input_shape: tuple[int, ...]  # Keras layout
    layers: tuple[Layer, ...]

    @property
    def image(self) -> bool:
        return len(self.input_shape) == 3


def _out(layer: Layer) -> tuple[int, ...]:
    if layer.kind == "conv":
        h, w, _ = layer.shape
        if layer.padding == "same":
            return (-(-h // layer.stride), -(-w // layer.stride), layer.units)
        return ((h - layer.kernel) // layer.stride + 1, (w - layer.kernel) // layer.stride + 1,
                layer.units)
    if layer.kind == "pool":
        h, w, c = layer.shape
        return (h // layer.size, w // layer.size, c)
    if layer.kind == "flatten":
        size = 1
        for d in layer.shape:
            size *= d
        return (size,)
    if layer.kind == "dense":
        return (layer.units,)
    return layer.shape


@st.composite
def stacks(draw) -> Stack:
    image = draw(st.booleans())
    if image:
        shape: tuple[int, ...] = (draw(st.integers(4, 14)), draw(st.integers(4, 14)),
                                  draw(st.integers(1, 4)))
    else:
        shape = (draw(st.integers(1, 24)),)
    start = shape
    layers: list[Layer] = []
    style = st.integers(0, 7)

    def add(layer: Layer) -> None:
        nonlocal shape
        layers.append(layer)
        shape = _out(layer)

    def tail(features: int) -> None:
        """What may follow a conv or dense layer: BN, a separate activation, dropout."""
        if draw(st.booleans()):
            add(Layer("bn", shape, momentum=draw(st.sampled_from(MOMENTA)),
                      epsilon=draw(st.sampled_from(EPSILONS)), style=draw(style)))
        if draw(st.integers(0, 3)) == 0:
            add(Layer("act", shape, activation=draw(st.sampled_from(ACTIVATIONS)),
                      style=draw(style)))
        if draw(st.integers(0, 3)) == 0:
            add(Layer("dropout", shape, rate=draw(st.sampled_from(RATES))))

    if image:
        for _ in range(draw(st.integers(1, 3))):
            h, w, _ = shape
            kernel = draw(st.integers(1, min(5, h, w)))
            padding = draw(st.sampled_from(["valid", "same"]))
            # Keras 'same' with a stride pads asymmetrically where torch pads
            # symmetrically: a faithful port then needs explicit F.pad. Stride 1 only.
            stride = 1 if padding == "same" else draw(st.integers(1, 2))
            add(Layer("conv", shape, units=draw(st.integers(1, 8)), kernel=kernel,
                      stride=stride, padding=padding, bias=draw(st.booleans()),
                      activation=draw(st.sampled_from([None, *ACTIVATIONS])),
                      style=draw(style)))
            tail(shape[-1])
            h, w, _ = shape
            if min(h, w) >= 2 and draw(st.booleans()):
                add(Layer("pool", shape, pool=draw(st.sampled_from(["max", "avg"])),
                          size=draw(st.integers(1, min(3, h, w))), style=draw(style)))
        add(Layer("flatten", shape, style=draw(style)))
    for _ in range(draw(st.integers(1, 3))):
        add(Layer("dense", shape, units=draw(st.integers(1, 16)), bias=draw(st.booleans()),
                  activation=draw(st.sampled_from([None, *ACTIVATIONS])), style=draw(style)))
        tail(shape[-1])
    return Stack(start, tuple(layers))


def expected_counts(stack: Stack) -> tuple[tuple[int, int], tuple[int, int]]:
    """((Keras trainable, non-trainable), (torch parameters, buffer elements)) by the
    textbook formulas, independent of portlint."""
    trainable = moving = buffers = 0
    for layer in stack.layers:
        channels = layer.shape[-1]
        if layer.kind == "conv":
            trainable += layer.kernel ** 2 * channels * layer.units + layer.units * layer.bias
        elif layer.kind == "dense":
            trainable += channels * layer.units + layer.units * layer.bias
        elif layer.kind == "bn":
            trainable += 2 * channels  # gamma, beta
            moving += 2 * channels  # moving mean and variance
            buffers += 2 * channels + 1  # running mean and variance, num_batches_tracked
    return (trainable, moving), (trainable, buffers)


# --------------------------------------------------------------------------- Keras


def _keras_activation(name: str, style: int) -> str:
    if name == "relu" and style % 2:
        return "layers.ReLU()"
    return f'layers.Activation("{name}")'


def keras_layer(layer: Layer) -> str:
    s = layer.style
    if layer.kind == "conv":
        args = [str(layer.units), str(layer.kernel) if s % 2 else f"({layer.kernel}, {layer.kernel})"]
        if layer.stride != 1 or s % 3 == 0:
            args.append(f"strides={layer.stride}")
        if layer.padding != "valid" or s % 4 == 0:
            args.append(f'padding="{layer.padding}"')
        if not layer.bias:
            args.append("use_bias=False")
        if layer.activation:
            args.append(f'activation="{layer.activation}"')
        return f"layers.Conv2D({', '.join(args)})"
    if layer.kind == "dense":
        args = [str(layer.units)]
        if not layer.bias:
            args.append("use_bias=False")
        if layer.activation:
            args.append(f'activation="{layer.activation}"')
        return f"layers.Dense({', '.join(args)})"
    if layer.kind == "bn":
        args = []
        if layer.momentum != 0.99 or s % 2:
            args.append(f"momentum={layer.momentum!r}")
        if layer.epsilon != 1e-3 or s % 3 == 0:
            args.append(f"epsilon={layer.epsilon!r}")
        return f"layers.BatchNormalization({', '.join(args)})"
    if layer.kind == "act":
        return _keras_activation(layer.activation, s)
    if layer.kind == "pool":
        name = "MaxPooling2D" if layer.pool == "max" else "AveragePooling2D"
        return f"layers.{name}({'pool_size=' if s % 2 else ''}{layer.size})"
    if layer.kind == "flatten":
        return "layers.Flatten()"
    if layer.kind == "dropout":
        return f"layers.Dropout({layer.rate!r})"
    raise AssertionError(layer.kind)


KERAS_HEADER = "import keras\nfrom keras import layers\n\n\n"


def keras_sequential(stack: Stack) -> str:
    body = "".join(f"        {keras_layer(layer)},\n" for layer in stack.layers)
    return (KERAS_HEADER + "def build():\n    return keras.Sequential([\n"
            f"        keras.Input(shape={stack.input_shape!r}),\n{body}    ])\n")


def keras_functional(stack: Stack) -> str:
    lines = [f"    inputs = keras.Input(shape={stack.input_shape!r})", "    x = inputs"]
    lines += [f"    x = {keras_layer(layer)}(x)" for layer in stack.layers]
    lines.append("    return keras.Model(inputs, x)")
    return KERAS_HEADER + "def build():\n" + "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- torch


@dataclass(frozen=True)
class Port:
    """How to translate; each field not at its default is one deliberate mistake."""

    convert_momentum: bool = True
    copy_epsilon: bool = True
    drop_activation: int | None = None  # index of the activation (fused or separate) to drop
    permute_before_flatten: bool = True


def torch_momentum(layer: Layer, port: Port) -> float:
    return round(1 - layer.momentum, 10) if port.convert_momentum else layer.momentum


def _activation_ids(stack: Stack) -> list[int]:
    """Indices of the layers that carry an activation (fused or separate), in order."""
    return [i for i, layer in enumerate(stack.layers)
            if layer.activation and layer.kind in ("conv", "dense", "act")]


def torch_modules(stack: Stack, port: Port) -> list[tuple[str, str]]:
    """(kind, constructor) of the nn.Sequential's modules; kind "act" marks activations
    (which the nn.Module rendering may also apply functionally)."""
    out: list[tuple[str, str]] = []
    for index, layer in enumerate(stack.layers):
        s = layer.style
        keep_activation = index != port.drop_activation
        if layer.kind == "conv":
            cin = layer.shape[-1]
            args = [str(cin), str(layer.units), str(layer.kernel)]
            if layer.stride != 1:
                args.append(f"stride={layer.stride}")
            if layer.padding == "same":
                odd = layer.kernel % 2 == 1
                args.append(f"padding={layer.kernel // 2}" if odd and s % 2 else "padding='same'")
            elif s % 3 == 0:
                args.append("padding=0")
            if not layer.bias:
                args.append("bias=False")
            out.append(("layer", f"nn.Conv2d({', '.join(args)})"))
        elif layer.kind == "dense":
            args = [str(layer.shape[-1]), str(layer.units)] + ([] if layer.bias else ["bias=False"])
            out.append(("layer", f"nn.Linear({', '.join(args)})"))
        elif layer.kind == "bn":
            name = "BatchNorm2d" if len(layer.shape) == 3 else "BatchNorm1d"
            args = [str(layer.shape[-1])]
            if port.copy_epsilon and (layer.epsilon != 1e-5 or s % 2):
                args.append(f"eps={layer.epsilon!r}")
            momentum = torch_momentum(layer, port)
            if momentum != 0.1 or s % 3 == 0:
                args.append(f"momentum={momentum!r}")
            out.append(("layer", f"nn.{name}({', '.join(args)})"))
        elif layer.kind == "pool":
            name = "MaxPool2d" if layer.pool == "max" else "AvgPool2d"
            out.append(("layer", f"nn.{name}({'kernel_size=' if s % 2 else ''}{layer.size})"))
        elif layer.kind == "flatten":
            h, w, c = layer.shape
            if port.permute_before_flatten and (c > 1 and h * w > 1 or s % 2):
                out.append(("permute", "ToChannelsLast()"))
            out.append(("flatten", "nn.Flatten()"))
        elif layer.kind == "dropout":
            out.append(("layer", f"nn.Dropout({layer.rate!r})"))
        if layer.activation and keep_activation and layer.kind in ("conv", "dense", "act"):
            module = {"relu": "nn.ReLU()", "tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()"}
            out.append(("act:" + layer.activation, module[layer.activation]))
    return out


TORCH_HEADER = '''\
import torch
import torch.nn as nn
import torch.nn.functional as F


class ToChannelsLast(nn.Module):
    """NCHW -> NHWC, so that Flatten orders features as Keras does."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1)


'''


def torch_sequential(stack: Stack, port: Port = Port()) -> str:
    body = "".join(f"        {code},\n" for _, code in torch_modules(stack, port))
    return TORCH_HEADER + f"def make():\n    return nn.Sequential(\n{body}    )\n"


FUNCTIONAL = {"relu": ["F.relu({})", "torch.relu({})", "{}.relu()"],
              "tanh": ["torch.tanh({})", "{}.tanh()"],
              "sigmoid": ["torch.sigmoid({})", "{}.sigmoid()"]}
FLATTENS = ["torch.flatten({}, 1)", "{}.flatten(1)", "{0}.reshape({0}.size(0), -1)",
            "{0}.view({0}.shape[0], -1)"]  # view: not after a permute (not contiguous)


def torch_module(stack: Stack, port: Port = Port(), style: int = 0) -> str:
    init, forward = [], []
    permuted = False
    for index, (kind, code) in enumerate(torch_modules(stack, port)):
        variant = style + index
        if kind.startswith("act:") and variant % 2:
            forms = FUNCTIONAL[kind[4:]]
            forward.append(f"x = {forms[variant % len(forms)].format('x')}")
        elif kind == "permute":
            forward.append("x = x.permute(0, 2, 3, 1)")
            permuted = True
        elif kind == "flatten" and variant % 2:
            forms = FLATTENS[:-1] if permuted else FLATTENS
            forward.append(f"x = {forms[variant % len(forms)].format('x')}")
        else:
            init.append(f"self.m{index} = {code}")
            forward.append(f"x = self.m{index}(x)")
    body = "\n".join(f"        {line}" for line in init) or "        pass"
    steps = "\n".join(f"        {line}" for line in forward)
    return (TORCH_HEADER + "class Net(nn.Module):\n    def __init__(self):\n"
            "        super().__init__()\n" + body + "\n\n    def forward(self, x):\n"
            + steps + "\n        return x\n")


# --------------------------------------------------------------------------- helpers


def model_of(path: str) -> str:
    """The reference of the generated model in `path` (a file may also hold the unused
    ToChannelsLast helper, itself a candidate model)."""
    name = Path(path).name
    return f"{path}::{'build' if name.startswith(('keras', 'real_keras')) else 'Net' if 'module' in name else 'make'}"


def static_counts(path: str, framework_shape: tuple[int, ...] | None) -> tuple[int, int]:
    """Static totals of the file's model: (trainable, non-trainable) for Keras,
    (parameters, buffer elements) for torch."""
    graph = extract(ModelRef.parse(model_of(path)), 3, read_source(path))
    assert not graph.unresolved, graph.unresolved
    infer(graph, graph.input_shape or framework_shape)
    assert graph.counts_known(), [n.name for n in graph.nodes if n.counts is None]
    total = graph.total_counts()
    if graph.framework == "keras":
        return total.trainable, total.state
    return total.trainable, total.state + total.torch_extra_buffers


def channels_first(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (shape[2], shape[0], shape[1]) if len(shape) == 3 else shape


def failing(result) -> list:
    return [f for f in result.findings if f.severity in FAILING]


def show(findings) -> str:
    return "\n".join(f"  {f.code} {f.severity} {f.location.line if f.location else '?'}: "
                     f"{f.message}" for f in findings) or "  (none)"


def renderings(stack: Stack, style: int) -> dict[str, str]:
    return {"keras_sequential": keras_sequential(stack),
            "keras_functional": keras_functional(stack),
            "torch_sequential": torch_sequential(stack),
            "torch_module": torch_module(stack, style=style)}


# --------------------------------------------------------------------------- properties


@settings(max_examples=60, **SETTINGS)
@given(stack=stacks(), style=st.integers(0, 7))
def test_every_rendering_is_extracted_with_the_formula_counts(stack: Stack, style: int) -> None:
    keras_counts, torch_counts = expected_counts(stack)
    for name, text in renderings(stack, style).items():
        path = write_file(text, name)
        if name.startswith("keras"):
            assert static_counts(path, None) == keras_counts, text
        else:
            assert static_counts(path, channels_first(stack.input_shape)) == torch_counts, text


@settings(max_examples=80, **SETTINGS)
@given(stack=stacks(), style=st.integers(0, 7), functional=st.booleans(), module=st.booleans())
def test_a_correct_translation_draws_no_warning_or_error(stack: Stack, style: int,
                                                         functional: bool, module: bool) -> None:
    keras = write_file(keras_functional(stack) if functional else keras_sequential(stack), "keras")
    torch = write_file(torch_module(stack, style=style) if module else torch_sequential(stack),
                       "torch_module" if module else "torch_sequential")
    result = compare(model_of(keras), model_of(torch), Options())
    assert not failing(result), (f"{Path(keras).read_text()}\n{Path(torch).read_text()}\n"
                                 f"{show(result.findings)}")
    # And the other way round: the Keras model as the port of the torch one.
    reverse = compare(model_of(torch), model_of(keras), Options())
    assert not failing(reverse), show(reverse.findings)


MISTAKES = {
    # mistake -> (how to make it, the rule that must fire)
    "epsilon_dropped": ("PTL102", lambda stack, i: Port(copy_epsilon=False)),
    "momentum_not_converted": ("PTL101", lambda stack, i: Port(convert_momentum=False)),
    "activation_dropped": ("PTL401", lambda stack, i: Port(drop_activation=i)),
    "flatten_without_permute": ("PTL201", lambda stack, i: Port(permute_before_flatten=False)),
}


def _applicable(stack: Stack, mistake: str) -> list[int]:
    """Where the mistake changes the model (an index for activation_dropped, else [0])."""
    layers = stack.layers
    if mistake == "epsilon_dropped":
        return [0] if any(l.kind == "bn" and l.epsilon != 1e-5 for l in layers) else []
    if mistake == "momentum_not_converted":
        return [0] if any(l.kind == "bn" and abs(2 * l.momentum - 1) > 1e-9 for l in layers) else []
    if mistake == "activation_dropped":
        # Not the output activation (the last layer's, or one followed only by dropout,
        # which is the identity at inference): a missing one is PTL404's business.
        output = max((i for i, l in enumerate(layers) if l.kind != "dropout"), default=-1)
        return [i for i in _activation_ids(stack) if i != output]
    if mistake == "flatten_without_permute":
        flat = [l for l in layers if l.kind == "flatten"]
        return [0] if flat and flat[0].shape[2] > 1 and flat[0].shape[0] * flat[0].shape[1] > 1 \
            and any(l.kind == "dense" for l in layers) else []
    raise AssertionError(mistake)


@settings(max_examples=80, **SETTINGS)
@given(stack=stacks(), mistake=st.sampled_from(sorted(MISTAKES)), pick=st.integers(0, 100),
       module=st.booleans(), style=st.integers(0, 7))
def test_a_deliberate_mistake_draws_its_rule(stack: Stack, mistake: str, pick: int,
                                             module: bool, style: int) -> None:
    where = _applicable(stack, mistake)
    assume(where)
    code, make = MISTAKES[mistake]
    port = make(stack, where[pick % len(where)])
    keras = write_file(keras_sequential(stack), "keras")
    torch = write_file(torch_module(stack, port, style) if module else torch_sequential(stack, port),
                       "torch_module" if module else "torch_sequential")
    result = compare(model_of(keras), model_of(torch), Options())
    fired = {f.code for f in failing(result)}
    assert code in fired, (f"{Path(keras).read_text()}\n{Path(torch).read_text()}\n"
                           f"{show(result.findings)}")


# --------------------------------------------------------------------------- real frameworks


@pytest.fixture(scope="module")
def frameworks():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import torch

    return keras, torch


def _load(path: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # builds real Keras and torch models
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@settings(max_examples=4, **SETTINGS)
@given(stack=stacks(), style=st.integers(0, 7))
def test_the_formula_is_what_the_frameworks_count(frameworks, stack: Stack, style: int) -> None:
    """The formula the other properties trust, checked against real Keras and torch (the
    generated code is ours: running it here is safe)."""
    import numpy as np

    keras_counts, torch_counts = expected_counts(stack)
    model = _load(write_file(keras_functional(stack), "real_keras")).build()
    real = (int(sum(np.prod(w.shape) for w in model.trainable_weights)),
            int(sum(np.prod(w.shape) for w in model.non_trainable_weights)))
    assert real == keras_counts
    net = _load(write_file(torch_module(stack, style=style), "real_torch")).Net()
    real = (sum(p.numel() for p in net.parameters()), sum(b.numel() for b in net.buffers()))
    assert real == torch_counts
    # The translation really computes a tensor of the Keras output's size.
    torch = frameworks[1]
    with torch.no_grad():
        out = net.eval()(torch.zeros(2, *channels_first(stack.input_shape)))
    assert tuple(out.shape[1:]) == tuple(model.output_shape[1:])


# --------------------------------------------------------------------------- fuzzing

# Fragments of model code, plausible and not: the analysis must take each in its stride.
NAMES = ["width", "depth", "cfg", "n", "i", "self.width", "undefined_name", "x.shape[1]",
         "len(self.blocks)", "CONFIG['size']", "math.floor(2.5)"]
_atoms = st.one_of(
    st.integers(-3, 70).map(str), st.sampled_from(["0", "1", "10 ** 6", "2 ** 40", "-1"]),
    st.sampled_from(["0.1", "1e-5", "0.99", "None", "True", "False", "'same'", "'valid'",
                     "'relu'", "(3, 3)", "[1, 2]", "()", "[]", "{}"]),
    st.sampled_from(NAMES))


def _expressions() -> st.SearchStrategy[str]:
    return st.recursive(_atoms, lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "//", "/", "%", "**", "<", "==",
                                          "and", "or", "if True else"]), inner)
        .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda e: f"-({e})"), inner.map(lambda e: f"(not {e})"),
        st.lists(inner, max_size=3).map(lambda es: f"[{', '.join(es)}]"),
        st.tuples(st.sampled_from(["len", "max", "min", "int", "sum", "range", "list", "abs",
                                   "round", "tuple", "sorted", "self.helper", "make_block"]),
                  st.lists(inner, max_size=2)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        inner.map(lambda e: f"[{e} for _ in range(3)]"),
        st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
    ), max_leaves=6)


EXPR = _expressions()
LAYER_CALLS = ["nn.Linear({0}, {1})", "nn.Conv2d({0}, {1}, {0}, padding={1})",
               "nn.BatchNorm2d({0}, momentum={1})", "nn.ReLU()", "nn.Dropout({0})",
               "nn.Sequential(nn.Linear({0}, {1}), nn.GELU())", "nn.Flatten({0})",
               "nn.ModuleList([nn.Linear({0}, {0}) for _ in range({k})])",
               "nn.LayerNorm({0}, eps={1})", "nn.Embedding({0}, {1})", "nn.LSTM({0}, {1})",
               "nn.MaxPool2d({0}, stride={1})", "make_block({0})", "nn.Identity()",
               "nn.Softmax()", "nn.Conv1d({0}, {1}, {0}, groups={1})"]
INIT_STATEMENTS = [
    "self.{n} = {layer}", "self.{n}.momentum = {0}", "self.{n} = None", "width = {0}",
    "for i in range({k}):\n    self.blocks.append({layer})", "if {0}:\n    self.{n} = {layer}\nelse:\n    self.{n} = nn.Identity()",
    "self.register_buffer('{n}', torch.zeros({0}))", "self.{n} = nn.Parameter(torch.ones({0}, {1}))",
    "while {0}:\n    break", "try:\n    self.{n} = {layer}\nexcept Exception:\n    pass",
    "assert {0}", "raise ValueError({0})", "return", "del width", "self.{n} += {0}",
    "with torch.no_grad():\n    self.{n} = {layer}", "self.{n}, self.{n}2 = {0}, {1}",
    "setattr(self, '{n}', {layer})", "self.add_module('{n}', {layer})", "global CONFIG",
]
FORWARD_STATEMENTS = [
    "x = self.{n}(x)", "x = F.relu(x)", "x = x.view(x.size(0), -1)", "x = torch.flatten(x, {0})",
    "x = x + self.{n}(x)", "x = x * {0}", "x = torch.cat([x, x], dim={0})", "x = x[:, {0}]",
    "x = x.permute(0, 2, 3, 1)", "for m in self.blocks:\n    x = m(x)",
    "if x.shape[{0}] > {1}:\n    x = self.{n}(x)", "x = F.dropout(x, {0}, self.training)",
    "x = x.mean(dim={0})", "x, y = x.chunk(2, dim=1)", "x = x @ x", "x = x.reshape({0}, {1})",
    "return x", "x = self.helper(x)", "x = F.softmax(x)", "x = x.sum()", "x = x[x > 0]",
    "x = torch.stack([x, x], {0})", "x = {0}", "while x.dim() > {0}:\n    x = x.mean(0)",
]
KERAS_STATEMENTS = [
    "x = layers.Dense({0}, activation={1})(x)", "x = layers.Conv2D({0}, {1}, padding={1})(x)",
    "x = layers.BatchNormalization(momentum={0})(x)", "x = layers.Flatten()(x)",
    "x = layers.Add()([x, x])", "x = layers.Concatenate()([x, x])", "x = layers.Reshape(({0}, -1))(x)",
    "for _ in range({k}):\n    x = layers.Dense({1})(x)", "x = x[:, {0}]", "x = layers.Activation({0})(x)",
    "x = layers.Lambda(lambda t: t * {0})(x)", "x = keras.ops.relu(x)", "x = layers.Dropout({0})(x)",
    "x = layers.GlobalAveragePooling2D()(x)", "x = make_keras_block(x, {0})", "x = {0}",
]


@st.composite
def programs(draw) -> str:
    def statements(pool: list[str], count: int) -> str:
        out = []
        for _ in range(count):
            template = draw(st.sampled_from(pool))
            # Loop counts stay small: thousands of layers are test_bad_input's business.
            k = draw(st.sampled_from(["0", "1", "3", "n", "-1", "undefined_name", "len(self.blocks)"]))
            layer = draw(st.sampled_from(LAYER_CALLS)).format(draw(EXPR), draw(EXPR), k=k)
            text = template.format(draw(EXPR), draw(EXPR), n=draw(st.sampled_from(["a", "b", "fc"])),
                                   layer=layer, k=k)
            out.append(text)
        return "\n".join(out)

    def indent(text: str, spaces: int) -> str:
        return "\n".join(" " * spaces + line for line in text.splitlines()) or " " * spaces + "pass"

    module_level = statements(["width = {k}", "CONFIG = {{'size': {0}}}", "n = {k}",
                               "LAYERS = [{layer}]"], draw(st.integers(0, 3)))
    init = statements(INIT_STATEMENTS, draw(st.integers(0, 6)))
    forward = statements(FORWARD_STATEMENTS, draw(st.integers(0, 6)))
    keras_body = statements(KERAS_STATEMENTS, draw(st.integers(0, 5)))
    base = draw(st.sampled_from(["nn.Module", "nn.Sequential", "nn.ModuleList", "object",
                                 "Base", "nn.Linear"]))
    input_shape = draw(st.sampled_from(["(8,)", "(8, 8, 3)", "(None, 4)", "(4, 4)", "()"]))
    return f'''\
import math

import keras
import torch
import torch.nn as nn
import torch.nn.functional as F
from keras import layers

{module_level}


def make_block(width):
    return nn.Sequential(nn.Linear(width, width), nn.ReLU())


def make_keras_block(x, width):
    return layers.Dense(width)(x)


class Base(nn.Module):
    def helper(self, x):
        return x


class Net({base}):
    def __init__(self, width={draw(EXPR)}, depth={draw(EXPR)}):
        super().__init__()
        self.width = width
        self.blocks = nn.ModuleList()
{indent(init, 8)}

    def forward(self, x):
{indent(forward, 8)}
        return x


def build(width={draw(EXPR)}):
    inputs = keras.Input(shape={input_shape})
    x = inputs
{indent(keras_body, 4)}
    return keras.Model(inputs, x)
'''


def _valid_python(text: str) -> bool:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # `1[0]`: "perhaps you missed a comma?"
        try:
            compile(text, "<fuzz>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


def _settings():
    from portlint.config import Config, Settings

    return Settings.make(Config())


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so that no `except Exception` swallows it."""


# A generated file is analysed in well under a second on a quiet machine (the slowest seen,
# a `while` loop run to the step budget, 1.5 s CPU); the alarm counts wall time, and a CI
# run at load 14 on two cores took 20 s on that case: the limit catches hangs, not load.
FUZZ_SECONDS = 90


@contextmanager
def time_limit(seconds: float):
    """Turn a hang into a failure that hypothesis can shrink and show (Unix only)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def alarm(signum, frame):
        import traceback

        where = "".join(traceback.format_stack(frame)[-12:])
        raise Hang(f"no answer within {seconds} s; it was at:\n{where}")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@settings(max_examples=100, **FUZZ_SETTINGS)
@given(program=programs())
def test_fuzzed_model_code_never_crashes_check_or_compare(program: str) -> None:
    assume(_valid_python(program))
    path = write_file(program, "fuzz")
    # check turns an internal error into a warning; with the debug switch it raises, and
    # hypothesis shows the traceback and the smallest program that causes it.
    debug = os.environ.get("PORTLINT_DEBUG")
    os.environ["PORTLINT_DEBUG"] = "1"
    try:
        with time_limit(FUZZ_SECONDS):
            _check_and_compare(path, program)
    except Hang as exc:  # a failure hypothesis shrinks and reports
        raise AssertionError(str(exc)) from None
    finally:
        if debug is None:
            del os.environ["PORTLINT_DEBUG"]
        else:
            os.environ["PORTLINT_DEBUG"] = debug


def _check_and_compare(path: str, program: str) -> None:
    from portlint.check import check

    try:
        result = check([path], _settings())
    except InputError as exc:  # a clean refusal: one line naming the file
        assert path in str(exc) and "\n" not in str(exc), str(exc)
        return
    for warning in result.warnings:
        assert "internal error" not in warning, f"{warning}\n{program}"
    for origin, port in ((f"{path}::build", f"{path}::Net"), (f"{path}::Net", f"{path}::build")):
        try:
            compare(origin, port, Options())
        except InputError as exc:
            assert "\n" not in str(exc), str(exc)


@settings(max_examples=4, **FUZZ_SETTINGS)
@given(programs=st.lists(programs(), min_size=3, max_size=6))
def test_fuzzed_model_code_through_the_cli(programs: list[str]) -> None:
    """A few files per run, through `python -m portlint check` (one subprocess each)."""
    programs = [p for p in programs if _valid_python(p)]
    assume(programs)
    with tempfile.TemporaryDirectory(prefix="portlint-fuzz-") as folder:
        for index, program in enumerate(programs):
            Path(folder, f"model_{index}.py").write_text(program, encoding="utf-8")
        result = portlint("check", ".", "--format", "json", "--no-cache", cwd=folder,
                          timeout=120)
    shown = f"rc={result.returncode}\nstderr={result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, shown
    assert result.returncode in (0, 1, 2), shown
    if result.returncode == 2:
        assert len(result.stderr.splitlines()) == 1, shown
    else:
        json.loads(result.stdout)
