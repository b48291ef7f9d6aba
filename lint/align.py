"""Pairs the layers of a Keras graph with the layers of a torch graph.

Each graph is linearised in its evaluation order (a topological order) and the two
sequences are aligned by dynamic programming (Needleman-Wunsch): equal ops pair at no
cost, compatible ops (Flatten vs view) at a small cost, and a layer left without partner
costs a gap that depends on how cheap that layer is to lose (layout-only ops least).
A pass afterwards recognises the same activation on both sides of a normalization in a
different order, so that rules see "reordered" instead of one missing and one extra.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .ir import Graph, Node
from .knowledge.ops import NORMALIZATIONS, Op

MATCH = "match"
KERAS_ONLY = "keras_only"
TORCH_ONLY = "torch_only"
REORDERED = "reordered"
MOVED = "moved"  # one layer on each side, the same op, in a different place (a pair)

# How many paired layers a moved layer may cross (BatchNorm after instead of before a
# pool crosses one): a layer further away is missing on one side, not moved.
MAX_CROSSED = 2

GAP_COST = {Op.ACTIVATION: 1.0, Op.DROPOUT: 0.8, Op.FLATTEN: 0.6, Op.RESHAPE: 0.6,
            Op.PERMUTE: 0.4, Op.IDENTITY: 0.2, Op.PAD: 0.5, Op.OPAQUE: 1.0, Op.INDEX: 0.3,
            Op.RNN_STATE: 0.3, Op.TRANSPOSE: 0.4}
DEFAULT_GAP = 2.0
# Different ops that may implement the same step (symmetric).
COMPATIBLE = {
    frozenset({Op.FLATTEN, Op.RESHAPE}): 0.3,
    # Keras DepthwiseConv2D vs torch Conv2d(groups=C); x.mean((2, 3)) vs global pooling
    frozenset({Op.DEPTHWISE_CONV, Op.CONV}): 0.2,
    frozenset({Op.REDUCE, Op.GLOBAL_POOL}): 0.3,
    frozenset({Op.GLOBAL_POOL, Op.ADAPTIVE_POOL}): 0.3,
    frozenset({Op.POOL, Op.ADAPTIVE_POOL}): 0.8,
    frozenset({Op.LAYER_NORM, Op.RMS_NORM}): 0.5,
}


@dataclass
class Row:
    keras: Node | None
    torch: Node | None
    status: str
    # MOVED rows: the paired layers the moved one crosses, (Keras, torch) each.
    crossed: tuple[tuple[Node, Node], ...] = ()

    def side(self, framework: str) -> Node | None:
        return self.keras if framework == "keras" else self.torch

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status,
                "keras": self.keras.id if self.keras else None,
                "torch": self.torch.id if self.torch else None}


@dataclass
class Alignment:
    keras: Graph
    torch: Graph
    rows: list[Row] = field(default_factory=list)

    def graph(self, framework: str) -> Graph:
        return self.keras if framework == "keras" else self.torch

    def pairs(self) -> list[tuple[Node, Node]]:
        """(Keras node, torch node) of every row with both sides."""
        return [(r.keras, r.torch) for r in self.rows if r.keras is not None and r.torch is not None]

    def row_of(self, node: Node) -> Row | None:
        for row in self.rows:
            if row.keras is node or row.torch is node:
                return row
        return None


def _gap(node: Node) -> float:
    return GAP_COST.get(node.op, DEFAULT_GAP)


def _substitution(a: Node, b: Node) -> float | None:
    if a.op == b.op:
        if a.op == Op.ACTIVATION and a.attrs.get("kind") != b.attrs.get("kind"):
            return 1.2  # cheaper than losing both, dearer than a clean pair
        return 0.0
    return COMPATIBLE.get(frozenset({a.op, b.op}))


def _substitutions(a: list[Node], b: list[Node]) -> Any:
    """`row(i)`: the substitution costs of a[i] against every node of b, as
    `_substitution` gives them. They depend on the op only, and for activations on the
    kind: the row is computed once per op (and kind) of a."""
    def key(node: Node) -> Any:
        kind = node.attrs.get("kind") if node.op == Op.ACTIVATION else None
        try:
            hash(kind)
        except TypeError:
            return None  # not cached
        return (node.op, kind)

    rows: dict[Any, list[float | None]] = {}

    def row(i: int) -> list[float | None]:
        node, key_a = a[i], key(a[i])
        if key_a is not None and key_a in rows:
            return rows[key_a]
        out = [_substitution(node, other) for other in b]
        if key_a is not None:
            rows[key_a] = out
        return out

    return row


def linearise(graph: Graph) -> list[Node]:
    """A canonical topological order: at a fork, the longer branch first.

    Code order is not canonical: a Keras residual block often computes its shortcut
    before the main path, torchvision's Bottleneck after it. Emitting, among the steps
    that are ready, the one with the longest path still ahead (Kahn's algorithm with that
    priority) gives both the same order: main path, then shortcut, then the merge.
    """
    import heapq

    consumers: dict[int, list[int]] = {n.id: [] for n in graph.nodes}
    for node in graph.nodes:
        for source in node.inputs:
            consumers[source].append(node.id)
    height: dict[int, int] = {}
    for node in reversed(graph.nodes):  # nodes are in a topological order already
        height[node.id] = 1 + max((height[c] for c in consumers[node.id]), default=0)
    waiting = {n.id: len(set(n.inputs)) for n in graph.nodes}
    ready = [(-height[n.id], n.id) for n in graph.nodes if waiting[n.id] == 0]
    heapq.heapify(ready)
    order: list[Node] = []
    while ready:
        _, node_id = heapq.heappop(ready)
        order.append(graph.nodes[node_id])
        for consumer in dict.fromkeys(consumers[node_id]):
            waiting[consumer] -= 1
            if waiting[consumer] == 0:
                heapq.heappush(ready, (-height[consumer], consumer))
    return [n for n in order if n.op != Op.INPUT]


# The full table has (n+1)(m+1) cells at ~1.5 µs and ~40 bytes each: 20,000-layer models
# (a loop of Linear layers, a few lines of code) took minutes and gigabytes (5,000 layers
# per side: 213 s, 4.8 GB). Beyond MAX_CELLS, only a band of cells around the diagonal is
# computed (`_align_banded`); below, the alignment is the full one, unchanged.
MAX_CELLS = 1_000_000


def align(keras: Graph, torch: Graph) -> Alignment:
    a, b = linearise(keras), linearise(torch)
    n, m = len(a), len(b)
    if (n + 1) * (m + 1) > MAX_CELLS:
        rows = _align_banded(a, b)
        _mark_reordered(rows)
        return Alignment(keras, torch, _pair_moved(rows))
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    move = [[""] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    # The table's inner loop runs (n+1)(m+1) times (120,000 cells for BERT's 345 steps
    # a side): costs are looked up per row, not computed per cell.
    gap_b = [_gap(node) for node in b]
    substitution = _substitutions(a, b)
    for i in range(n + 1):
        row, moves = cost[i], move[i]
        last = i == n
        if not last:
            below, below_moves, gap_a = cost[i + 1], move[i + 1], _gap(a[i])
            subs = substitution(i)
        for j in range(m + 1):
            here = row[j]
            if here == inf:
                continue
            # Relax forward: diagonal first so that ties prefer pairing.
            if not last:
                if j < m:
                    sub = subs[j]
                    if sub is not None and here + sub < below[j + 1]:
                        below[j + 1] = here + sub
                        below_moves[j + 1] = "D"
                if here + gap_a < below[j]:
                    below[j] = here + gap_a
                    below_moves[j] = "K"
            if j < m and here + gap_b[j] < row[j + 1]:
                row[j + 1] = here + gap_b[j]
                moves[j + 1] = "T"
    rows = _trace_back(a, b, lambda i, j: move[i][j])
    _mark_reordered(rows)
    return Alignment(keras, torch, _pair_moved(rows))


def _align_banded(a: list[Node], b: list[Node]) -> list[Row]:
    """The alignment of `align` restricted to the cells within `width` of the line from
    (0, 0) to (n, m): MAX_CELLS cells whatever the sizes. Ports that differ by fewer
    than `width` inserted or dropped layers get the same pairs as the full table."""
    n, m = len(a), len(b)
    inf = float("inf")
    # Consecutive rows' bands must overlap for a path to exist: width > m / n.
    width = max(MAX_CELLS // (2 * (n + 1)), -(-m // max(n, 1)) + 1)
    lo = [max(0, i * m // max(n, 1) - width) for i in range(n + 1)]
    hi = [min(m, i * m // max(n, 1) + width) for i in range(n + 1)]
    lo[0], hi[n] = 0, m
    cost = [[inf] * (hi[i] - lo[i] + 1) for i in range(n + 1)]
    move = [[""] * (hi[i] - lo[i] + 1) for i in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(n + 1):
        row, start = cost[i], lo[i]
        below, below_start, below_end = ((cost[i + 1], lo[i + 1], hi[i + 1]) if i < n
                                         else (None, 0, -1))
        for j in range(lo[i], hi[i] + 1):
            here = row[j - start]
            if here == inf:
                continue
            if i < n and j < m and below_start <= j + 1 <= below_end:
                sub = _substitution(a[i], b[j])
                if sub is not None and here + sub < below[j + 1 - below_start]:
                    below[j + 1 - below_start] = here + sub
                    move[i + 1][j + 1 - below_start] = "D"
            if (i < n and below_start <= j <= below_end
                    and here + _gap(a[i]) < below[j - below_start]):
                below[j - below_start] = here + _gap(a[i])
                move[i + 1][j - below_start] = "K"
            if j < hi[i] and here + _gap(b[j]) < row[j + 1 - start]:
                row[j + 1 - start] = here + _gap(b[j])
                move[i][j + 1 - start] = "T"
    return _trace_back(a, b, lambda i, j: move[i][j - lo[i]])


def _trace_back(a: list[Node], b: list[Node], step_at: Any) -> list[Row]:
    """The rows of the best path, read back from (n, m) by the move at each cell
    (`step_at(i, j)`: "D" both, "K" Keras only, "T" torch only)."""
    rows: list[Row] = []
    i, j = len(a), len(b)
    while i or j:
        step = step_at(i, j)
        if step == "D":
            rows.append(Row(a[i - 1], b[j - 1], MATCH))
            i, j = i - 1, j - 1
        elif step == "K":
            rows.append(Row(a[i - 1], None, KERAS_ONLY))
            i -= 1
        else:
            rows.append(Row(None, b[j - 1], TORCH_ONLY))
            j -= 1
    rows.reverse()
    return rows


def _mark_reordered(rows: list[Row]) -> None:
    """An activation alone on one side, normalization pairs, then the same activation
    alone on the other side: the same two layers in a different order."""
    for start, row in enumerate(rows):
        if row.status not in (KERAS_ONLY, TORCH_ONLY):
            continue
        node = row.keras or row.torch
        if node.op != Op.ACTIVATION:
            continue
        other_status = TORCH_ONLY if row.status == KERAS_ONLY else KERAS_ONLY
        k = start + 1
        crossed = False
        while k < len(rows) and rows[k].status == MATCH and rows[k].keras.op in NORMALIZATIONS:
            crossed = True
            k += 1
        if not crossed or k >= len(rows) or rows[k].status != other_status:
            continue
        partner = rows[k].keras or rows[k].torch
        if partner.op == Op.ACTIVATION and partner.attrs.get("kind") == node.attrs.get("kind"):
            row.status = REORDERED
            rows[k].status = REORDERED


def _movable(node: Node) -> bool:
    """A layer whose place can move while it still pairs: not an activation (those have
    their own reordering above), a layout step or a step not followed."""
    return node.op not in (Op.ACTIVATION, Op.OPAQUE, Op.INPUT, Op.IDENTITY, Op.FLATTEN,
                           Op.RESHAPE, Op.PERMUTE, Op.TRANSPOSE, Op.INDEX, Op.PAD)


def _pair_moved(rows: list[Row]) -> list[Row]:
    """A layer alone on one side, at most MAX_CROSSED pairs, then a layer of the same op
    alone on the other side (BatchNorm before a pool in Keras, after it in the port): one
    pair in a different place, so that its settings are still compared."""
    out: list[Row] = []
    skip: set[int] = set()
    for start, row in enumerate(rows):
        if start in skip:
            continue
        single = row.keras or row.torch
        if row.status in (KERAS_ONLY, TORCH_ONLY) and _movable(single):
            other = TORCH_ONLY if row.status == KERAS_ONLY else KERAS_ONLY
            crossed: list[Row] = []
            k = start + 1
            while k < len(rows) and rows[k].status == MATCH and len(crossed) < MAX_CROSSED:
                crossed.append(rows[k])
                k += 1
            partner = rows[k] if crossed and k < len(rows) else None
            if (partner is not None and partner.status == other
                    and (partner.keras or partner.torch).op == single.op):
                keras, torch = (row.keras, partner.torch) if row.keras else (partner.keras, row.torch)
                out.extend(crossed)
                out.append(Row(keras, torch, MOVED, tuple((r.keras, r.torch) for r in crossed)))
                skip.update(range(start + 1, k + 1))
                continue
        out.append(row)
    return out
