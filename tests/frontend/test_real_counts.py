"""portlint's static counts against REAL Keras and PyTorch.

Only these tests execute model code (portlint never does): each fixture module is loaded
with importlib, the Keras model is built (builder call, module variable, or a subclass
called on a keras.Input) and the torch model instantiated. Their weights are counted the
way each framework does (Keras trainable / non-trainable weights, torch parameters /
buffers) and compared with portlint's static totals and per-layer counts.

The correct ports are also checked to really be ports: Keras weights are copied into the
torch model and both must compute the same outputs (inference) and the same batch-norm
running-mean update (one training step, which exercises the momentum conversion).
"""

from __future__ import annotations

import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import importlib.util  # noqa: E402
import math  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from portlint.compare import compare  # noqa: E402
from style_cases import (ALL_PAIRS, BROKEN_PAIRS, CORRECT, K_SEED, SEED_PAIR,  # noqa: E402
                         T_SEED, Model, Pair, options_for, over)


pytestmark = [
    pytest.mark.slow,  # builds real TensorFlow/Keras and torch models
    # Deliberate: two fixtures put `input_shape=` on the first layer of a Sequential.
    pytest.mark.filterwarnings("ignore:Do not pass an `input_shape`:UserWarning"),
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword"
                               ":DeprecationWarning"),
]


# --- real frameworks, imported once ------------------------------------------------------

@pytest.fixture(scope="module")
def fw() -> SimpleNamespace:
    import keras
    import tensorflow as tf
    import torch

    tf.get_logger().setLevel("ERROR")
    torch.manual_seed(0)
    return SimpleNamespace(keras=keras, torch=torch)


@dataclass
class Real:
    net: Any
    totals: tuple[int, int]  # Keras (trainable, non_trainable); torch (parameters, buffers)
    per_layer: dict[str, tuple[int, int]]  # weighted layers/modules only
    types: dict[str, str]  # layer name / module path -> class name


def load_module(path: Path) -> Any:
    name = f"_fixture_{path.parent.name}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _size(shape) -> int:
    return int(np.prod(tuple(shape), dtype=np.int64))


def build_keras(fw: SimpleNamespace, model: Model) -> Real:
    keras = fw.keras
    # Fresh auto names (conv2d, conv2d_1, ...), as portlint numbers them per file. Must come
    # before loading: a module-level model is built while the module executes.
    keras.backend.clear_session()
    obj = getattr(load_module(model.path), model.name)
    if isinstance(obj, keras.Model):
        net = obj
    elif isinstance(obj, type) and issubclass(obj, keras.Model):
        net = obj()
        net(keras.Input(shape=model.input_shape))
    else:
        net = obj()
    assert isinstance(net, keras.Model) and net.built
    trainable = sum(_size(w.shape) for w in net.trainable_weights)
    non_trainable = sum(_size(w.shape) for w in net.non_trainable_weights)
    per_layer, types = {}, {}
    for layer in net.layers:
        types[layer.name] = type(layer).__name__
        counts = (sum(_size(w.shape) for w in layer.trainable_weights),
                  sum(_size(w.shape) for w in layer.non_trainable_weights))
        if any(counts):
            per_layer[layer.name] = counts
    return Real(net, (trainable, non_trainable), per_layer, types)


def build_torch(fw: SimpleNamespace, model: Model) -> Real:
    torch = fw.torch
    obj = getattr(load_module(model.path), model.name)
    net = obj if isinstance(obj, torch.nn.Module) else obj()  # a class or a factory
    assert isinstance(net, torch.nn.Module)
    parameters = sum(p.numel() for p in net.parameters())
    buffers = sum(b.numel() for b in net.buffers())
    per_layer, types = {}, {}
    for name, module in net.named_modules():
        types[name] = type(module).__name__
        counts = (sum(p.numel() for p in module.parameters(recurse=False)),
                  sum(b.numel() for b in module.buffers(recurse=False)))
        if any(counts):
            per_layer[name] = counts
    return Real(net, (parameters, buffers), per_layer, types)


@pytest.fixture(scope="module")
def real(fw):
    """Builds (and caches) the real model of a catalogue entry."""
    cache: dict[Path, Real] = {}

    def get(model: Model, fresh: bool = False) -> Real:
        if fresh or model.path not in cache:
            build = build_keras if model.framework == "keras" else build_torch
            cache[model.path] = build(fw, model)
        return cache[model.path]

    return get


def all_models() -> list[Model]:
    seen: dict[Path, Model] = {}
    for pair in ALL_PAIRS + [SEED_PAIR]:
        for model in (pair.keras, pair.torch):
            seen.setdefault(model.path, model)
    return list(seen.values())


def static(pair: Pair):
    return compare(pair.keras.ref, pair.torch.ref, options_for(pair))


def static_per_layer(graph) -> dict[str, tuple[int, int]]:
    """Weighted nodes by layer name, in the framework's own convention."""
    out: dict[str, tuple[int, int]] = {}
    for node in graph.nodes:
        if node.op == "input" or node.counts is None:
            continue
        c = node.counts
        counts = ((c.trainable, c.state) if graph.framework == "keras"
                  else (c.trainable, c.state + c.torch_extra_buffers))
        if any(counts):
            old = out.get(node.name, (0, 0))
            out[node.name] = (old[0] + counts[0], old[1] + counts[1])
    return out


