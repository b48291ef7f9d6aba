"""`--format sarif`: SARIF 2.1.0 (OASIS), for GitHub code scanning and SARIF viewers.

One run. `tool.driver` names portlint with its version and carries every rule of the
catalogue as a `reportingDescriptor`: `id` = code, `name` = kebab name, `shortDescription`
= summary, `fullDescription` = the "What it flags" part of the rule's documentation
(GitHub keeps 1024 characters), `help` = the whole documentation (text and Markdown),
`helpUri`, `defaultConfiguration.level`. Severities map error -> error, warning -> warning,
info -> note.

Each finding is a `result` with `ruleId`/`ruleIndex`, `level`, `message.text`, one location,
the partner file's location(s) as `relatedLocations` (linked from the message, SARIF
§3.11.6, which is how GitHub shows them), its fix as `fixes` (`artifactChanges` with
`replacements`) and `partialFingerprints`.

Locations: URIs are relative to the current directory with `uriBaseId` `%SRCROOT%`, which
`originalUriBaseIds` resolves (an absolute `file:` URI for a file outside it). Regions are
1-based; columns count UTF-16 code units, declared in `run.columnKind` (§3.14.27) and
converted from portlint's character columns using the line's text on disk.

A finding in a notebook is located at the file without a region (its lines count the
joined code cells, not the .ipynb file's lines) and names its cell in the message.

Fingerprints survive unrelated edits: a hash of the rule code, the relative path, the
message with numbers blanked, and the stripped text of the finding's first line, never the
line number. It is given as `portlintFingerprint/v1` and as `primaryLocationLineHash`
(with GitHub's `:N` occurrence suffix), the key GitHub's code scanning reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import __version__
from . import PROJECT_URL, rule_catalogue, rule_url
from .positions import (
    SourceLines,
    cell_label,
    file_uri,
    in_cell,
    relative_path,
    relative_uri,
)

if TYPE_CHECKING:
    from ..compare import PairResult
    from ..findings import Finding, Fix
    from ..ir import Span
    from ..rule import Rule

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
LEVEL = {"error": "error", "warning": "warning", "info": "note"}
FULL_DESCRIPTION_LIMIT = 1024  # GitHub code scanning keeps this many characters
FINGERPRINT = "portlintFingerprint/v1"


# --------------------------------------------------------------------------- rules


def _section(doc: str, title: str) -> str:
    """The body of the `## title` section of a rule's Markdown documentation."""
    match = re.search(rf"^##\s+{re.escape(title)}\s*$(.*?)(?=^##\s|\Z)", doc, re.MULTILINE | re.DOTALL)
    return match.group(1).strip() if match else ""


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    cut = cut[: cut.rfind(" ")] if " " in cut else cut
    return cut.rstrip() + "…"


def descriptor(rule: type[Rule]) -> dict[str, Any]:
    doc = (rule.doc or "").strip()
    summary = rule.summary.rstrip(".")
    flags = _section(doc, "What it flags") or summary
    full = _clip(" ".join(flags.split()), FULL_DESCRIPTION_LIMIT)
    help_text = f"{rule.name} ({rule.code}): {summary}.\n\n{doc}" if doc else f"{summary}."
    help_markdown = f"**{rule.name}** ({rule.code}): {summary}.\n\n{doc}" if doc else f"{summary}."
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": f"{summary}."},
        "fullDescription": {"text": full, "markdown": _clip(flags, FULL_DESCRIPTION_LIMIT)},
        "help": {"text": help_text, "markdown": help_markdown},
        "helpUri": rule_url(rule.code),
        "defaultConfiguration": {"level": LEVEL.get(rule.severity, "warning")},
    }


def _unknown_descriptor(finding: Finding) -> dict[str, Any]:
    """A finding from a rule outside the catalogue (a plug-in, a future command) still
    gets a descriptor, so every result's `ruleIndex` is valid."""
    text = f"{finding.rule} ({finding.code})"
    return {"id": finding.code, "name": finding.rule,
            "shortDescription": {"text": text}, "fullDescription": {"text": text},
            "help": {"text": text}, "helpUri": rule_url(finding.code),
            "defaultConfiguration": {"level": LEVEL.get(finding.severity, "warning")}}


# --------------------------------------------------------------------------- locations


