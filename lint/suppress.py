"""Suppression comments, and the report of the ones that suppress nothing (PTL902).

A finding is suppressed by a comment on the line where it is located (the first line of
its location):

- `# portlint: ignore[rule-name, PTL101]`: rule names or codes, comma-separated;
  `# portlint: ignore` alone suppresses every finding on the line;
- `# noqa: PTL101` (codes, comma- or space-separated, like flake8 and Ruff; codes of other
  tools in the same comment are left to them); a plain `# noqa` suppresses every finding.

Comments are found with `tokenize`, so a `#` inside a string is not a comment. Several
directives may share one comment (`# noqa: E501  # portlint: ignore[PTL201]`).

With `--report-unused-suppressions` a directive that suppressed nothing is a finding
(`unused-suppression`, PTL902), with a safe fix removing it. Only what portlint can judge
is reported: a code or name whose rule ran on the file and found nothing on that line, an
unknown rule, or a bare `# portlint: ignore` with nothing to suppress. A plain `# noqa` and
other tools' codes are never reported (they may be there for Ruff or flake8).
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import tokenize
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .findings import Edit, Finding, Fix
from .ir import Span
from .rules.suppression import UnusedSuppression  # the rule these reports are of

_NOQA = re.compile(r"#\s*noqa(?::\s?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?",
                   re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
_IGNORE = re.compile(r"#\s*portlint\s*:\s*ignore(?![\w-])(?:\s*\[(?P<rules>[^\]]*)\])?")
PORTLINT_CODE = re.compile(r"PTL[0-9]+\Z")


@dataclass(frozen=True)
class Directive:
    """One suppression directive in a comment. Columns are 1-based, `end_column` exclusive."""

    path: str
    line: int
    column: int  # where the directive's `#` is
    end_column: int
    kind: str  # "noqa" | "portlint"
    selectors: tuple[str, ...] | None  # None: every finding on the line
    line_text: str
    comment_column: int  # where the comment starts (its first `#`)
    cells: Any = None  # a notebook's CellMap: lines count its joined code cells

    @property
    def span(self) -> Span:
        span = Span(self.path, self.line, self.column, self.line, self.end_column)
        if self.cells is None:
            return span
        cell, line = self.cells.locate(self.line)
        return dataclasses.replace(span, cell=cell, cell_line=line, cell_end_line=line)

    @property
    def own(self) -> tuple[str, ...]:
        """The selectors that are portlint's to judge (a noqa's PTL codes)."""
        if self.selectors is None:
            return ()
        if self.kind == "noqa":
            return tuple(s for s in self.selectors if PORTLINT_CODE.match(s.upper()))
        return self.selectors

    def covers(self, finding: Finding, selector: str | None = None) -> bool:
        if self.selectors is None and selector is None:
            return True
        wanted = self.own if selector is None else (selector,)
        return any(s == finding.rule or s.upper() == finding.code for s in wanted)

    @property
    def text(self) -> str:
        return self.line_text[self.column - 1:self.end_column - 1]


def comments(text: str) -> list[tuple[int, int, str]]:
    """(line, 0-based column, text) of every real comment; a `#` in a string is not one.
    Lines are counted like libcst counts them (`\\n`, `\\r\\n` and `\\r` end a line)."""
    out: list[tuple[int, int, str]] = []
    stream = io.StringIO(text, newline=None)
    try:
        for token in tokenize.generate_tokens(stream.readline):
            if token.type == tokenize.COMMENT:
                out.append((token.start[0], token.start[1], token.string))
    except (tokenize.TokenError, SyntaxError):  # what tokenized before the error counts
        pass
    return out


def parse_directives(path: str, text: str) -> list[Directive]:
    lines = text.splitlines()
    out: list[Directive] = []
    for line, column, comment in comments(text):
        line_text = lines[line - 1] if 0 < line <= len(lines) else comment
        for match in _NOQA.finditer(comment):
            codes = match.group("codes")
            selectors = tuple(_CODE.findall(codes)) if codes else None
            out.append(Directive(path, line, column + match.start() + 1, column + match.end() + 1,
                                 "noqa", selectors, line_text, column + 1))
        for match in _IGNORE.finditer(comment):
            rules = match.group("rules")
            selectors = None if rules is None else tuple(
                s.strip() for s in re.split(r"[,\s]+", rules) if s.strip())
            out.append(Directive(path, line, column + match.start() + 1, column + match.end() + 1,
                                 "portlint", selectors, line_text, column + 1))
    return out


def _real(path: str) -> str:
    return os.path.realpath(path)


def read_directives(path: str) -> list[Directive]:
    """The directives of a file as portlint reads it (an editor's unsaved text in the
    language server; a notebook's joined code cells, where its findings' lines count);
    none when it cannot be read or parsed."""
    from .errors import InputError
    from .source import read_source, scan_source

    try:
        if path.endswith(".ipynb"):
            source = read_source(path)
            text, cells = source.text, source.cells
        else:  # the text is enough (a file compared for one model was not parsed whole)
            text, cells = scan_source(path)[0], None
    except InputError:
        return []
    if "noqa" not in text.lower() and "portlint" not in text:
        return []
    found = parse_directives(path, text)
    if cells is not None:
        found = [dataclasses.replace(d, cells=cells) for d in found]
    return found


@dataclass
class Outcome:
    kept: list[Finding]
    suppressed: list[Finding]
    unused: list[Finding]  # PTL902 findings (only when asked for)


def apply_suppressions(findings: Sequence[Finding], *,
                       coverage: Mapping[str, Iterable[str]] | None = None,
                       report_unused: bool = False) -> Outcome:
    """Drop the findings a directive on their line suppresses. With `report_unused`,
    also report the directives that suppressed nothing, in the files of `coverage` (path
    -> codes of the rules that ran on that file)."""
    coverage = coverage or {}
    by_file: dict[str, list[Directive]] = {}
    shown: dict[str, str] = {}  # real path -> the path findings use
    for path in [*(f.location.path for f in findings if f.location), *coverage]:
        real = _real(path)
        if real not in by_file:
            by_file[real] = read_directives(path)
            shown[real] = path
    index: dict[tuple[str, int], list[Directive]] = {}
    for real, found in by_file.items():
        for d in found:
            index.setdefault((real, d.line), []).append(d)

    used: dict[int, set[str | None]] = {}  # id(directive) -> selectors that matched
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    for finding in findings:
        loc = finding.location
        hits = index.get((_real(loc.path), loc.line), []) if loc else []
        hit = False
        for d in hits:
            if d.selectors is None:
                used.setdefault(id(d), set()).add(None)
                hit = True
                continue
            for s in d.own:
                if d.covers(finding, s):
                    used.setdefault(id(d), set()).add(s)
                    hit = True
        (suppressed if hit else kept).append(finding)

    unused: list[Finding] = []
    if report_unused:
        ran = {_real(p): frozenset(codes) for p, codes in coverage.items()}
        for real, found in by_file.items():
            if real not in ran:
                continue
            for d in found:
                finding = _unused(d, used.get(id(d), set()), ran[real], shown[real])
                if finding is not None:
                    unused.append(finding)
    return Outcome(kept, suppressed, unused)


def _unused(d: Directive, used: set[str | None], ran: frozenset[str],
            path: str) -> Finding | None:
    from .rules.registry import all_rules, rule_for

    if d.selectors is None:
        if d.kind == "noqa" or used or not ran:
            return None  # a plain noqa may be for another tool
        unused, unknown = ["(all)"], []
    else:
        names = {r.name: r.code for r in all_rules()}
        unused, unknown = [], []
        if any(s.upper() == UnusedSuppression.code or s == UnusedSuppression.name
               for s in d.own):
            return None  # the directive silences this very report
        for s in d.own:
            if s in used:
                continue
            code = names.get(s, s.upper())
            if rule_for(code) is None:
                unknown.append(s)
            elif code in ran:
                unused.append(s)
        if not unused and not unknown:
            return None
    parts = []
    if unused and unused != ["(all)"]:
        parts.append(f"unused: {', '.join(unused)}")
    if unknown:
        parts.append(f"unknown: {', '.join(unknown)}")
    what = f"`{d.text}`"
    message = (f"{what} suppresses nothing on this line" if unused == ["(all)"]
               else f"unused suppression {what} ({'; '.join(parts)})")
    span = dataclasses.replace(d.span, path=path)
    fix = None if d.cells is not None else _removal(d, {*unused, *unknown}, path)
    return Finding(code=UnusedSuppression.code, rule=UnusedSuppression.name,
                   severity=UnusedSuppression.severity, message=message, location=span, fix=fix)


def _removal(d: Directive, drop: set[str], path: str) -> Fix | None:
    """A safe fix: the directive without `drop`, or without the directive at all."""
    keep = [s for s in (d.selectors or ()) if s not in drop]
    if d.selectors is not None and keep:
        text = (f"# noqa: {', '.join(keep)}" if d.kind == "noqa"
                else f"# portlint: ignore[{', '.join(keep)}]")
        return Fix("safe", (Edit(Span(path, d.line, d.column, d.line, d.end_column), text),),
                   title=f"remove {', '.join(sorted(drop))} from the suppression")
    line = d.line_text
    rest = line[d.end_column - 1:]
    if rest.strip() and not rest.lstrip().startswith("#"):
        return None  # text follows in the same comment: removing the `#` would make it code
    start, end = d.column, d.end_column
    if rest.strip():  # another comment follows: drop the directive and the space after it
        end += len(rest) - len(rest.lstrip())
        if d.column > d.comment_column:  # keep one space before the next `#`
            start = len(line[:d.column - 1].rstrip()) + 1
            end = d.end_column
    else:
        start = len(line[:d.column - 1].rstrip()) + 1  # and the spaces before it
        end = len(line) + 1
        if start == 1:  # the comment is the whole line: remove the line
            span = Span(path, d.line, 1, d.line + 1, 1)
            return Fix("safe", (Edit(span, ""),), title="remove the unused suppression")
    return Fix("safe", (Edit(Span(path, d.line, start, d.line, end), ""),),
               title="remove the unused suppression")
