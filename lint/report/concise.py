"""`--format concise`: one line per finding, Ruff's concise style, then the summary.

    examples/seed/torch_model.py:16:13: PTL101 [*] BatchNorm2d momentum=0.1 (default) ...

`path:line:col` is the finding's location as the text format prints it (the path as given,
1-based line, 1-based column in characters; `nb.ipynb:cell 3:2:5` in a notebook), so
editors and terminals can jump to it.
`[*]` marks a finding with a safe fix (`--fix` applies it). A message never spans lines.
No layer table: `--format text` has it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..escape import line_start, terminal
from . import summary_line
from .colour import paint
from .positions import in_cell

if TYPE_CHECKING:
    from ..compare import PairResult
    from ..findings import Finding


def _fixable(finding: Finding) -> bool:
    """A safe fix `--fix` applies (never in a notebook: fixes are not written there)."""
    fix, loc = finding.fix, finding.location
    return (fix is not None and fix.applicability == "safe" and loc is not None
            and not in_cell(loc))


def render_line(finding: Finding) -> str:
    loc = finding.location
    where = line_start(loc.shown) if loc else "<unknown>"
    mark = f" {paint('fixable', '[*]')}" if _fixable(finding) else ""
    message = terminal(" ".join(finding.message.split()))
    return f"{paint('path', where)}: {paint('code', finding.code)}{mark} {message}"


def render(findings: Sequence[Finding], pairs: Sequence[PairResult]) -> str:
    out = [render_line(f) for f in findings]
    out.append(summary_line(findings))
    fixable = sum(1 for f in findings if _fixable(f))
    if fixable:
        out.append(f"[*] {fixable} fixable with --fix")
    return "\n".join(out) + "\n"