class _Locator:
    def __init__(self, base: str) -> None:
        self.base = base
        self.lines = SourceLines()

    def artifact(self, path: str) -> dict[str, Any]:
        rel = relative_path(path, self.base)
        if rel is None:
            return {"uri": file_uri(path)}
        return {"uri": relative_uri(rel), "uriBaseId": SRCROOT}

    def region(self, span: Span) -> dict[str, int]:
        return {"startLine": span.line,
                "startColumn": self.lines.utf16(span.path, span.line, span.column),
                "endLine": span.end_line,
                "endColumn": self.lines.utf16(span.path, span.end_line, span.end_column)}

    def physical(self, span: Span) -> dict[str, Any]:
        if in_cell(span):  # notebook lines are not the .ipynb file's lines: the file only
            return {"artifactLocation": self.artifact(span.path)}
        return {"artifactLocation": self.artifact(span.path), "region": self.region(span)}


def _link_text(text: str) -> str:
    """Link text of an embedded link: `\\`, `[` and `]` escaped (SARIF §3.11.6)."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def fingerprint(finding: Finding, base: str, lines: SourceLines) -> str:
    loc = finding.location
    path = line_text = ""
    if loc is not None:
        path = relative_path(loc.path, base) or os.path.abspath(loc.path)
        line_text = " ".join((lines.line(loc.path, loc.line) or "").split())
    message = " ".join(re.sub(r"\d+", "0", finding.message).split())
    key = f"{finding.code}\0{path}\0{message}\0{line_text}"
    return hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()


def _fix(fix: Fix, locator: _Locator) -> dict[str, Any]:
    by_path: dict[str, list[dict[str, Any]]] = {}
    for edit in fix.edits:
        by_path.setdefault(edit.span.path, []).append(
            {"deletedRegion": locator.region(edit.span), "insertedContent": {"text": edit.content}})
    title = fix.title or "apply the suggested edit"
    return {"description": {"text": f"{title} ({fix.applicability} fix)"},
            "artifactChanges": [{"artifactLocation": locator.artifact(path), "replacements": edits}
                                for path, edits in by_path.items()]}


def result(finding: Finding, rule_index: int, locator: _Locator,
           occurrences: dict[str, int]) -> dict[str, Any]:
    text = finding.message
    if finding.location is not None and in_cell(finding.location):
        text = f"{cell_label(finding.location)}: {text}"
    related = []
    for number, rel in enumerate(finding.related, 1):
        label = f"{rel.message} ({cell_label(rel.span)})" if in_cell(rel.span) else rel.message
        related.append({"id": number, "physicalLocation": locator.physical(rel.span),
                        "message": {"text": label}})
    if related:
        links = "; ".join(f"[{_link_text(r['message']['text'])}]({r['id']})" for r in related)
        text = f"{text} ({links})"
    out: dict[str, Any] = {"ruleId": finding.code, "ruleIndex": rule_index,
                           "level": LEVEL.get(finding.severity, "warning"),
                           "message": {"text": text}}
    if finding.location is not None:
        out["locations"] = [{"physicalLocation": locator.physical(finding.location)}]
    if related:
        out["relatedLocations"] = related
    digest = fingerprint(finding, locator.base, locator.lines)
    occurrences[digest] = occurrences.get(digest, 0) + 1
    out["partialFingerprints"] = {FINGERPRINT: digest,
                                  "primaryLocationLineHash": f"{digest[:16]}:{occurrences[digest]}"}
    fix = finding.fix
    if fix is not None and fix.edits and not any(in_cell(e.span) for e in fix.edits):
        out["fixes"] = [_fix(fix, locator)]
    return out


# --------------------------------------------------------------------------- document


def document(findings: Sequence[Finding], base: str | None = None) -> dict[str, Any]:
    base = base or os.getcwd()
    descriptors = [descriptor(rule) for rule in rule_catalogue()]
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    for finding in findings:
        if finding.code not in index:
            index[finding.code] = len(descriptors)
            descriptors.append(_unknown_descriptor(finding))
    locator = _Locator(base)
    occurrences: dict[str, int] = {}
    results = [result(f, index[f.code], locator, occurrences) for f in findings]
    root = file_uri(base, directory=True)
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "portlint", "version": __version__,
                            "semanticVersion": __version__, "informationUri": PROJECT_URL,
                            "rules": descriptors}},
        "invocations": [{"executionSuccessful": True, "workingDirectory": {"uri": root}}],
        "originalUriBaseIds": {SRCROOT: {"uri": root}},
        "columnKind": "utf16CodeUnits",
        "results": results,
    }
    return {"version": "2.1.0", "$schema": SCHEMA_URI, "runs": [run]}


def render(findings: Sequence[Finding], pairs: Sequence[PairResult]) -> str:
    return json.dumps(document(findings), indent=2) + "\n"
