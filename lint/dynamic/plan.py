"""What `verify --numeric` asks the worker to do, from the static alignment (parent side:
never imports a framework).

`numeric_request` turns the aligned rows into the request's "numeric" object:

* "layers": one entry per aligned pair of weighted layers (a re-applied shared layer
  once): the Keras layer name and type, the torch module path and type, the Keras op and
  what the conversion needs beyond the tensors themselves: which half of a Keras
  SeparableConv a node is, the flatten permutation of the first Dense after a Flatten of a
  channels-last map that the port flattens channels first (`spatial`, `channels` of the
  Keras map), the recurrent cell and its direction(s). A weighted layer without a
  counterpart, or paired with a functional call, carries a "problem";
* "compare": the rows whose outputs are compared, in row order: matched weighted layers
  (Keras SeparableConv once, after its pointwise half) and matched activation and
  pooling layers that are layers on both sides. A Keras layer with a fused `activation=`
  is compared after the activation: at the port's activation module when it has one, or
  by applying the port's functional activation (F.relu(conv(x))) to the port layer's
  output; when the port has no activation there, the raw output is compared (and
  differs: that is the bug);
* "input": the Keras input shape (one sample), the axis order of the port's input and
  whether it is token ids (an Embedding reads it);
* "outputs": the layouts of the final outputs.

`interpret` (in `numeric_answer`, importable from here) adds to the worker's answer what
only the static side knows: the rows between the last agreeing layer and the first
divergent one that have no counterpart, and the static findings located there.
"""

from __future__ import annotations

import math
from typing import Any

from .. import ir
from ..align import MATCH, Alignment
from ..ir import CHANNELS_FIRST, CHANNELS_LAST, Graph, Node
from ..knowledge.ops import Op
from .numeric_answer import interpret  # noqa: F401 - part of this module's API
from .protocol import BATCH

DEFAULT_SEED = 0
DEFAULT_ATOL = 1e-5
DEFAULT_RTOL = 1e-4

WEIGHTED_OPS = frozenset({Op.CONV, Op.DEPTHWISE_CONV, Op.CONV_TRANSPOSE, Op.DENSE,
                          Op.BATCH_NORM, Op.LAYER_NORM, Op.GROUP_NORM, Op.RMS_NORM,
                          Op.EMBEDDING, Op.RNN, Op.ATTENTION})
COMPARED_OPS = frozenset({Op.ACTIVATION, Op.POOL, Op.GLOBAL_POOL, Op.ADAPTIVE_POOL, Op.UPSAMPLE})
# Ops that turn a map into vectors (or back): where a Dense may read channels permuted.
FLATTENING = frozenset({Op.FLATTEN, Op.RESHAPE})


def weighted(node: Node | None) -> bool:
    if node is None or node.functional or node.fused_into is not None or node.op == Op.INPUT:
        return False
    if node.counts is not None:
        return node.counts.trainable + node.counts.state > 0
    return node.op in WEIGHTED_OPS


def _ref(node: Node | None) -> dict[str, Any]:
    if node is None:
        return {"name": None, "type": None}
    return {"name": node.name, "type": node.layer_type}


def _part(keras: Node) -> str | None:
    if keras.layer_type.endswith("(depthwise)"):
        return "depthwise"
    if keras.layer_type.startswith("SeparableConv") and keras.op == Op.CONV:
        return "pointwise"
    return None


def _occurrence(node: Node, graph: Graph) -> int:
    """How many earlier nodes apply the same layer (a shared layer, a reused nn.ReLU)."""
    same = 0
    for other in graph.nodes:
        if other.id >= node.id:
            break
        if other.functional or other.fused_into is not None:
            continue
        if (other.layer_key == node.layer_key if node.layer_key is not None
                else other.name == node.name):
            same += 1
    return same


