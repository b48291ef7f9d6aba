"""The worker's "count" step: per layer/module and total weight counts of each built model
(tied tensors counted once, at their first owner, as the frameworks' own totals do).
"""

from __future__ import annotations

import sys
from typing import Any

from .building import BuiltModel, WorkerContext
from .protocol import KERAS, TORCH
from .sites import SiteRecorder


def count_torch(built: BuiltModel, sites: SiteRecorder) -> dict[str, Any]:
    torch = sys.modules["torch"]
    # Keras folds torch's second bias into one for LSTM and SimpleRNN; its GRU
    # (reset_after=True) keeps both, so a GRU's bias_hh is no convention difference.
    folding = (torch.nn.LSTM, torch.nn.RNN)
    from torch.nn.parameter import UninitializedBuffer, UninitializedParameter

    def numel(tensor: Any) -> int:
        if isinstance(tensor, (UninitializedParameter, UninitializedBuffer)):
            return 0
        return int(tensor.numel())

    owner: dict[int, str] = {}  # tensor id -> its first path

    def claim(path: str, name: str, tensor: Any, tensors: dict, tied: dict) -> int | None:
        """The tensor's size, recorded under `name`; None when it is tied (already
        counted at its first owner, as parameters() and buffers() count it)."""
        if id(tensor) in owner:
            tied[name] = owner[id(tensor)]
            return None
        owner[id(tensor)] = f"{path}.{name}" if path else name
        tensors[name] = size = numel(tensor)
        return size

    layers = []
    total = dict.fromkeys(("parameters", "buffers", "running_stats", "num_batches_tracked",
                           "folded_bias"), 0)
    for path, module in built.model.named_modules():
        counts = dict.fromkeys(total, 0)
        tensors: dict[str, int] = {}
        tied: dict[str, str] = {}
        for name, param in module.named_parameters(recurse=False):
            size = claim(path, name, param, tensors, tied)
            if size is None:
                continue
            counts["parameters"] += size
            if isinstance(module, folding) and name.startswith("bias_hh"):
                counts["folded_bias"] += size
        # A non-persistent buffer (register_buffer(..., persistent=False): BERT's
        # position_ids, GPT-2's causal mask) is not in the state_dict: no weight, as the
        # static analysis counts it.
        transient = getattr(module, "_non_persistent_buffers_set", ())
        for name, buffer in module.named_buffers(recurse=False):
            if name in transient:
                continue
            size = claim(path, name, buffer, tensors, tied)
            if size is None:
                continue
            counts["buffers"] += size
            key = "num_batches_tracked" if name == "num_batches_tracked" else "running_stats"
            counts[key] += size
        for key in total:
            total[key] += counts[key]
        layers.append({"name": path, "parent": path.rpartition(".")[0] if path else None,
                       "type": type(module).__name__, "counts": counts, "tensors": tensors,
                       "tied": tied, "sites": sites.site(module),
                       "class_site": sites.class_site(type(module))})
    return {"framework": TORCH, "root": "", "total": total, "layers": layers}


def count_keras(built: BuiltModel, sites: SiteRecorder) -> dict[str, Any]:
    import math

    def size(variable: Any) -> int:
        return int(math.prod(int(d) for d in variable.shape))

    layers: list[dict[str, Any]] = []
    counted: dict[int, str] = {}  # variable id -> its path (first owner)
    visited: set[int] = set()

    def visit(layer: Any, parent: str | None) -> None:
        if id(layer) in visited:
            return
        visited.add(id(layer))
        children = list(layer._flatten_layers(include_self=False, recursive=False))
        below = {id(v) for child in children for v in child.weights}
        trainable = {id(v) for v in layer.trainable_weights}
        counts = {"trainable": 0, "non_trainable": 0}
        tensors: dict[str, int] = {}
        tied: dict[str, str] = {}
        for variable in layer.weights:
            if id(variable) in below:
                continue
            if id(variable) in counted:
                tied[variable.name] = counted[id(variable)]
                continue
            counted[id(variable)] = getattr(variable, "path", variable.name)
            key = "trainable" if id(variable) in trainable else "non_trainable"
            counts[key] += size(variable)
            tensors[variable.name] = size(variable)
        layers.append({"name": layer.name, "parent": parent, "type": type(layer).__name__,
                       "counts": counts, "tensors": tensors, "tied": tied,
                       "sites": sites.site(layer), "class_site": sites.class_site(type(layer))})
        for child in children:
            visit(child, layer.name)

    visit(built.model, None)
    model = built.model
    total = {"trainable": sum(size(v) for v in _unique(model.trainable_weights)),
             "non_trainable": sum(size(v) for v in _unique(model.non_trainable_weights))}
    return {"framework": KERAS, "root": model.name, "total": total, "layers": layers}


def _unique(variables: list[Any]) -> list[Any]:
    seen: dict[int, Any] = {}
    for v in variables:
        seen.setdefault(id(v), v)
    return list(seen.values())


COUNTERS = {TORCH: count_torch, KERAS: count_keras}


def count_step(ctx: WorkerContext) -> dict[str, Any]:
    """Per layer/module and total weight counts of every built model."""
    return {"models": [COUNTERS[m.framework](m, ctx.sites) for m in ctx.models]}
