"""Layer by layer for a Hugging Face pair: which TF layer and torch module hold the same
weights (from the name-based transfer), their outputs recorded during one forward pass of
each model, compared in the order torch ran them; the first pair that differs is the first
divergence. Runs in the verify worker.

A TF layer and a torch module pair up when every tensor the transfer gave the module
directly came from variables the TF layer owns directly, and the other way round (so
BERT's `query` Dense pairs with the `query` Linear, never with `key`). Outputs are
compared n-th call with n-th call; a conv's NHWC output against the NCHW one with the
channels moved last.
"""

from __future__ import annotations

from typing import Any

from ..knowledge import hf_weights as hf
from .hf_transfer import Transfer


def _direct_weights(layer: Any) -> list[Any]:
    """The variables a tf_keras layer created itself (not its sublayers')."""
    return [*getattr(layer, "_trainable_weights", []),
            *getattr(layer, "_non_trainable_weights", [])]


def layer_pairs(keras_model: Any, torch_model: Any, transfers: list[Transfer]
                ) -> list[tuple[str, Any, str, Any]]:
    """(TF layer name, TF layer, torch module path, torch module) of each paired layer."""
    owner: dict[int, Any] = {}
    for layer in [keras_model, *keras_model.submodules]:
        for variable in _direct_weights(layer):
            owner.setdefault(id(variable), layer)
    by_module: dict[str, list[Transfer]] = {}
    for t in transfers:
        by_module.setdefault(t.torch.rpartition(".")[0], []).append(t)
    pairs, used = [], set()
    for path, group in by_module.items():
        layers = {id(owner.get(id(t.variable))): owner.get(id(t.variable)) for t in group}
        if len(layers) != 1 or None in layers.values():
            continue
        layer = next(iter(layers.values()))
        # a leaf in weight terms: what it owns is all it holds (T5's attention layer owns
        # its position bias table and holds q, k, v, o besides: no pair for the table)
        own = len(_direct_weights(layer))
        if id(layer) in used or own != len(group) or own != len(_unique(layer.weights)):
            continue
        try:
            module = torch_model.get_submodule(path)
        except AttributeError:
            continue
        used.add(id(layer))
        scope = group[0].keras.rsplit("/", 1)[0]
        pairs.append((scope, layer, path, module))
    return pairs


def _unique(variables: list[Any]) -> list[Any]:
    return list({id(v): v for v in variables}.values())


class Recorder:
    """Records the paired layers' outputs during one forward pass of each model."""

    def __init__(self, pairs: list[tuple[str, Any, str, Any]]):
        self.pairs = pairs
        self.keras_out: dict[int, list] = {i: [] for i in range(len(pairs))}
        self.torch_out: dict[int, list] = {i: [] for i in range(len(pairs))}
        self.order: list[int] = []  # pair indices in the order torch first ran them
        self.hooks: list[Any] = []
        self.patched: list[Any] = []

    def install(self) -> None:
        for i, (_, layer, _, module) in enumerate(self.pairs):
            self.hooks.append(module.register_forward_hook(self._torch_hook(i)))
            self._wrap(i, layer)

    def fused_activation(self, i: int) -> Any:
        """The activation the Keras layer applies inside itself (`Dense(activation="tanh")`,
        BERT's pooler), None when it applies none: the torch module's output is compared
        after it."""
        activation = getattr(self.pairs[i][1], "activation", None)
        name = getattr(activation, "__name__", "linear")
        return None if activation is None or name == "linear" else activation

    def _torch_hook(self, i: int) -> Any:
        def hook(_module: Any, _inputs: Any, output: Any) -> None:
            if not self.torch_out[i]:
                self.order.append(i)
            self.torch_out[i].append(_first_array(output))
        return hook

    def _wrap(self, i: int, layer: Any) -> None:
        original = layer.call
        sink = self.keras_out[i]

        def call(*args: Any, **kwargs: Any) -> Any:
            out = original(*args, **kwargs)
            sink.append(_first_array(out))
            return out

        layer.call = call
        self.patched.append(layer)

    def remove(self) -> None:
        for hook in self.hooks:
            hook.remove()
        for layer in self.patched:
            try:
                del layer.call
            except AttributeError:
                pass


def _first_array(value: Any) -> Any:
    while isinstance(value, (tuple, list)) and value:
        value = value[0]
    if hasattr(value, "items") and not hasattr(value, "shape"):
        items = [v for _, v in value.items()]
        value = items[0] if items else None
    try:
        if hasattr(value, "detach"):  # a copy: the model may change it in place later
            return value.detach().cpu().numpy().copy()
        if hasattr(value, "numpy"):
            return value.numpy()
    except Exception:  # noqa: BLE001 - a symbolic tensor: not comparable
        return None
    return None


def _channels_move(layer: Any, module: Any, rank: int) -> bool:
    """The torch module puts channels first and the Keras layer keeps them last."""
    return type(module).__name__ in hf.CHANNELS_FIRST_MODULES and hf.keras_channels_last(
        getattr(layer, "data_format", None), getattr(layer, "axis", None), rank)


def compare_layers(recorder: Recorder, compare: Any, origin_is_keras: bool
                   ) -> list[dict[str, Any]]:
    """One entry per paired layer torch ran, in that order (`compare(original, port)`:
    `hf_numeric.compare_arrays`)."""
    import numpy as np

    rows = []
    for i in recorder.order:
        scope, _, path, _ = recorder.pairs[i]
        ko, to = recorder.keras_out[i], recorder.torch_out[i]
        row = {"keras": scope, "torch": path}
        if len(ko) != len(to):
            rows.append({**row, "status": "skipped", "reason": f"called {len(ko)} time(s) in "
                         f"Keras, {len(to)} in PyTorch"})
            continue
        if any(k is None or t is None for k, t in zip(ko, to)):
            rows.append({**row, "status": "skipped", "reason": "an output is not a tensor"})
            continue
        results = []
        fused = recorder.fused_activation(i)
        if fused is not None:
            to = [np.asarray(fused(t)) for t in to]
            row["note"] = (f"compared after the activation the Keras layer applies inside "
                           f"itself ({getattr(fused, '__name__', '?')})")
        _, layer, _, module = recorder.pairs[i]
        for k, t in zip(ko, to):
            if t.ndim >= 3 and np.moveaxis(t, 1, -1).shape == k.shape and (
                    k.shape != t.shape or _channels_move(layer, module, k.ndim)):
                t = np.moveaxis(t, 1, -1)  # NCHW -> NHWC
                row["note"] = "the PyTorch output compared with its channels moved last"
            results.append(compare(*((k, t) if origin_is_keras else (t, k))))
        if not results:
            continue
        differing = [r for r in results if r["status"] != "agrees"]
        rows.append({**row, **(differing[0] if differing else
                               max(results, key=lambda r: r["max_abs_error"] or 0))})
    return rows
