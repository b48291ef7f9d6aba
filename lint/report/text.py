"""`--format text`: findings with source lines, the aligned layer table, the totals."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from .. import ir
from ..align import Row
from ..escape import line_start, terminal
from ..compare import PairResult, totals
from ..findings import Finding
from ..ir import Node, Span
from ..rule import FRAMEWORK_LABEL
from . import summary_line
from .colour import paint
from .positions import split_lines


@lru_cache(maxsize=32)
def _lines(path: str) -> tuple[str, ...]:
    from ..errors import InputError
    from ..file_reads import unsaved_text
    from ..source import decode_source, read_source, require_regular_file

    unsaved = unsaved_text(path)  # stdin (`check -`), or an editor's buffer
    if unsaved is not None:
        return tuple(split_lines(unsaved))
    if path.endswith(".ipynb"):  # lines of the joined code cells, as spans count them
        try:
            return tuple(split_lines(read_source(path).text))
        except InputError:
            return ()
    try:
        require_regular_file(path)
        return tuple(split_lines(decode_source(Path(path).read_bytes(), path)[0]))
    except (OSError, InputError):
        return ()


def _source_line(span: Span, indent: str = "    ", caret: bool = True) -> list[str]:
    lines = _lines(span.path)
    if not 0 < span.line <= len(lines):
        return []
    text = lines[span.line - 1].rstrip()
    number = str(span.cell_line if span.cell_line is not None else span.line)
    out = [f"{indent}{paint('position', number)} | {terminal(text, keep_tabs=True)}"]
    if caret:
        end = span.end_column if span.end_line == span.line else len(text) + 1
        before = terminal(text[: span.column - 1], keep_tabs=True)
        raw = text[span.column - 1: end - 1]
        marked = terminal(raw, keep_tabs=True)
        width = max(1, len(marked) + (end - span.column - len(raw)))  # past the line's end too
        # Under the escaped text, tabs kept, so that the carets stay under the span.
        pad = "".join("\t" if ch == "\t" else " " for ch in before)
        out.append(f"{indent}{' ' * len(number)} | {pad}{'^' * width}")
    return out


def _where(span: Span | None) -> str:
    return terminal(span.shown) if span else "<unknown>"


def render_finding(finding: Finding) -> list[str]:
    where = line_start(finding.location.shown) if finding.location else "<unknown>"
    out = [(f"{paint('path', where)}: {paint('code', finding.code)} "
            f"{paint(finding.severity, finding.severity)} {paint('rule', f'[{finding.rule}]')} "
            f"{terminal(finding.message)}")]
    if finding.location is not None:
        out += _source_line(finding.location)
    for related in finding.related:
        out.append(f"    = {terminal(related.message)} at {_where(related.span)}")
        out += _source_line(related.span, indent="      ", caret=False)
    if finding.fix is not None:
        title = finding.fix.title or "edit"
        out.append(f"    = fix ({finding.fix.applicability}): {terminal(title)}")
    return out


def _layer_text(node: Node | None) -> str:
    if node is None:
        return "-"
    if node.op == "activation":
        return terminal(f"{node.name} {node.attrs.get('kind')}")
    return terminal(f"{node.name} {node.layer_type}")


def _shape_text(node: Node | None) -> str:
    if node is None or node.out_shape is None:
        return "?" if node is not None else ""
    dims = ["?" if d is None else str(d) for d in node.out_shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _counts(node: Node | None) -> tuple[str, str]:
    if node is None:
        return "", ""
    if node.counts is None:
        return "?", "?"
    c = node.counts.in_convention(node.framework)
    values = list(c.values())
    return f"{values[0]:,}", f"{values[1]:,}"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


def render_table(pair: PairResult) -> list[str]:
    a = pair.alignment
    left, right = a.graph(pair.origin_framework), a.graph(pair.port_framework)
    head = {ir.KERAS: ("trainable", "non-train"), ir.TORCH: ("params", "buffers")}
    out = [(f"Aligned layers: {terminal(f'{left.path}::{left.model}')} "
            f"({FRAMEWORK_LABEL[left.framework]}) <-> {terminal(f'{right.path}::{right.model}')} "
            f"({FRAMEWORK_LABEL[right.framework]})")]
    lw, sw, cw = 30, 14, 11
    lh, rh = head[left.framework], head[right.framework]
    out.append(f"  {'#':>2}  {'layer':<{lw}} {'output':<{sw}} {lh[0]:>{cw}} {lh[1]:>{cw - 2}} | "
               f"{'layer':<{lw}} {'output':<{sw}} {rh[0]:>{cw}} {rh[1]:>{cw - 2}}  status")
    for index, row in enumerate(a.rows, 1):
        l, r = row.side(left.framework), row.side(right.framework)
        lc, rc = _counts(l), _counts(r)
        out.append(f"  {index:>2}  {_clip(_layer_text(l), lw):<{lw}} {_shape_text(l):<{sw}} "
                   f"{lc[0]:>{cw}} {lc[1]:>{cw - 2}} | {_clip(_layer_text(r), lw):<{lw}} "
                   f"{_shape_text(r):<{sw}} {rc[0]:>{cw}} {rc[1]:>{cw - 2}}  {_status(row, left)}")
    out.append("")
    out += render_totals(pair)
    return out


def _status(row: Row, left: ir.Graph) -> str:
    if row.status == "match":
        return ""
    if row.status in ("reordered", "moved"):
        return row.status
    only_left = (row.status == "keras_only") == (left.framework == ir.KERAS)
    return f"only {FRAMEWORK_LABEL[left.framework] if only_left else 'the other side'}"


def render_totals(pair: PairResult) -> list[str]:
    t = totals(pair.alignment)
    out = ["Totals"]
    k, p = t["keras"], t["torch"]
    out.append(f"  Keras    total {k['total']:,} = {k['trainable']:,} trainable + "
               f"{k['non_trainable']:,} non-trainable" + (" (partial)" if k.get("partial") else ""))
    out += _missing_lines(k)
    out.append(f"  PyTorch  {p['parameters']:,} parameters + {p['buffers']:,} buffer elements "
               f"({p['running_stats']:,} running statistics + {p['num_batches_tracked']:,} "
               f"num_batches_tracked)" + (" (partial)" if p.get("partial") else ""))
    out += _missing_lines(p)
    if "reconciled" in t:
        folded = p.get("folded_bias", 0)
        same_trainable = k["trainable"] == p["parameters"] - folded
        same_state = k["non_trainable"] == p["running_stats"]
        out.append(reconciled_line(k, p, folded, same_trainable, same_state))
    return out


MISSING_SHOWN = 3  # layers named in a partial total's note; the JSON lists them all


def _missing_lines(side: dict) -> list[str]:
    """What a partial total does not count: `not counted: 2 layers: ...`."""
    missing = side.get("missing") or []
    if not missing:
        return []
    named = []
    for entry in missing[:MISSING_SHOWN]:
        where = entry.get("location")
        place = f" at {where['path']}:{where['line']}" if where else ""
        named.append(f"{entry['name']}{place} ({entry['reason']})")
    more = f"; and {len(missing) - MISSING_SHOWN} more" if len(missing) > MISSING_SHOWN else ""
    count = f"{len(missing)} layer{'s' if len(missing) != 1 else ''}"
    # layer names, paths and reasons come from the analysed source: escaped like findings
    return [f"           not counted, {count}: {terminal('; '.join(named))}{more}"]


def reconciled_line(keras: dict, torch: dict, folded: int, same_trainable: bool,
                    same_state: bool) -> str:
    """The `Reconciled:` line of a totals section (static here, built models in `verify`):
    Keras trainable vs torch parameters, non-trainable vs running statistics."""
    return (f"  Reconciled: Keras trainable {keras['trainable']:,} "
            f"{'=' if same_trainable else '!='} torch parameters {torch['parameters']:,}"
            + (f" - {folded:,} second RNN biases (bias_hh, which Keras sums into one)"
               if folded else "") + "; "
            f"Keras non-trainable {keras['non_trainable']:,} {'=' if same_state else '!='} "
            f"torch running statistics {torch['running_stats']:,}; num_batches_tracked "
            f"({torch['num_batches_tracked']:,}) has no Keras counterpart"
            + ("" if same_trainable and same_state else "  -> counts differ"))


def render(findings: Sequence[Finding], pairs: Sequence[PairResult]) -> str:
    out: list[str] = []
    for finding in findings:
        out += render_finding(finding)
        out.append("")
    for pair in pairs:
        out += render_table(pair)
        out.append("")
    out.append(summary_line(findings))
    return "\n".join(out) + "\n"