def flatten_permutations(alignment: Alignment) -> dict[int, dict[str, Any]]:
    """Keras Dense node id -> the (spatial, channels) of the channels-last map a Flatten
    feeds it, when the port flattens that map channels first (the weights need the
    permutation of `rules.layout.permutation_recipe`)."""
    from ..rules.layout import dense_after, spatial_and_channels

    out: dict[int, dict[str, Any]] = {}
    for row in alignment.rows:
        k, t = row.keras, row.torch
        if row.status != MATCH or k.op not in FLATTENING \
                or t.op not in FLATTENING:
            continue
        if k.in_layout != CHANNELS_LAST or t.in_layout != CHANNELS_FIRST:
            continue
        if not k.out_shape or len(k.out_shape) != 1:
            continue
        found = spatial_and_channels(k)
        dense_k, dense_t = dense_after(k, alignment.keras), dense_after(t, alignment.torch)
        if found is None:
            if dense_k is not None:
                out[dense_k.id] = {"unknown": True}
            continue
        spatial, channels = found
        if math.prod(spatial) == 1 or channels == 1:
            continue
        if dense_k is None or dense_t is None:
            continue
        paired = alignment.row_of(dense_k)
        if paired is None or paired.torch is not dense_t:
            continue
        out[dense_k.id] = {"spatial": [int(d) for d in spatial], "channels": int(channels)}
    return out


_PASS_THROUGH = frozenset({Op.ACTIVATION, Op.DROPOUT, Op.IDENTITY})


def _dense_before(node: Node, graph: Graph) -> tuple[Node | None, list[Node]]:
    """The Dense/Linear whose output reaches `node` through activations, dropout and
    identity only (and those in between), or None."""
    between: list[Node] = []
    current = node
    for _ in range(8):
        if len(current.inputs) != 1:
            return None, []
        current = graph.nodes[current.inputs[0]]
        if current.op == Op.DENSE:
            return current, between
        if current.op not in _PASS_THROUGH or len(graph.consumers(current.id)) != 1:
            return None, []
        between.append(current)
    return None, []


def unflatten_permutations(alignment: Alignment) -> dict[int, dict[str, Any]]:
    """Node id (the Keras Dense, and the Keras and torch nodes between it and the Reshape)
    -> (spatial, channels) of the map Keras reshapes a Dense's output to, channels last,
    when the port views it channels first (`x.view(-1, C, H, W)`): the Dense's outputs
    are in a different order on each side (reshape-layout-mismatch)."""
    out: dict[int, dict[str, Any]] = {}
    for row in alignment.rows:
        k, t = row.keras, row.torch
        if row.status != MATCH or k.op != Op.RESHAPE or t.op != Op.RESHAPE:
            continue
        if not (k.in_shape and len(k.in_shape) == 1 and k.out_shape and len(k.out_shape) >= 2
                and all(isinstance(d, int) for d in k.out_shape)):
            continue
        *spatial, channels = k.out_shape
        if tuple(t.out_shape or ()) != (channels, *spatial) or math.prod(spatial) == 1 \
                or channels == 1:
            continue
        dense_k, between_k = _dense_before(k, alignment.keras)
        dense_t, between_t = _dense_before(t, alignment.torch)
        if dense_k is None or dense_t is None:
            continue
        paired = alignment.row_of(dense_k)
        if paired is None or paired.torch is not dense_t:
            continue
        info = {"spatial": [int(d) for d in spatial], "channels": int(channels)}
        for node in (dense_k, *between_k, dense_t, *between_t):
            out[node.id if node.framework == ir.KERAS else -1 - node.id] = info
    return out