# --- the seed pair, literally ----------------------------------------------------------------

def test_seed_real_counts_literally(real) -> None:
    keras_model = real(K_SEED)
    torch_model = real(T_SEED)
    trainable, non_trainable = keras_model.totals
    assert trainable + non_trainable == 13_108_758
    assert (trainable, non_trainable) == (13_108_694, 64)
    assert keras_model.net.count_params() == 13_108_758
    assert torch_model.totals == (13_108_694, 65)


def test_seed_static_counts_literally() -> None:
    result = static(SEED_PAIR)
    k = result.alignment.keras.total_counts()
    t = result.alignment.torch.total_counts()
    assert k.trainable + k.state == 13_108_758
    assert (k.trainable, k.state) == (13_108_694, 64)
    assert (t.trainable, t.state, t.torch_extra_buffers) == (13_108_694, 64, 1)
    totals = result.to_json()["totals"]
    assert totals["keras"] == {"total": 13_108_758, "trainable": 13_108_694, "non_trainable": 64}
    assert totals["torch"] == {"parameters": 13_108_694, "buffers": 65, "running_stats": 64,
                               "num_batches_tracked": 1, "folded_bias": 0}


# --- every fixture model: the catalogue numbers are real ---------------------------------------

@pytest.mark.parametrize("model", all_models(),
                         ids=lambda m: f"{m.framework}:{m.path.parent.name}/{m.id}")
def test_catalogue_counts_are_the_real_counts(real, model: Model) -> None:
    assert real(model).totals == model.counts


# --- static == real, totals and per layer --------------------------------------------------------

@over(ALL_PAIRS + [SEED_PAIR])
def test_static_totals_equal_real_totals(real, pair: Pair) -> None:
    result = static(pair)
    k = result.alignment.keras.total_counts()
    t = result.alignment.torch.total_counts()
    assert result.alignment.keras.counts_known() and result.alignment.torch.counts_known()
    real_keras, real_torch = real(pair.keras).totals, real(pair.torch).totals
    assert (k.trainable, k.state) == real_keras, "Keras (trainable, non_trainable)"
    assert k.trainable + k.state == sum(real_keras), "Keras total"
    assert (t.trainable, t.state + t.torch_extra_buffers) == real_torch, "torch (params, buffers)"


@over(ALL_PAIRS + [SEED_PAIR])
def test_static_per_layer_counts_equal_real(real, pair: Pair) -> None:
    result = static(pair)
    assert static_per_layer(result.alignment.keras) == real(pair.keras).per_layer
    assert static_per_layer(result.alignment.torch) == real(pair.torch).per_layer


@over(ALL_PAIRS + [SEED_PAIR])
def test_static_layer_names_and_types_are_real(fw, real, pair: Pair) -> None:
    """Findings name layers; the names must be the ones model.summary() / named_modules()
    show, and each must be a layer of the class the source constructs."""
    result = static(pair)
    keras_real, torch_real = real(pair.keras), real(pair.torch)
    keras_static = {n.name: n.layer_type for n in result.alignment.keras.nodes
                    if n.op != "input" and n.fused_into is None}
    # Compare classes, not spellings: keras.layers.MaxPool2D is class MaxPooling2D.
    wrong = {name: (kind, keras_real.types.get(name)) for name, kind in keras_static.items()
             if keras_real.types.get(name) != getattr(fw.keras.layers, kind).__name__}
    assert not wrong, f"Keras static name -> (static class, real class): {wrong}"
    real_layers = {n for n, t in keras_real.types.items() if t != "InputLayer"}
    assert set(keras_static) == real_layers
    torch_modules = {n.name: n.layer_type for n in result.alignment.torch.nodes
                     if hasattr(fw.torch.nn, n.layer_type)}
    wrong = {name: (kind, torch_real.types.get(name)) for name, kind in torch_modules.items()
             if torch_real.types.get(name) != kind}
    assert not wrong, f"torch static name -> (static class, real class): {wrong}"
    leaves = {name for name, module in torch_real.net.named_modules()
              if name and not list(module.children())}
    unseen = leaves - set(torch_modules)
    assert not unseen, f"modules portlint did not see: {unseen}"


# --- the correct ports really are ports ---------------------------------------------------

def keras_weighted_layers(net, model: Model) -> list:
    if model.call_order:
        return [getattr(net, attr) for attr in model.call_order]
    return [layer for layer in net.layers if layer.weights]


def torch_modules_in_call_order(torch, net, x) -> list:
    order: list[str] = []
    hooks = []
    for name, module in net.named_modules():
        if list(module.parameters(recurse=False)) or list(module.buffers(recurse=False)):
            def record(mod, args, out, name=name):
                if name not in order:
                    order.append(name)
            hooks.append(module.register_forward_hook(record))
    try:
        net.eval()
        with torch.no_grad():
            net(x)
    finally:
        for hook in hooks:
            hook.remove()
    modules = dict(net.named_modules())
    return [modules[name] for name in order]


