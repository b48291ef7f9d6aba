"""Reconciling the counts of the built models with the static extraction (per framework:
the mismatches behind PTL704, made findings by `count_findings`) and across frameworks
(the conventions of `buffer-accounting`).

Static and built layers meet by name: a static node's name is the Keras layer name or the
torch module path, the worker reports the same names. The built model is a tree (torch
submodules, Keras nested layers and models); a static node may stand for a whole subtree
(nn.MultiheadAttention holds its `out_proj`, Keras MultiHeadAttention its EinsumDense
sublayers), so each built layer belongs to the nearest static *node* among itself and its
ancestors. Weights a module holds directly (`graph.owned`: nn.Parameter, register_buffer,
add_weight) belong to that module only. A static name that is a tensor path
(`encoder.pos_embedding`) counts for the module that holds the tensor.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .. import ir
from ..align import Alignment
from ..ir import Counts, Graph, Node, Span
from ..knowledge.ops import Op
from ..rule import FRAMEWORK_LABEL

TORCH_KEYS = ("parameters", "buffers", "running_stats", "num_batches_tracked", "folded_bias")
KERAS_KEYS = ("trainable", "non_trainable")


def n(value: int) -> str:
    return f"{value:,}"


def compared(framework: str, counts: dict[str, int]) -> tuple[int, int]:
    """The two numbers static and dynamic counts are compared on."""
    if framework == ir.KERAS:
        return counts["trainable"], counts["non_trainable"]
    return counts["parameters"], counts["buffers"]


def static_as_dynamic(framework: str, counts: Counts) -> dict[str, int]:
    if framework == ir.KERAS:
        return {"trainable": counts.trainable, "non_trainable": counts.state}
    return {"parameters": counts.trainable, "buffers": counts.state + counts.torch_extra_buffers,
            "running_stats": counts.state, "num_batches_tracked": counts.torch_extra_buffers,
            "folded_bias": counts.folded_bias}


def counts_text(framework: str, counts: dict[str, int]) -> str:
    a, b = compared(framework, counts)
    if framework == ir.KERAS:
        return f"{n(a)} trainable + {n(b)} non-trainable weights"
    return f"{n(a)} parameters + {n(b)} buffer elements"


def add(framework: str, a: dict[str, int] | None, b: dict[str, int]) -> dict[str, int]:
    keys = KERAS_KEYS if framework == ir.KERAS else TORCH_KEYS
    if a is None:
        return {k: int(b.get(k, 0)) for k in keys}
    return {k: a[k] + int(b.get(k, 0)) for k in keys}


@dataclass
class StaticEntry:
    """What the static extraction says about one name."""

    name: str
    counts: Counts | None = field(default_factory=Counts)  # None: some part unknown
    nodes: list[Node] = field(default_factory=list)  # layers: they claim their subtree
    owned: list[ir.OwnedWeights] = field(default_factory=list)
    anchors: list[Node] = field(default_factory=list)  # nodes named by a tensor path

    @property
    def claims_subtree(self) -> bool:
        return bool(self.nodes)

    @property
    def span(self) -> Span | None:
        for node in self.nodes + self.anchors:
            if node.where is not None:
                return node.where
        for owned in self.owned:
            if owned.span is not None:
                return owned.span
        return None

    def merge(self, counts: Counts | None) -> None:
        self.counts = None if self.counts is None or counts is None else self.counts + counts


def static_entries(graph: Graph) -> dict[str, StaticEntry]:
    """Static counts by name: layer nodes (a re-applied shared layer once; activations
    split from `activation=` and functional calls hold no weights of their own) and
    weights held directly. Keras SeparableConv2D is two nodes of one name: summed."""
    entries: dict[str, StaticEntry] = {}
    seen_keys: set[int] = set()
    for node in graph.nodes:
        if node.op == Op.INPUT or node.functional or node.fused_into is not None:
            continue
        if node.layer_key is not None:
            if node.layer_key in seen_keys:
                continue
            seen_keys.add(node.layer_key)
        entry = entries.setdefault(node.name, StaticEntry(node.name))
        entry.nodes.append(node)
        entry.merge(node.counts)
    for owned in graph.owned:
        entry = entries.setdefault(owned.name, StaticEntry(owned.name))
        entry.owned.append(owned)
        entry.merge(owned.counts)
    return entries


@dataclass
class Group:
    """One static name and the built layers it accounts for."""

    key: str
    static: StaticEntry | None
    members: list[dict[str, Any]] = field(default_factory=list)  # built layers
    dynamic: dict[str, int] | None = None  # sum of the members' own counts

    def type_name(self) -> str:
        if self.static is not None and self.static.nodes:
            return self.static.nodes[0].layer_type
        return self.members[0]["type"] if self.members else ""


@dataclass
class Mismatch:
    kind: str  # "differs" | "unseen" (built weights, no static layer) | "phantom" (static only)
    name: str
    layer_type: str
    static: dict[str, int] | None
    dynamic: dict[str, int] | None
    span: Span | None
    node: Node | None = None
    members: list[dict[str, Any]] = field(default_factory=list)  # the built layers


@dataclass
class SideResult:
    """Static vs dynamic for one model."""

    framework: str
    graph: Graph
    record: dict[str, Any]  # the worker's count record (total, layers)
    build: dict[str, Any]  # the worker's model summary (mode, notes, seconds) + peak RSS
    groups: dict[str, Group] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)  # static name -> built name
    unknown: list[str] = field(default_factory=list)  # static counts unknown here
    agreeing: int = 0
    weighted: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> dict[str, int]:
        return self.record["total"]

    def dynamic_of(self, name: str) -> dict[str, int] | None:
        group = self.groups.get(self.renamed.get(name, name))
        if group is None or not group.members:
            return None
        return group.dynamic


def reconcile_side(framework: str, graph: Graph, record: dict[str, Any],
                   build: dict[str, Any]) -> SideResult:
    side = SideResult(framework, graph, record, build)
    static = static_entries(graph)
    layers = record["layers"]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for layer in layers:
        by_name.setdefault(layer["name"], []).append(layer)
    parent_of = {layer["name"]: layer["parent"] for layer in layers}

    # A static name that is a tensor path counts for the module holding the tensor.
    for name in list(static):
        if name in by_name:
            continue
        module, _, tensor = name.rpartition(".")
        holders = by_name.get(module, [])
        if any(tensor in layer.get("tensors", {}) for layer in holders):
            alias = static.pop(name)
            target = static.setdefault(module, StaticEntry(module))
            target.owned += alias.owned
            target.anchors += alias.nodes + alias.anchors
            target.merge(alias.counts)

    def key_of(layer: dict[str, Any]) -> str | None:
        if layer["name"] in static:
            return layer["name"]
        parent = layer["parent"]
        guard = 0
        while parent is not None and guard < 10_000:
            entry = static.get(parent)
            if entry is not None and entry.claims_subtree:
                return parent
            parent = parent_of.get(parent)
            guard += 1
        return None

    unseen: list[dict[str, Any]] = []
    for layer in layers:
        key = key_of(layer)
        if key is None:
            if any(compared(framework, layer["counts"])):
                unseen.append(layer)
            continue
        group = side.groups.setdefault(key, Group(key, static[key]))
        group.members.append(layer)
        group.dynamic = add(framework, group.dynamic, layer["counts"])

    phantoms: list[StaticEntry] = []
    for name, entry in static.items():
        group = side.groups.get(name)
        if group is None:
            if entry.counts is None:
                side.unknown.append(name)
            elif any(compared(framework, static_as_dynamic(framework, entry.counts))):
                phantoms.append(entry)
            continue
        dynamic = group.dynamic or add(framework, None, {})
        if any(compared(framework, dynamic)):
            side.weighted += 1
        if entry.counts is None:
            side.unknown.append(name)
            continue
        expected = static_as_dynamic(framework, entry.counts)
        if compared(framework, expected) == compared(framework, dynamic):
            if any(compared(framework, dynamic)):
                side.agreeing += 1
            continue
        node = (entry.nodes + entry.anchors or [None])[0]
        side.mismatches.append(Mismatch("differs", name, group.type_name(), expected, dynamic,
                                        entry.span or _site(group.members, graph), node,
                                        group.members))

    # Layers named differently by the static analysis and the framework (e.g. Keras's
    # automatic names after the file built other layers first): pair the leftovers in
    # order when their counts agree.
    for entry in list(phantoms):
        expected = static_as_dynamic(framework, entry.counts)
        for layer in unseen:
            if compared(framework, layer["counts"]) == compared(framework, expected):
                side.renamed[entry.name] = layer["name"]
                group = Group(layer["name"], entry, [layer], add(framework, None, layer["counts"]))
                side.groups[layer["name"]] = group
                unseen.remove(layer)
                phantoms.remove(entry)
                side.weighted += 1
                side.agreeing += 1
                break
    # Weights the static analysis could not give a layer name (a custom Keras layer's
    # add_weight is attributed to ""): the built layer whose class is defined where those
    # weights were found is theirs, whatever the counts.
    for entry in list(phantoms):
        span = entry.span
        if entry.nodes or span is None:
            continue
        for layer in unseen:
            where = layer.get("class_site")
            if where and where.get("path") == span.path and where.get("line") == span.line:
                side.renamed[entry.name] = layer["name"]
                dynamic = add(framework, None, layer["counts"])
                side.groups[layer["name"]] = Group(layer["name"], entry, [layer], dynamic)
                unseen.remove(layer)
                phantoms.remove(entry)
                side.weighted += 1
                expected = static_as_dynamic(framework, entry.counts)
                if compared(framework, expected) == compared(framework, dynamic):
                    side.agreeing += 1
                else:
                    side.mismatches.append(Mismatch(
                        "differs", layer["name"], layer["type"], expected, dynamic,
                        _site([layer], graph) or span, None, [layer]))
                break
    if side.renamed:
        pairs = ", ".join(f"{shown_name(a)} is `{b}`" for a, b in list(side.renamed.items())[:4])
        more = f" and {len(side.renamed) - 4} more" if len(side.renamed) > 4 else ""
        side.notes.append(f"{FRAMEWORK_LABEL[framework]}: the static analysis names some "
                          f"layers differently from the built model: {pairs}{more}")

    for layer in unseen:
        side.weighted += 1
        span = _site([layer], graph) or _ancestor_span(layer, static, parent_of) or graph.span
        side.mismatches.append(Mismatch("unseen", layer["name"], layer["type"], None,
                                        add(framework, None, layer["counts"]), span,
                                        members=[layer]))
    for entry in phantoms:
        side.mismatches.append(Mismatch("phantom", entry.name, _entry_type(entry),
                                        static_as_dynamic(framework, entry.counts), None,
                                        entry.span or graph.span,
                                        entry.nodes[0] if entry.nodes else None))
    if side.unknown:
        shown = ", ".join(shown_name(u) for u in side.unknown[:3])
        side.notes.append(f"{FRAMEWORK_LABEL[framework]}: the static analysis does not know "
                          f"the size of {shown}{' ...' if len(side.unknown) > 3 else ''}, so "
                          f"{'it was' if len(side.unknown) == 1 else 'they were'} not compared")
    side.mismatches.sort(key=lambda m: ((m.span.line, m.span.column) if m.span else (0, 0),
                                        m.name))
    return side


def shown_name(name: str) -> str:
    return f"`{name}`" if name else "(weights held directly by an unnamed layer or the model)"


def _entry_type(entry: StaticEntry) -> str:
    return entry.nodes[0].layer_type if entry.nodes else "weights"


def _site(layers: list[dict[str, Any]], graph: Graph) -> Span | None:
    """Where the first of `layers` was created, when that is in the graph's file."""
    for layer in layers:
        for site in layer.get("sites") or []:
            if site.get("path") == graph.path:
                return span_of_site(site)
    return None


