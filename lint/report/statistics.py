"""`--statistics`: how many findings of each rule, Ruff's table instead of the findings.

    3	PTL101	[*] bn-momentum-mismatch
    1	PTL404	    linear-in-features-mismatch

Sorted by count (most first), then code; `[*]` when at least one of them has a safe fix.
`--format json` gives the same as a JSON array of `{"code", "name", "count", "fixable"}`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import summary_line
from .colour import paint

if TYPE_CHECKING:
    from ..findings import Finding


def rows(findings: Sequence[Finding]) -> list[dict]:
    table: dict[str, dict] = {}
    for finding in findings:
        row = table.setdefault(finding.code, {"code": finding.code, "name": finding.rule,
                                              "count": 0, "fixable": False})
        row["count"] += 1
        fix = finding.fix
        row["fixable"] = row["fixable"] or (fix is not None and fix.applicability == "safe")
    return sorted(table.values(), key=lambda row: (-row["count"], row["code"]))


def render_text(findings: Sequence[Finding], *, summary: bool = True) -> str:
    table = rows(findings)
    width = max((len(str(row["count"])) for row in table), default=1)
    out = [f"{row['count']:>{width}}\t{paint('code', row['code'])}\t"
           f"{paint('fixable', '[*]') if row['fixable'] else '   '} {row['name']}"
           for row in table]
    if summary:
        out.append(summary_line(findings))
    return "\n".join(out) + "\n" if out else ""


def render_json(findings: Sequence[Finding]) -> str:
    return json.dumps(rows(findings), indent=2) + "\n"
