"""The rule API: a rule is a small class with its code, name, severity, documentation
and its own VALID/INVALID pair examples (which the test suite runs, Fixit-style).

Rules read an aligned pair through `PairContext` and yield `Finding`s; they never parse
or import anything. Findings about a pair are located in the port (the second model
reference given to `compare`) and name the counterpart in the original as `related`.
`FileRule`s need no partner: they read one model and its source file (`FileContext`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Iterator

from . import ir
from .align import MATCH, Alignment, Row
from .findings import Finding, Fix, Related
from .ir import Node, Span
from .knowledge.ops import Op

FRAMEWORK_LABEL = {ir.KERAS: "Keras", ir.TORCH: "PyTorch"}


@dataclass(frozen=True)
class Withheld:
    """The fix a rule would offer, withheld because editing the call would not edit only
    the framework class (`Node.indirect`): the finding says why instead."""

    reason: str  # "`norm_layer` is a parameter"
    advice: str = "change it where the layer class is chosen"

    @property
    def note(self) -> str:
        return f"no automatic fix: {self.reason}; {self.advice}"


def _with_fix(message: str, fix: Fix | Withheld | None) -> tuple[str, Fix | None]:
    if isinstance(fix, Withheld):
        return f"{message} ({fix.note})", None
    return message, fix


@dataclass(frozen=True)
class Case:
    """A Keras model and a PyTorch model (the port), as source text.

    `expect` is how many findings of the rule the pair must produce (0 for VALID cases);
    `line`, when set, is the line in the port where the first finding must be. `fixed` is
    the text of the first finding's file once the rule's fixes, safe and unsafe, are
    applied; it is set exactly when the rule offers a fix for the case.
    """

    keras: str
    torch: str
    expect: int = 1
    line: int | None = None
    message: str | None = None  # a substring the first finding's message must contain
    note: str = ""
    keras_version: int = 3
    fixed: str | None = None


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[str]
    summary: ClassVar[str]
    doc: ClassVar[str]  # Markdown: what it flags, why, examples, fix, references
    VALID: ClassVar[list[Case]] = []
    INVALID: ClassVar[list[Case]] = []

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        return ()

    # --- helpers for subclasses --------------------------------------------------------

    def finding(self, ctx: PairContext, message: str, *, at: Node | None = None,
                about: Node | None = None, related: str = "", fix: Fix | Withheld | None = None,
                severity: str | None = None, span: Span | None = None,
                prefer_call: bool = False) -> Finding:
        """A finding located at port node `at` (or, when the port lacks the layer, next
        to where it belongs), with the origin node `about` as related location."""
        location = span or ctx.locate(at, about, prefer_call)
        message, fix = _with_fix(message, fix)
        rel: list[Related] = []
        if about is not None and about.where is not None:
            label = FRAMEWORK_LABEL[about.framework]
            rel.append(Related(about.where, related or f"{label} counterpart: {describe(about)}"))
        elif about is None and at is not None:
            # The port has a layer the original lacks: point at where it would be.
            before = ctx.origin_anchor_before(at)
            label = FRAMEWORK_LABEL[ctx.origin]
            if before is not None and before.where is not None:
                rel.append(Related(before.call_span or before.where, related or f"{label} has nothing here, after "
                                                            f"{describe(before)}"))
            elif ctx.origin_graph.span is not None:
                rel.append(Related(ctx.origin_graph.span, related or f"{label} model "
                                                                     f"`{ctx.origin_graph.model}`"))
        return Finding(code=self.code, rule=self.name, severity=severity or self.severity,
                       message=message, location=location, related=rel, fix=fix)


@dataclass
class PairContext:
    alignment: Alignment
    port: str  # framework of the port
    keras_version: int = 3
    extra: dict[str, Any] = field(default_factory=dict)
    _anchors: dict[str, tuple[dict[int, Node | None], Node | None]] = field(
        default_factory=dict, repr=False, compare=False)
    _beside_opaque: set[int] | None = field(default=None, repr=False, compare=False)

    @property
    def origin(self) -> str:
        return ir.TORCH if self.port == ir.KERAS else ir.KERAS

    @property
    def rows(self) -> list[Row]:
        return self.alignment.rows

    @property
    def port_graph(self) -> ir.Graph:
        return self.alignment.graph(self.port)

    @property
    def origin_graph(self) -> ir.Graph:
        return self.alignment.graph(self.origin)

    def split(self, row: Row) -> tuple[Node | None, Node | None]:
        """(port node, origin node) of a row."""
        return row.side(self.port), row.side(self.origin)

    def beside_opaque(self, row: Row) -> bool:
        """Whether an unpaired row may be the counterpart of a step the front end could
        not follow: the run of unpaired rows it lies in holds an opaque node on the other
        side. Rules report no mismatch there (the `unresolved-construct` finding at the
        opaque step says what was not checked)."""
        if self._beside_opaque is None:
            self._beside_opaque = set()
            run: list[Row] = []
            for current in [*self.rows, None]:
                if current is not None and current.status != MATCH:
                    run.append(current)
                    continue
                opaque = {side for r in run for side in (ir.KERAS, ir.TORCH)
                          if (n := r.side(side)) is not None and n.op == Op.OPAQUE}
                for r in run:
                    mine = ir.KERAS if r.keras is not None else ir.TORCH
                    if opaque - {mine}:
                        self._beside_opaque.add(id(r))
                run = []
        return id(row) in self._beside_opaque

    def matched(self, *ops: str) -> Iterator[tuple[Node, Node, Row]]:
        for row in self.rows:
            port, origin = self.split(row)
            if port is not None and origin is not None and (not ops or port.op in ops):
                yield port, origin, row

    def locate(self, at: Node | None, about: Node | None, prefer_call: bool = False) -> Span | None:
        if at is not None:
            return (at.call_span or at.span) if prefer_call else at.where
        anchor = self.anchor_before(about) if about is not None else None
        if anchor is not None:
            return anchor.call_span or anchor.span
        return self.port_graph.span

    def anchor_before(self, origin_node: Node) -> Node | None:
        """The port layer that precedes the origin node's position: where to insert."""
        return self._preceding(origin_node, self.origin, self.port)

    def origin_anchor_before(self, port_node: Node) -> Node | None:
        """The original's layer that precedes the port node's position."""
        return self._preceding(port_node, self.port, self.origin)

    def _preceding(self, node: Node, side: str, other: str) -> Node | None:
        """The last located `other` node in a row before `node`'s row (all of them when
        `node` is in no row). Indexed once per side: a port that misses thousands of
        layers asks for thousands of anchors."""
        if side not in self._anchors:
            index: dict[int, Node | None] = {}
            last = None
            for row in self.rows:
                mine = row.side(side)
                if mine is not None:
                    index.setdefault(id(mine), last)
                candidate = row.side(other)
                if candidate is not None and candidate.where is not None:
                    last = candidate
            self._anchors[side] = (index, last)
        index, last = self._anchors[side]
        return index.get(id(node), last)


