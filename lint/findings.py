"""Findings: what rules report, in one shape for every output format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .ir import Span

SEVERITIES = ("info", "warning", "error")
FAILING = frozenset({"warning", "error"})  # severities that make the exit code 1


@dataclass(frozen=True)
class Edit:
    span: Span  # the range to replace; an insertion has an empty range
    content: str

    def to_json(self) -> dict[str, Any]:
        return {**self.span.to_json(), "content": self.content}


@dataclass(frozen=True)
class Fix:
    applicability: str  # "safe" | "unsafe"
    edits: tuple[Edit, ...]
    title: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"applicability": self.applicability,
                "edits": [e.to_json() for e in self.edits]}


@dataclass(frozen=True)
class Related:
    span: Span
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.span.path, "line": self.span.line, "column": self.span.column,
                "message": self.message}


@dataclass
class Finding:
    code: str
    rule: str
    severity: str
    message: str
    location: Span | None
    related: list[Related] = field(default_factory=list)
    fix: Fix | None = None

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.path if loc else "", loc.line if loc else 0, loc.column if loc else 0,
                self.code, self.message)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "location": self.location.to_json() if self.location else None,
            "related": [r.to_json() for r in self.related],
            "fix": self.fix.to_json() if self.fix else None,
        }
