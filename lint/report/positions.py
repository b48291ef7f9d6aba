"""Positions and paths for the machine-read formats.

portlint's own positions (`Span`) are 1-based lines and 1-based columns counted in Unicode
code points, which is what libcst reports (text, concise, json and github use them as
they are). Two formats count columns differently and are converted here, from the line's
text:

- SARIF: `run.columnKind = "utf16CodeUnits"` (SARIF 2.1.0 §3.14.27): a character outside
  the Basic Multilingual Plane (an emoji) takes two columns.
- reviewdog rdjson: "Column number, starting at 1 (byte count in UTF-8)" (reviewdog
  `proto/rdf/reviewdog.proto`, message `Position`): `é` takes two columns, an emoji four.

Lines are split the way Python's tokenizer (and so libcst) splits them: at `\\r\\n`, `\\r`
and `\\n` only, never at form feeds or Unicode line separators (`str.splitlines` would).
The text is the one the spans were computed on (`source.read_source`: an editor's unsaved
text, a notebook's joined code cells), else the file on disk. A file that cannot be read
leaves columns unconverted rather than failing the report.

Notebooks: a span in a `.ipynb` counts lines of the joined code cells, which are not lines
of the notebook's JSON file that CI tools and code hosts show. The machine-read formats
therefore locate such a finding at the file only and name the cell in the message
(`cell_label`); concise and text print `nb.ipynb:cell 3:2:5`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from ..ir import Span

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """The lines of `text` as Python numbers them (line N is item N-1)."""
    return _LINE_BREAK.split(text)


def utf16_column(line: str, column: int) -> int:
    """The 1-based UTF-16 code-unit column of the 1-based code-point `column` of `line`.
    Columns past the end of the line (an end position after the last character) count one
    unit per missing character."""
    prefix = line[: max(column - 1, 0)]
    beyond = max(column - 1 - len(line), 0)
    return 1 + len(prefix) + sum(1 for ch in prefix if ord(ch) > 0xFFFF) + beyond


def utf8_column(line: str, column: int) -> int:
    """The 1-based UTF-8 byte column of the 1-based code-point `column` of `line`."""
    prefix = line[: max(column - 1, 0)]
    beyond = max(column - 1 - len(line), 0)
    return 1 + len(prefix.encode("utf-8", errors="surrogatepass")) + beyond


class SourceLines:
    """The lines of the files one report points into, each file read once per report
    (not cached across reports: a language server renders the same path many times)."""

    def __init__(self) -> None:
        self._files: dict[str, list[str] | None] = {}

    def lines(self, path: str) -> list[str] | None:
        if path not in self._files:
            text = _analysed_text(path)
            self._files[path] = None if text is None else split_lines(text)
        return self._files[path]

    def line(self, path: str, number: int) -> str | None:
        lines = self.lines(path)
        if lines is None or not 0 < number <= len(lines):
            return None
        return lines[number - 1]

    def utf16(self, path: str, line: int, column: int) -> int:
        text = self.line(path, line)
        return column if text is None else utf16_column(text, column)

    def utf8(self, path: str, line: int, column: int) -> int:
        text = self.line(path, line)
        return column if text is None else utf8_column(text, column)


def _analysed_text(path: str) -> str | None:
    from ..errors import InputError
    from ..source import read_source

    try:  # cached after the analysis; honours editor overlays and notebooks
        return read_source(path).text
    except (InputError, OSError):  # never fail a report: fall back, or leave columns as they are
        text = None
    if path.endswith(".ipynb"):
        return text  # the JSON's lines are not the lines the spans count
    from ..source import decode_source, require_regular_file

    try:
        require_regular_file(path)
        return decode_source(Path(path).read_bytes(), path)[0]
    except (OSError, InputError):
        return None


def in_cell(span: Span) -> bool:
    """Whether `span` lies in a notebook, where its lines are not the file's lines."""
    return getattr(span, "cell", None) is not None or span.path.endswith(".ipynb")


def cell_label(span: Span) -> str:
    """`cell 3, line 2, column 5`: a notebook position in words."""
    cell = getattr(span, "cell", None)
    line = getattr(span, "cell_line", None) or span.line
    return f"cell {cell}, line {line}, column {span.column}" if cell is not None else \
        f"line {span.line}, column {span.column} of the joined code cells"


def relative_path(path: str, base: str | None = None) -> str | None:
    """`path` relative to `base` (default: the current directory) with `/` separators, or
    None when it lies outside `base` (another drive, or only reachable through `..`)."""
    base = base or os.getcwd()
    try:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(base))
    except ValueError:  # another drive on Windows
        return None
    rel = rel.replace(os.sep, "/")
    if rel == ".." or rel.startswith("../"):
        return None
    return rel


def display_path(path: str, base: str | None = None) -> str:
    """The path to print for CI tools: relative to `base` (the current directory, which
    is the repository root in a CI job) when inside it, else absolute."""
    rel = relative_path(path, base)
    return rel if rel is not None else os.path.abspath(path).replace(os.sep, "/")


def relative_uri(path: str) -> str:
    """A relative path as a URI reference (RFC 3986): percent-encoded, `/` kept."""
    return quote(str(PurePosixPath(path)), safe="/", errors="surrogateescape")


def file_uri(path: str, directory: bool = False) -> str:
    """An absolute `file://` URI; a directory's ends with `/` (SARIF §3.14.14 requires it
    for `originalUriBaseIds`)."""
    uri = Path(os.path.abspath(path)).as_uri()
    return uri + "/" if directory and not uri.endswith("/") else uri