def span_of_site(site: dict[str, Any]) -> Span:
    """A worker SPAN as an ir.Span (with the notebook cell fields when it has them)."""
    known = {f.name for f in dataclasses.fields(Span)}
    return Span(**{k: v for k, v in site.items() if k in known})


def _ancestor_span(layer: dict[str, Any], static: dict[str, StaticEntry],
                   parent_of: dict[str, str | None]) -> Span | None:
    parent = layer["parent"]
    while parent is not None:
        entry = static.get(parent)
        if entry is not None and entry.span is not None:
            return entry.span
        parent = parent_of.get(parent)
    return None


def across(keras: dict[str, int], torch: dict[str, int]) -> dict[str, Any]:
    """The built models' totals under the conventions (Keras trainable = torch parameters
    minus the second RNN biases; Keras non-trainable = torch running statistics)."""
    trainable = keras["trainable"] == torch["parameters"] - torch["folded_bias"]
    state = keras["non_trainable"] == torch["running_stats"]
    return {"trainable": trainable, "non_trainable": state, "reconciled": trainable and state}


def layer_rows(alignment: Alignment, keras: SideResult, torch: SideResult) -> list[dict[str, Any]]:
    """One entry per aligned row with the built counts of its layers. A layer's counts
    appear at its first row only (a shared layer applied twice, Keras SeparableConv2D's
    two nodes); null where the row has no built layer (activations split from
    `activation=`, functional calls, repeated rows)."""
    rows = []
    shown: dict[str, set[str]] = {ir.KERAS: set(), ir.TORCH: set()}

    def counts(side: SideResult, node: Node | None) -> tuple[str | None, dict | None]:
        if node is None:
            return None, None
        if node.functional or node.fused_into is not None or node.name in shown[side.framework]:
            return node.name, None
        shown[side.framework].add(node.name)
        return node.name, side.dynamic_of(node.name)

    for row in alignment.rows:
        k_name, k_counts = counts(keras, row.keras)
        t_name, t_counts = counts(torch, row.torch)
        rows.append({"keras": k_name, "torch": t_name, "status": row.status,
                     "keras_counts": k_counts, "torch_counts": t_counts})
    return rows