def layer_entries(alignment: Alignment, origin: str) -> list[dict[str, Any]]:
    flatten = flatten_permutations(alignment)
    unflatten = unflatten_permutations(alignment)
    entries: list[dict[str, Any]] = []
    seen: set[tuple] = set()
    origin_label = "Keras" if origin == ir.KERAS else "PyTorch"
    for index, row in enumerate(alignment.rows):
        k, t = row.keras, row.torch
        if not (weighted(k) or weighted(t)):
            continue
        key = (k.layer_key if k is not None and k.layer_key is not None else (k.name if k else None),
               t.layer_key if t is not None and t.layer_key is not None else (t.name if t else None))
        if k is not None and k.layer_key is not None and k.layer_key < 0:
            key = ("depthwise",) + key
        if key in seen:
            continue
        seen.add(key)
        entry: dict[str, Any] = {"row": index, "op": (k or t).op, "keras": _ref(k),
                                 "torch": _ref(t), "problem": None}
        if row.status != MATCH or k is None or t is None:
            node = k or t
            side = "Keras" if k is not None else "PyTorch"
            lone_origin = (k is not None) == (origin == ir.KERAS)
            entry["problem"] = (
                f"{side} {node.layer_type} `{node.name}` has no counterpart in the "
                + ("port: its weights have nowhere to go" if lone_origin else
                   f"{origin_label} model: its weights cannot be set"))
            entries.append(entry)
            continue
        if t.functional or k.functional:
            entry["problem"] = (f"PyTorch `{t.name}` is a functional call ({t.layer_type}): "
                                f"its weights are not a module's")
            entries.append(entry)
            continue
        entry["op"] = k.op
        entry["part"] = _part(k)
        if k.op == Op.DENSE and k.id in flatten:
            if flatten[k.id].get("unknown"):
                entry["problem"] = (f"`{k.name}` reads a Flatten of a channels-last map that the "
                                    f"port flattens channels first; permuting its weights needs "
                                    f"the map's (H, W, C), which the static analysis does not "
                                    f"know (give --input-shape)")
            else:
                entry["flatten"] = flatten[k.id]
        if k.op == Op.DENSE and k.id in unflatten:
            entry["unflatten"] = unflatten[k.id]
        if k.op == Op.RNN:
            entry["cell"] = k.attrs.get("cell") or t.attrs.get("cell")
            entry["bidirectional"] = bool(k.attrs.get("bidirectional"))
            layers = t.attrs.get("num_layers")
            entry["num_layers"] = layers if isinstance(layers, int) else 1
            entry["proj_size"] = t.attrs.get("proj_size") if isinstance(
                t.attrs.get("proj_size"), int) else 0
        entries.append(entry)
    return entries


def _capture(node: Node, graph: Graph) -> dict[str, Any]:
    return {"name": node.name, "type": node.layer_type, "occurrence": _occurrence(node, graph),
            "layout": node.layout}


def compare_items(alignment: Alignment) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    unflatten = unflatten_permutations(alignment)
    fused: dict[int, Node] = {n.fused_into: n for n in alignment.keras.nodes
                              if n.fused_into is not None}
    for index, row in enumerate(alignment.rows):
        k, t = row.keras, row.torch
        if row.status != MATCH or k is None or t is None:
            continue
        if k.functional or t.functional or k.fused_into is not None or t.fused_into is not None:
            continue
        if _part(k) == "depthwise":
            continue  # inside the Keras layer: compared after its pointwise half
        if not (weighted(k) or weighted(t) or (k.op in COMPARED_OPS and t.op in COMPARED_OPS)):
            continue
        item: dict[str, Any] = {"row": index, "keras": _capture(k, alignment.keras),
                                "torch": _capture(t, alignment.torch), "rnn": k.op == Op.RNN,
                                "note": None}
        activation = fused.get(k.id)
        if activation is not None and activation.attrs.get("kind") not in ("linear", None):
            kind = activation.attrs.get("kind")
            partner = alignment.row_of(activation)
            other = partner.torch if partner is not None and partner.status == MATCH else None
            if other is None:
                item["note"] = (f"Keras applies {kind} inside `{k.name}` (activation=); the port "
                                f"applies no activation after `{t.name}`")
            elif not other.functional:
                item["torch"]["capture"] = _capture(other, alignment.torch)
                item["note"] = (f"compared after the activation: Keras `{k.name}` applies "
                                f"{kind} (activation=), the port `{other.name}`")
            else:
                item["torch"]["apply"] = {"kind": other.attrs.get("kind"),
                                          **{key: value for key, value in other.attrs.items()
                                             if key != "kind" and isinstance(
                                                 value, (int, float, str, bool, type(None)))}}
        if k.id in unflatten:
            # The Dense's outputs before the port's channels-first view: compare them in
            # Keras's order.
            item["torch"]["reorder"] = unflatten[k.id]
        items.append(item)
    return items


