"""Renderers: each turns the same findings and pairs into one output format.

`renderer(name)(findings, pairs)` is the one entry point every command uses, so a format
added here is available to `compare`, `check` and `verify` alike. The formats:

| name | for | module |
| --- | --- | --- |
| `text` | people: findings with source lines, the aligned layer table, totals | `text.py` |
| `concise` | people and grep: one `path:line:col: CODE message` line per finding | `concise.py` |
| `json` | scripts: the `portlint/1` contract of SPEC.md | `json.py` |
| `sarif` | GitHub code scanning and SARIF viewers (SARIF 2.1.0) | `sarif.py` |
| `github` | GitHub Actions logs: workflow-command annotations | `github.py` |
| `rdjson` | reviewdog (Reviewdog Diagnostic Format, `DiagnosticResult`) | `rdjson.py` |

Only `text` and `json` read `pairs`; the others describe findings only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..compare import PairResult
    from ..findings import Finding
    from ..rule import Rule

Renderer = Callable[["Sequence[Finding]", "Sequence[PairResult]"], str]

FORMATS = ("text", "concise", "json", "sarif", "github", "rdjson")

# Where the project and its rule documentation live. URLs in SARIF (`informationUri`,
# `helpUri`) and rdjson (`source.url`, `code.url`) are built from these two lines only.
PROJECT_URL = "https://github.com/portlint/portlint"
RULES_URL = f"{PROJECT_URL}/blob/main/README.md"


def rule_url(code: str) -> str:
    """The documentation URL of one rule: the README's rule table, anchored by code."""
    return f"{RULES_URL}#{code.lower()}"


def renderer(name: str) -> Renderer:
    if name not in FORMATS:
        raise KeyError(f"unknown format {name!r}; expected one of {', '.join(FORMATS)}")
    module = import_module(f"{__name__}.{name}")
    return module.render


def summary_line(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No findings."
    counts = Counter(f.severity for f in findings)
    parts = [f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}"
             for s in ("error", "warning", "info") if counts[s]]
    return "Found " + ", ".join(parts) + "."


def rule_catalogue() -> list[type[Rule]]:
    """Every rule portlint knows, by code (the registry's), for the formats that describe
    rules as well as findings."""
    from ..rules.registry import all_rules

    return list(all_rules())
