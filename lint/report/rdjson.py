"""`--format rdjson`: the Reviewdog Diagnostic Format, one `DiagnosticResult` object.

    portlint check --format rdjson | reviewdog -f=rdjson -reporter=github-pr-review

Shape (reviewdog `proto/rdf/reviewdog.proto`; JSON field names as protojson reads them):
`{"source": {"name", "url"}, "severity", "diagnostics": [{"message", "location": {"path",
"range": {"start": {"line", "column"}, "end": {...}}}, "severity", "source", "code": {"value",
"url"}, "suggestions": [{"range", "text"}], "related_locations": [{"message", "location"}]}]}`.

Positions: lines 1-based; columns 1-based and counted in UTF-8 bytes ("Column number,
starting at 1 (byte count in UTF-8)", message `Position`); the end is exclusive, which is
also what portlint's spans mean. Columns are converted from the line's text on disk.

Each edit of a finding's fix is a suggestion (reviewdog posts them as GitHub suggested
changes); an insertion is an empty range. Unsafe fixes are suggested too: a suggestion is
only applied by a reviewer, and the diagnostic's message says which fixes are unsafe.
Paths are relative to the current directory when inside it, as reviewdog expects. A
finding in a notebook has a path but no range (its lines count the joined code cells, not
the .ipynb file's lines), names its cell in the message and carries no suggestion.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import PROJECT_URL, rule_url
from .positions import SourceLines, cell_label, display_path, in_cell

if TYPE_CHECKING:
    from ..compare import PairResult
    from ..findings import Finding
    from ..ir import Span

SEVERITY = {"error": "ERROR", "warning": "WARNING", "info": "INFO"}
RANK = {"ERROR": 3, "WARNING": 2, "INFO": 1}
SOURCE = {"name": "portlint", "url": PROJECT_URL}


def _position(lines: SourceLines, path: str, line: int, column: int) -> dict[str, int]:
    return {"line": line, "column": lines.utf8(path, line, column)}


def _range(lines: SourceLines, span: Span) -> dict[str, Any]:
    return {"start": _position(lines, span.path, span.line, span.column),
            "end": _position(lines, span.path, span.end_line, span.end_column)}


def _location(lines: SourceLines, span: Span) -> dict[str, Any]:
    if in_cell(span):  # notebook lines are not the .ipynb file's lines: the file only
        return {"path": display_path(span.path)}
    return {"path": display_path(span.path), "range": _range(lines, span)}


def diagnostic(finding: Finding, lines: SourceLines) -> dict[str, Any]:
    message = finding.message
    if finding.location is not None and in_cell(finding.location):
        message = f"{cell_label(finding.location)}: {message}"
    if finding.fix is not None and finding.fix.applicability == "unsafe":
        message += " (the suggested fix is unsafe: it changes behaviour beyond this finding)"
    out: dict[str, Any] = {"message": message}
    if finding.location is not None:
        out["location"] = _location(lines, finding.location)
    out["severity"] = SEVERITY.get(finding.severity, "INFO")
    out["source"] = dict(SOURCE)
    out["code"] = {"value": finding.code, "url": rule_url(finding.code)}
    fix = finding.fix
    if fix is not None and fix.edits and not any(in_cell(e.span) for e in fix.edits):
        out["suggestions"] = [{"range": _range(lines, edit.span), "text": edit.content}
                              for edit in fix.edits]
    if finding.related:
        out["related_locations"] = [
            {"message": f"{r.message} ({cell_label(r.span)})" if in_cell(r.span) else r.message,
             "location": _location(lines, r.span)}
            for r in finding.related]
    return out


def document(findings: Sequence[Finding]) -> dict[str, Any]:
    lines = SourceLines()
    diagnostics = [diagnostic(f, lines) for f in findings]
    severities = [d["severity"] for d in diagnostics]
    overall = max(severities, key=RANK.__getitem__) if severities else "INFO"
    return {"source": dict(SOURCE), "severity": overall, "diagnostics": diagnostics}


def render(findings: Sequence[Finding], pairs: Sequence[PairResult]) -> str:
    return json.dumps(document(findings), indent=2) + "\n"
