"""The framework-neutral model IR.

A model is a graph of `Node`s in canonical conventions: one `op` vocabulary for both
frameworks, canonical attribute names (for batch norm `new_stat_weight`, the weight of the
new batch statistic, instead of either framework's `momentum`), and per-sample shapes
tagged with their data layout. Everything here is plain data, so that it can be printed
as JSON and cached; rules read only this module's types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .knowledge.ops import Op

KERAS = "keras"
TORCH = "torch"

class _Unknown:
    """An attribute value the front end could not compute (reported as unresolved)."""

    def __repr__(self) -> str:
        return "?"

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


def is_known(value: Any) -> bool:
    if value is UNKNOWN:
        return False
    if isinstance(value, (tuple, list)):
        return all(is_known(v) for v in value)
    return True


CHANNELS_LAST = "channels_last"
CHANNELS_FIRST = "channels_first"
FLAT = "flat"


@dataclass(frozen=True)
class Span:
    """A 1-based source range."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    # In a notebook, `line` counts the joined code cells; these say where it is shown.
    cell: int | None = None
    cell_line: int | None = None
    cell_end_line: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }
        if self.cell is not None:
            out.update(cell=self.cell, cell_line=self.cell_line, cell_end_line=self.cell_end_line)
        return out

    @property
    def shown(self) -> str:
        """`path:line:column`, or `path:cell 3:line:column` in a notebook."""
        if self.cell is not None:
            return f"{self.path}:cell {self.cell}:{self.cell_line}:{self.column}"
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Counts:
    """Weights of one layer in both conventions.

    `trainable` are trained weights (Keras trainable weights, torch parameters);
    `state` are running statistics: Keras counts them as non-trainable weights, torch
    keeps them as buffers. `torch_extra_buffers` are buffers with no Keras counterpart
    (`num_batches_tracked`). `folded_bias` are torch parameters that Keras folds into
    another one: the second bias `bias_hh` of nn.LSTM/nn.RNN, which Keras sums into its
    single bias (reference §10), so they are a convention, not a difference.
    """

    trainable: int = 0
    state: int = 0
    torch_extra_buffers: int = 0
    folded_bias: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.trainable + other.trainable,
            self.state + other.state,
            self.torch_extra_buffers + other.torch_extra_buffers,
            self.folded_bias + other.folded_bias,
        )

    @property
    def mapped_trainable(self) -> int:
        """Trainable weights in the Keras convention."""
        return self.trainable - self.folded_bias

    def in_convention(self, framework: str) -> dict[str, int]:
        if framework == KERAS:
            return {"trainable": self.trainable, "non_trainable": self.state}
        return {"parameters": self.trainable, "buffers": self.state + self.torch_extra_buffers}