def copy_weights(fw, layer, module) -> None:
    torch = fw.torch
    weights = {w.name: fw.keras.ops.convert_to_numpy(w) for w in layer.weights}
    kind = type(layer).__name__
    if kind.startswith("Conv"):
        target = {"weight": weights["kernel"].transpose(3, 2, 0, 1), "bias": weights.get("bias")}
    elif kind == "Dense":
        target = {"weight": weights["kernel"].T, "bias": weights.get("bias")}
    elif kind == "BatchNormalization":
        target = {"weight": weights.get("gamma"), "bias": weights.get("beta"),
                  "running_mean": weights["moving_mean"],
                  "running_var": weights["moving_variance"]}
    else:
        raise AssertionError(f"no weight mapping for Keras {kind}")
    for attr, value in target.items():
        tensor = getattr(module, attr)
        assert (value is None) == (tensor is None), f"{kind} -> {type(module).__name__}.{attr}"
        if value is None:
            continue
        assert tuple(tensor.shape) == value.shape, f"{kind} -> {type(module).__name__}.{attr}"
        with torch.no_grad():
            tensor.copy_(torch.from_numpy(np.ascontiguousarray(value)))


def to_torch_layout(torch, x: np.ndarray):
    if x.ndim == 4:  # NHWC -> NCHW
        x = x.transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(x))


def no_dropout(fw, keras_net, torch_net) -> None:
    for layer in keras_net.layers:
        if isinstance(layer, fw.keras.layers.Dropout):
            layer.rate = 0.0
    for module in torch_net.modules():
        if isinstance(module, fw.torch.nn.Dropout):
            module.p = 0.0


def check_same_function(fw, real, pair: Pair) -> None:
    """Raises unless the torch model computes the Keras model's function (weights copied)."""
    torch = fw.torch
    keras_net = real(pair.keras, fresh=True).net  # fresh: this changes weights
    torch_net = real(pair.torch, fresh=True).net
    keras_rates = sorted(layer.rate for layer in keras_net.layers
                         if isinstance(layer, fw.keras.layers.Dropout))
    torch_rates = sorted(module.p for module in torch_net.modules()
                         if isinstance(module, torch.nn.Dropout))
    if torch_rates:  # F.dropout in forward leaves no module to read the rate from
        assert keras_rates == torch_rates, "dropout rates (inference cannot tell)"
    rng = np.random.default_rng(0)
    for w in keras_net.weights:
        shape = tuple(w.shape)
        if w.name == "moving_variance":  # small variances make an epsilon mismatch visible
            value = rng.uniform(0.02, 0.5, shape)
        else:
            value = rng.normal(0.0, 0.3, shape)
        w.assign(value.astype("float32"))
    x = rng.normal(0.0, 1.0, (4, *pair.keras.input_shape)).astype("float32")
    x_torch = to_torch_layout(torch, x)
    assert tuple(x_torch.shape[1:]) == pair.torch.input_shape

    layers = keras_weighted_layers(keras_net, pair.keras)
    modules = torch_modules_in_call_order(torch, torch_net, x_torch)
    assert [type(layer).__name__ for layer in layers] and len(layers) == len(modules), (
        [type(layer).__name__ for layer in layers], [type(m).__name__ for m in modules])
    for layer, module in zip(layers, modules):
        copy_weights(fw, layer, module)

    keras_out = fw.keras.ops.convert_to_numpy(keras_net(x, training=False))
    torch_net.eval()
    with torch.no_grad():
        torch_out = torch_net(x_torch).numpy()
    np.testing.assert_allclose(torch_out, keras_out, rtol=1e-4, atol=1e-5)

    # One training-mode forward pass updates the running means the same way only if the
    # momentum was converted (torch momentum = 1 - Keras momentum).
    pairs = [(layer, module) for layer, module in zip(layers, modules)
             if type(layer).__name__ == "BatchNormalization"]
    if not pairs:
        return
    no_dropout(fw, keras_net, torch_net)
    keras_net(x, training=True)
    torch_net.train()
    with torch.no_grad():
        torch_net(x_torch)
    for layer, module in pairs:
        np.testing.assert_allclose(module.running_mean.numpy(),
                                   fw.keras.ops.convert_to_numpy(layer.moving_mean),
                                   rtol=1e-4, atol=1e-5)
        assert math.isclose(module.momentum, 1.0 - layer.momentum, abs_tol=1e-9)


@pytest.mark.parametrize("pair", [pytest.param(p, id=p.id) for p in CORRECT])
def test_correct_port_computes_the_same_function(fw, real, pair: Pair) -> None:
    check_same_function(fw, real, pair)


@pytest.mark.parametrize("pair", [pytest.param(p, id=p.id) for p in BROKEN_PAIRS])
def test_broken_port_really_computes_something_else(fw, real, pair: Pair) -> None:
    """The broken fixtures are real bugs, not just a different spelling portlint dislikes."""
    with pytest.raises((AssertionError, RuntimeError)):
        check_same_function(fw, real, pair)
