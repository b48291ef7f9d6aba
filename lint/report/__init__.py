"""Renderers: each turns the same findings and pairs into one output format."""

from __future__ import annotations

from collections import Counter
from typing import Callable, Sequence

from ..compare import PairResult
from ..findings import Finding

Renderer = Callable[[Sequence[Finding], Sequence[PairResult]], str]


def renderer(name: str) -> Renderer:
    from . import json, text

    return {"text": text.render, "json": json.render}[name]


FORMATS = ("text", "json")


def summary_line(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No findings."
    counts = Counter(f.severity for f in findings)
    parts = [f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}"
             for s in ("error", "warning", "info") if counts[s]]
    return "Found " + ", ".join(parts) + "."
