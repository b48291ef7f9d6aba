"""One parsed source file (`SourceFile`: text, libcst module, notebook cells) and the
spans of its nodes, computed lazily (`LazySpan`)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from .ir import Span


@dataclass
class SourceFile:
    path: str  # as given by the user, for messages
    text: str
    module: Any  # libcst.Module
    cells: Any = None  # notebook.CellMap for a Jupyter notebook
    digest: str = ""  # SHA-1 of the bytes read (the result cache's key)
    _positions: Any = field(default=None, repr=False)
    # Parsed from some lines of `text` only (pruning.py): the number in `text` of each
    # line of `module`.
    line_map: list[int] | None = field(default=None, repr=False)
    # Facts derived from the text once and reused by every model extracted from the file.
    memo: dict[str, Any] = field(default_factory=dict, repr=False)

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

    def lazy_span(self, node: Any) -> Span | None:
        """The span of `node`, computed only when read (see `LazySpan`). A node that
        is not part of this module (the parsed `::MODEL(ARGS)` text) reads as 1:1."""
        if node is None:
            return None
        if self._positions is not None:
            return self.span(node)
        return LazySpan(resolve=lambda: self.span(node))

    def span(self, node: Any) -> Span | None:
        if node is None:
            return None
        if self._positions is None:
            import sys

            # libcst resolves positions with a recursive visitor, ~6 frames per level of
            # nesting: a 150-deep literal (CPython accepts 200) needs more than the
            # default limit. Python-to-Python calls do not use the C stack in 3.11+.
            limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(limit, 20_000))
            try:
                self._positions = _positions(self.module)
            except RecursionError:
                self._positions = {}
            finally:
                sys.setrecursionlimit(limit)
        pos = self._positions.get(id(node))
        if pos is None:
            return None
        line, end_line = pos[0], pos[2]
        if self.line_map is not None:
            line, end_line = self._file_line(line), self._file_line(end_line)
        span = Span(self.path, line, pos[1] + 1, end_line, pos[3] + 1)
        if self.cells is None:
            return span
        cell, line = self.cells.locate(span.line)
        end_cell, end_line = self.cells.locate(span.end_line)
        return dataclasses.replace(span, cell=cell, cell_line=line,
                                   cell_end_line=end_line if end_cell == cell else line)


    def _file_line(self, line: int) -> int:
        numbers = self.line_map
        if 0 < line <= len(numbers):
            return numbers[line - 1]
        return numbers[-1] + line - len(numbers) if numbers else line  # past the end


def _positions(module: Any) -> Any:
    """Every node's position (libcst's PositionProvider's, computed by positions.py):
    node id -> (start line, start column, end line, end column)."""
    from .positions import node_positions

    return node_positions(module)


class LazySpan(Span):
    """A `Span` whose position is computed when it is first read.

    Resolving positions runs libcst's code generator over the whole module, which costs
    about as much as parsing it, and the front end records a span for every layer and
    call although only the few that end up in a finding are ever read. Pickling gives a
    plain `Span` (results cross process boundaries and go into the cache resolved)."""

    def __init__(self, *args: Any, resolve: Any = None, **kwargs: Any) -> None:
        if resolve is None:
            Span.__init__(self, *args, **kwargs)
        else:
            object.__setattr__(self, "_resolve", resolve)

    def __getattribute__(self, name: str) -> Any:
        if name in _SPAN_FIELDS:
            state = object.__getattribute__(self, "__dict__")
            if "_resolve" in state:
                span = state.pop("_resolve")() or Span("", 1, 1, 1, 1)
                for field_name in _SPAN_FIELDS:
                    object.__setattr__(self, field_name, getattr(span, field_name))
        return object.__getattribute__(self, name)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Span):
            return NotImplemented
        return _fields_of(self) == _fields_of(other)

    def __hash__(self) -> int:
        return hash(_fields_of(self))

    def __reduce__(self) -> tuple:
        return (Span, _fields_of(self))


_SPAN_FIELDS = tuple(f.name for f in dataclasses.fields(Span))


def _fields_of(span: Span) -> tuple:
    return tuple(getattr(span, name) for name in _SPAN_FIELDS)
