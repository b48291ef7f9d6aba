"""`--format github`: GitHub Actions workflow commands, one annotation per finding.

    ::error file=models/port.py,line=16,col=13,endLine=16,endColumn=44,title=PTL101 batchnorm-momentum-mismatch::BatchNorm2d momentum=0.1 ...

Severity error -> `::error`, warning -> `::warning`, info -> `::notice`; errors first, then
warnings, then notices, each in the report's order. Escaping follows the runner
(actions/toolkit `command.ts`): message data `%` -> `%25`, CR -> `%0D`, LF -> `%0A`;
property values additionally `:` -> `%3A` and `,` -> `%2C`, so no finding text can end a
property or start another workflow command; other control characters and the legacy
`##[` command prefix are shown as visible escapes (`lint/escape.py`).

GitHub shows at most 10 annotations of each level per step (and 50 per job) and drops the
rest silently. So at most 10 errors and 10 warnings are emitted, notices too (9 when a
summary is needed, since the summary is itself a notice), and one final notice counts what
was left out. The last line is the plain summary (`Found 3 errors, ...`) for the log.

Paths are relative to the current directory (run portlint from the repository root) and
columns are characters, as in the text format; GitHub accepts `col`/`endColumn` only on a
single line, so a multi-line location carries lines only. A finding in a notebook names
its cell in the message and is attached to the file only (its lines count the joined code
cells, not the lines of the .ipynb file GitHub shows).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..escape import github_data, github_property
from . import summary_line
from .positions import cell_label, display_path, in_cell

if TYPE_CHECKING:
    from ..compare import PairResult
    from ..findings import Finding
    from ..ir import Span

LEVELS = {"error": "error", "warning": "warning", "info": "notice"}
ORDER = ("error", "warning", "notice")
MAX_PER_LEVEL = 10  # per step, per level (actions/toolkit docs/problem-matchers.md)
NOUNS = {"error": ("error", "errors"), "warning": ("warning", "warnings"),
         "notice": ("notice", "notices")}


def command(name: str, properties: dict[str, object], message: str) -> str:
    props = ",".join(f"{key}={github_property(str(value))}" for key, value in properties.items()
                     if value is not None)
    return f"::{name}{' ' + props if props else ''}::{github_data(message)}"


def _where(span: Span) -> str:
    if in_cell(span):
        return f"{display_path(span.path)}:cell {span.cell}:{span.cell_line}:{span.column}"
    return f"{display_path(span.path)}:{span.line}:{span.column}"


def annotation(finding: Finding) -> str:
    level = LEVELS.get(finding.severity, "notice")
    props: dict[str, object] = {}
    loc = finding.location
    message = finding.message
    if loc is not None:
        props["file"] = display_path(loc.path)
        if in_cell(loc):  # notebook lines are not lines of the .ipynb file: name the cell
            message = f"{cell_label(loc)}: {message}"
        else:
            props["line"] = loc.line
            if loc.end_line == loc.line:
                props["col"] = loc.column
            props["endLine"] = loc.end_line
            if loc.end_line == loc.line:
                props["endColumn"] = loc.end_column
    props["title"] = f"{finding.code} {finding.rule}"
    lines = [message]
    for related in finding.related:
        lines.append(f"{related.message} at {_where(related.span)}")
    if finding.fix is not None:
        lines.append(f"fix ({finding.fix.applicability}): {finding.fix.title or 'available'}"
                     f" (portlint --fix{' --unsafe-fixes' if finding.fix.applicability == 'unsafe' else ''})")
    return command(level, props, "\n".join(lines))


def _plural(count: int, level: str) -> str:
    one, many = NOUNS[level]
    return f"{count} more {one if count == 1 else many}"


def overflow_message(hidden: dict[str, int], total: int) -> str:
    parts = [_plural(hidden[level], level) for level in ORDER if hidden.get(level)]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return (f"portlint: {listed} not shown as annotations (GitHub shows at most "
            f"{MAX_PER_LEVEL} per level in a step); run portlint locally or use "
            f"--format sarif to see all {total} findings")


def render(findings: Sequence[Finding], pairs: Sequence[PairResult]) -> str:
    by_level: dict[str, list[Finding]] = {level: [] for level in ORDER}
    for finding in findings:
        by_level[LEVELS.get(finding.severity, "notice")].append(finding)
    shown = {level: by_level[level][:MAX_PER_LEVEL] for level in ORDER}
    hidden = {level: len(by_level[level]) - len(shown[level]) for level in ORDER}
    if any(hidden.values()):  # the summary is a notice too: keep room for it
        shown["notice"] = by_level["notice"][:MAX_PER_LEVEL - 1]
        hidden["notice"] = len(by_level["notice"]) - len(shown["notice"])
    out = [annotation(f) for level in ORDER for f in shown[level]]
    if any(hidden.values()):
        out.append(command("notice", {"title": "portlint: more findings"},
                           overflow_message(hidden, len(findings))))
    out.append(summary_line(findings))
    return "\n".join(out) + "\n"