def describe(node: Node) -> str:
    if node.fused_into is not None:
        layer = node.layer_type.replace("(activation=)", "")
        return f"activation={node.attrs.get('kind')!r} of {layer} `{node.name.rsplit('.', 1)[0]}`"
    label = node.layer_type
    if node.name and node.name != node.layer_type:
        return f"{label} `{node.name}`"
    return label


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value)


def set_argument_fix(node: Node, canonical: str, canonical_value: Any,
                     applicability: str = "safe") -> Fix | Withheld | None:
    """A fix that makes `node`'s source argument for `canonical` equal `canonical_value`,
    replacing the argument when it is written and adding a keyword when it is not; withheld
    when the call does not name the framework class itself."""
    from .findings import Edit
    from .knowledge import spec_of

    spec = spec_of(node.framework, node.layer_type)
    attr = spec.attrs.get(canonical) if spec else None
    if attr is None or attr.inverse is None:
        return None
    if node.indirect is not None:
        return Withheld(node.indirect)
    text = literal(attr.inverse(canonical_value))
    param = attr.source
    if param in node.computed_args and param in node.arg_spans:
        return Withheld(f"`{param}=` is computed, not written as a literal",
                        "change it where its value is chosen")
    if param in node.arg_spans:
        edit = Edit(node.arg_spans[param], text)
    elif node.insert_at is not None:
        edit = Edit(node.insert_at, f"{node.insert_prefix}{param}={text}")
    else:
        return None
    return Fix(applicability, (edit,), title=f"set {param}={text}")


def literal(value: Any) -> str:
    if isinstance(value, float):
        return repr(round(value, 12))
    return repr(value)


@dataclass
class FileContext:
    """One model and the source file it was extracted from, for rules without a partner."""

    graph: ir.Graph
    source: Any  # portlint.source.SourceFile
    keras_version: int = 3

    @property
    def framework(self) -> str:
        return self.graph.framework


class FileRule(Rule):
    """A rule over a single file. Its Cases are pairs like every rule's (the test suite runs
    them through `compare`, which applies file rules to both files), so `line` is in
    whichever file the finding belongs to."""

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        return ()

    def check_file(self, ctx: FileContext) -> Iterable[Finding]:
        return ()

    def file_finding(self, message: str, span: Span | None, *, related: list[Related] | None = None,
                     fix: Fix | Withheld | None = None, severity: str | None = None) -> Finding:
        message, fix = _with_fix(message, fix)
        return Finding(code=self.code, rule=self.name, severity=severity or self.severity,
                       message=message, location=span, related=related or [], fix=fix)