@dataclass
class Node:
    """One operation of a model."""

    id: int
    op: str
    framework: str
    layer_type: str  # the source spelling, e.g. "Conv2D", "nn.Conv2d", "F.relu"
    name: str  # Keras layer name or torch module path ("layer1.0")
    attrs: dict[str, Any] = field(default_factory=dict)
    explicit: frozenset[str] = frozenset()  # canonical attrs the source sets explicitly
    inputs: list[int] = field(default_factory=list)
    span: Span | None = None  # where the layer is constructed
    call_span: Span | None = None  # where it is applied (torch forward, Keras call)
    arg_spans: dict[str, Span] = field(default_factory=dict)  # source param -> value span
    insert_at: Span | None = None  # where a new keyword argument goes (empty range)
    insert_prefix: str = ", "  # text before a new keyword argument there
    # None when the construction call names the framework class itself (`nn.BatchNorm2d(`,
    # an import alias); else why it does not ("`norm_layer` is a parameter"): an edit there
    # would change whatever class the code is given, so no fix is offered.
    indirect: str | None = None
    # Source params whose argument is an expression, not a literal (`eps=eps` in a helper):
    # a fix does not replace those with a number.
    computed_args: frozenset[str] = frozenset()
    fused_into: int | None = None  # for an activation split from `activation=`: its layer
    layer_key: int | None = None  # nodes sharing weights share a key; only the first counts
    functional: bool = False  # F.linear etc.: the weights belong to a module, not this call
    # Filled by shape inference:
    in_shape: tuple | None = None
    out_shape: tuple | None = None
    layout: str | None = None  # layout of the output
    in_layout: str | None = None
    counts: Counts | None = None
    normalized_features: int | None = None  # a normalization's normalized-axis size, inferred

    @property
    def where(self) -> Span | None:
        """The most useful place to point at: the construction, else the call."""
        return self.span or self.call_span

    def to_json(self) -> dict[str, Any]:
        counts = None
        if self.counts is not None:
            counts = self.counts.in_convention(self.framework)
        return {
            "id": self.id,
            "op": self.op,
            "layer_type": self.layer_type,
            "name": self.name,
            "attrs": {k: _jsonable(v) for k, v in sorted(self.attrs.items())},
            "inputs": list(self.inputs),
            "input_shape": _jsonable(self.in_shape),
            "output_shape": _jsonable(self.out_shape),
            "layout": self.layout,
            "counts": counts,
            "location": self.where.to_json() if self.where else None,
        }


@dataclass(frozen=True)
class Unresolved:
    """Code the front end could not follow."""

    reason: str
    span: Span | None


@dataclass(frozen=True)
class OwnedWeights:
    """Weights a module holds directly (nn.Parameter, register_buffer, add_weight)."""

    name: str  # the owning module's path (torch; "" is the root) or layer name (Keras)
    counts: Counts | None
    span: Span | None


@dataclass(frozen=True)
class LossCall:
    """A call in the model's file that builds or applies a loss expecting logits."""

    name: str  # its spelling: "CrossEntropyLoss", "cross_entropy", a Keras loss
    applies: str | None  # the activation a torch loss applies itself; None for Keras
    span: Span | None


@dataclass
class Graph:
    """A model: nodes in evaluation order (a topological order) plus its inputs."""

    framework: str
    path: str
    model: str  # the model's name in its file
    nodes: list[Node] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    input_shape: tuple | None = None  # declared per-sample input shape, own layout
    span: Span | None = None  # the model's definition
    unresolved: list[Unresolved] = field(default_factory=list)
    custom_init: bool = False  # the code calls torch.nn.init / sets initializers itself
    owned: list[OwnedWeights] = field(default_factory=list)
    # Filled from the source file before the rules run (portlint.source_facts):
    logits_losses: tuple[LossCall, ...] = ()

    def node(self, node_id: int) -> Node:
        return self.nodes[node_id]

    def layers(self) -> list[Node]:
        """Nodes other than inputs, in order."""
        return [n for n in self.nodes if n.op != Op.INPUT]

    def consumers(self, node_id: int) -> list[Node]:
        return [n for n in self.nodes if node_id in n.inputs]

    def total_counts(self) -> Counts:
        total = Counts()
        for counts in [n.counts for n in self.nodes] + [w.counts for w in self.owned]:
            if counts is not None:
                total = total + counts
        return total

    def probability_head(self) -> Node | None:
        """The softmax/sigmoid the model's output ends in (through dropout and identities)."""
        for index in self.outputs:
            node = self.nodes[index]
            while node.op in (Op.DROPOUT, Op.IDENTITY) and node.inputs:
                node = self.nodes[node.inputs[0]]
            if node.op == Op.ACTIVATION and node.attrs.get("kind") in ("softmax", "sigmoid"):
                return node
        return None

    def counts_known(self) -> bool:
        return (all(n.counts is not None for n in self.nodes if n.op != Op.INPUT)
                and all(w.counts is not None for w in self.owned))


def _jsonable(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if value is UNKNOWN:
        return None
    return repr(value)
