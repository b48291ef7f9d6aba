"""Reading and parsing one source file, once.

A `SourceFile` owns the text and the libcst module of one path. Positions are computed
lazily, only when something asks for a node's span.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .ir import Span

MAX_BYTES = 20 * 1024 * 1024
MAX_CACHED = 1024


@dataclass
class SourceFile:
    path: str  # as given by the user, for messages
    text: str
    module: Any  # libcst.Module
    cells: Any = None  # notebook.CellMap for a Jupyter notebook
    _positions: Any = field(default=None, repr=False)

    @property
    def is_notebook(self) -> bool:
        return self.cells is not None

    @property
    def lines(self) -> list[str]:
        # Lines as libcst and editors count them: str.splitlines would also split at
        # form feeds and other separators Python source treats as ordinary characters.
        return re.split(r"\r\n|\r|\n", self.text)

    def line(self, number: int) -> str:
        lines = self.lines
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def span(self, node: Any) -> Span | None:
        if node is None:
            return None
        if self._positions is None:
            import libcst as cst
            from libcst.metadata import PositionProvider

            wrapper = cst.MetadataWrapper(self.module, unsafe_skip_copy=True)
            self._positions = wrapper.resolve(PositionProvider)
        pos = self._positions.get(node)
        if pos is None:
            return None
        span = Span(self.path, pos.start.line, pos.start.column + 1,
                    pos.end.line, pos.end.column + 1)
        if self.cells is None:
            return span
        cell, line = self.cells.locate(span.line)
        end_cell, end_line = self.cells.locate(span.end_line)
        return dataclasses.replace(span, cell=cell, cell_line=line,
                                   cell_end_line=end_line if end_cell == cell else line)


_PARSED: dict[tuple[str, int, int], SourceFile] = {}  # (path, mtime_ns, size) -> parsed file


_OVERLAYS: dict[str, str] = {}  # real path -> unsaved editor text (the language server)
_OVERLAY_PARSED: dict[tuple[str, int], SourceFile] = {}


def set_overlay(path: str, text: str | None) -> None:
    """Read `path` as `text` instead of its content on disk (None: the disk again)."""
    real = os.path.realpath(path)
    if text is None:
        _OVERLAYS.pop(real, None)
    else:
        _OVERLAYS[real] = text
    for key in [k for k in _OVERLAY_PARSED if k[0] == real]:
        del _OVERLAY_PARSED[key]


def forget(path: str) -> None:
    """Drop `path` from the cache (after portlint itself rewrote it: a same-size edit
    within the file system's timestamp granularity would otherwise read as unchanged)."""
    real = os.path.realpath(path)
    for key in [k for k in _PARSED if os.path.realpath(k[0]) == real]:
        del _PARSED[key]


def read_source(path: str) -> SourceFile:
    """Read and parse `path`, once per version of the file; every failure becomes an
    `InputError` with one line."""
    if _OVERLAYS:
        real = os.path.realpath(path)
        if real in _OVERLAYS:
            text = _OVERLAYS[real]
            key = (real, hash(text))
            if key not in _OVERLAY_PARSED:
                for stale in [k for k in _OVERLAY_PARSED if k[0] == real]:
                    del _OVERLAY_PARSED[stale]  # one version per open document
                _OVERLAY_PARSED[key] = _parse_decoded(path, text)
            return _OVERLAY_PARSED[key]
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such file")
    if p.is_file():
        stat = p.stat()
        key = (path, stat.st_mtime_ns, stat.st_size)
        if key not in _PARSED:
            if len(_PARSED) >= MAX_CACHED:
                del _PARSED[next(iter(_PARSED))]  # the oldest
            _PARSED[key] = _read_and_parse(p, path)
        return _PARSED[key]
    return _read_and_parse(p, path)


def _read_and_parse(p: Path, path: str) -> SourceFile:
    if p.is_dir():
        raise InputError(f"{path}: is a directory, expected a Python file")
    data = p.read_bytes()
    if len(data) > MAX_BYTES:
        raise InputError(f"{path}: file too large ({len(data)} bytes)")
    if b"\x00" in data:
        raise InputError(f"{path}: binary file (contains NUL bytes), expected Python source")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return _parse_decoded(path, text)


def _parse_decoded(path: str, text: str) -> SourceFile:
    if path.endswith(".ipynb"):
        from .notebook import NotebookError, read_notebook

        try:
            code, cells = read_notebook(text)
        except NotebookError as exc:
            raise InputError(f"{path}: {exc}") from None
        source = parse_text(path, code, cells)
        return source
    return parse_text(path, text)


def parse_text(path: str, text: str, cells: Any = None) -> SourceFile:
    import libcst as cst

    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        message = _syntax_error_message(path, text, exc)
        line = _syntax_error_line(text, exc)
        if cells is not None and line is not None:  # say which cell: `nb.ipynb:cell 3:2: ...`
            cell, in_cell = cells.locate(line)
            message = message.replace(f"{path}:{line}:", f"{path}:cell {cell}:{in_cell}:", 1)
        raise InputError(message) from None
    except RecursionError:
        raise InputError(f"{path}: expression nesting too deep to parse") from None
    return SourceFile(path=path, text=text, module=module, cells=cells)


def _syntax_error_line(text: str, exc: Exception) -> int | None:
    import ast

    try:
        ast.parse(text)
    except SyntaxError as err:
        return err.lineno
    except (ValueError, RecursionError, MemoryError):
        pass
    line = getattr(exc, "raw_line", None)
    return line if isinstance(line, int) else None


def _syntax_error_message(path: str, text: str, exc: Exception) -> str:
    """One line, at the place Python itself reports (libcst's line is often the next
    token's). `ast.parse` only parses; nothing is executed."""
    import ast

    try:
        ast.parse(text, filename=path)
    except SyntaxError as err:
        column = f":{err.offset}" if err.offset else ""
        return f"{path}:{err.lineno}{column}: syntax error: {err.msg}"
    except (ValueError, RecursionError, MemoryError):
        pass
    first = str(getattr(exc, "message", exc)).splitlines()[0]
    return f"{path}:{getattr(exc, 'raw_line', '?')}: syntax error: {first}"