def _embedding_high(graph: Graph) -> int | None:
    """The vocabulary size when the model's input feeds an Embedding (token ids)."""
    if not graph.inputs:
        return None
    for node in graph.consumers(graph.inputs[0]):
        if node.op == Op.EMBEDDING:
            size = node.attrs.get("num_embeddings")
            return size if isinstance(size, int) else None
    return None


def input_spec(alignment: Alignment) -> tuple[dict[str, Any] | None, str | None]:
    keras, torch = alignment.keras, alignment.torch
    if len(keras.inputs) != 1 or len(torch.inputs) != 1:
        return None, ("models with several inputs are not supported by --numeric yet "
                      f"(Keras {len(keras.inputs)}, PyTorch {len(torch.inputs)})")
    k_node, t_node = keras.nodes[keras.inputs[0]], torch.nodes[torch.inputs[0]]
    k_shape = list(k_node.out_shape or keras.input_shape or ())
    t_shape = list(t_node.out_shape or torch.input_shape or ())
    rank = len(k_shape) or len(t_shape)
    if not rank:
        return None, "the input shape is unknown: give --input-shape"
    if k_node.layout == CHANNELS_LAST and t_node.layout == CHANNELS_FIRST and rank >= 2:
        perm = [rank - 1, *range(rank - 1)]
    else:
        perm = list(range(rank))
    if not k_shape:
        k_shape = [None] * rank
    if not t_shape:
        t_shape = [None] * rank
    if len(k_shape) != len(t_shape):
        return None, (f"the input shapes have different ranks: Keras {tuple(k_shape)}, "
                      f"PyTorch {tuple(t_shape)}")
    for j, p in enumerate(perm):
        if k_shape[p] is None and isinstance(t_shape[j], int):
            k_shape[p] = t_shape[j]
    if not all(isinstance(d, int) for d in k_shape):
        return None, (f"the input shape is not fully known (Keras {tuple(k_shape)}): give "
                      f"--input-shape")
    expected = [k_shape[p] for p in perm]
    if any(isinstance(d, int) and d != e for d, e in zip(t_shape, expected)):
        return None, (f"the input shapes do not correspond: Keras {tuple(k_shape)} is "
                      f"{tuple(expected)} in the port's layout, the port expects "
                      f"{tuple(t_shape)}")
    spec: dict[str, Any] = {"keras": k_shape, "torch": expected, "to_torch": perm,
                            "dtype": "float"}
    highs = [h for h in (_embedding_high(keras), _embedding_high(torch)) if h]
    if highs:
        spec.update(dtype="int", high=min(highs))
    return spec, None


def numeric_request(alignment: Alignment, origin: str, *, seed: int = DEFAULT_SEED,
                    atol: float = DEFAULT_ATOL, rtol: float = DEFAULT_RTOL) -> dict[str, Any]:
    """The request's "numeric" object (see the module docstring)."""
    spec, problem = input_spec(alignment)
    keras_out = alignment.keras.nodes[alignment.keras.outputs[0]] if alignment.keras.outputs else None
    torch_out = alignment.torch.nodes[alignment.torch.outputs[0]] if alignment.torch.outputs else None
    names = sorted({n.name for n in alignment.keras.nodes
                    if n.op != Op.INPUT and not n.functional and n.fused_into is None})
    return {"origin": origin, "seed": seed, "atol": atol, "rtol": rtol, "batch": BATCH,
            "input": spec, "input_problem": problem, "keras_names": names,
            "layers": layer_entries(alignment, origin), "compare": compare_items(alignment),
            "outputs": {"keras_layout": keras_out.layout if keras_out else None,
                        "torch_layout": torch_out.layout if torch_out else None}}
