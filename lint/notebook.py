"""Jupyter notebooks as sources: the code cells, joined into one module.

A notebook's code cells are read in order and joined with one blank line between them,
so a model defined across cells (imports in one, the class in the next) is one module
for the front end. IPython magics and shell escapes (`%matplotlib`, `!pip install`,
`%%time` cells) are not Python: each such line becomes a comment, so line numbers stay
put. Locations are reported per cell: `CellMap` turns a line of the joined text back
into (cell number, line in that cell); cells are numbered from 1 counting every cell,
as editors show them.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass


@dataclass(frozen=True)
class CellMap:
    starts: tuple[int, ...]  # first line (1-based) of each code cell in the joined text
    numbers: tuple[int, ...]  # the cell's number in the notebook (1-based, all cells)

    def locate(self, line: int) -> tuple[int, int]:
        """(cell number, line within the cell) of a line of the joined text."""
        index = max(bisect_right(self.starts, line) - 1, 0)
        return self.numbers[index], line - self.starts[index] + 1


class NotebookError(ValueError):
    pass


def read_notebook(text: str) -> tuple[str, CellMap]:
    """The code of a notebook (nbformat 4) and where each cell starts in it."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"not a notebook: invalid JSON at line {exc.lineno}") from None
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise NotebookError("not a notebook: no `cells` list (nbformat 4 expected)")
    parts: list[str] = []
    starts: list[int] = []
    numbers: list[int] = []
    line = 1
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        code = _without_magics(source)
        starts.append(line)
        numbers.append(number)
        parts.append(code)
        line += code.count("\n") + 2  # the cell's lines plus the blank separator
    joined = "\n\n".join(parts)
    return (joined + "\n" if joined else ""), CellMap(tuple(starts) or (1,), tuple(numbers) or (1,))


def _without_magics(source: str) -> str:
    lines = source.split("\n")
    if lines and lines[0].startswith("%%"):  # a cell magic: the whole cell is not Python
        return "\n".join(f"# {line}" for line in lines)
    return "\n".join(f"# {line}" if line.lstrip().startswith(("%", "!")) else line
                     for line in lines)
