"""The part of a file one model needs: `compare FILE::MODEL` parses with libcst only the
top-level classes and functions that MODEL can reach, by name, from itself and from the
file's other top-level statements; the other definitions are left out.

libcst parses ~0.3 MB/s, and a Hugging Face modeling file defines the base model beside
eight or more task heads, each with its docstring decorators: `TFBertModel` reaches half
of modeling_tf_bert.py's 94 KB. Found with the stdlib parser (ten times faster) over the
names the code mentions, which over-approximates what the interpreter can reach: a class
is dropped only when no statement that runs mentions its name. The SourceFile keeps the
file's own text and maps each parsed line to the file's (`line_map`): spans, findings
and fixes read the file as it is. (The PTL802 facts, losses anywhere in the file, are
read from the whole file: source_facts.py.)
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable


_DEFINITIONS = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
# Line breaks libcst and str.splitlines count but CPython does not (form feed, ...).
_OTHER_LINE_BREAKS = re.compile("[\v\f\x1c-\x1e\x85\u2028\u2029]")


def needed_text(text: str, models: Iterable[str]) -> tuple[str, list[int]] | None:
    """`text` without the top-level definitions that `models` do not reach, and for each
    line kept its number in `text`; None when nothing would be dropped, or when a model
    is not a top-level definition (the whole file is parsed then, and its messages list
    every model)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # parse_text reports it, on the whole text
    if _OTHER_LINE_BREAKS.search(text):
        return None  # lines split here as CPython numbers them, or not at all
    definitions: dict[str, list[int]] = {}
    always: list[int] = []
    for index, stmt in enumerate(tree.body):
        if isinstance(stmt, _DEFINITIONS):
            definitions.setdefault(stmt.name, []).append(index)
        else:
            always.append(index)
    models = list(models)
    if not models or any(name not in definitions for name in models):
        return None
    lines = text.splitlines(keepends=True)
    kept = _reached(tree, definitions, always, models)
    dropped = [False] * len(lines)
    for index, stmt in enumerate(tree.body):
        if index in kept:
            continue
        first = min([stmt.lineno] + [d.lineno for d in stmt.decorator_list]) - 1
        last = stmt.end_lineno or stmt.lineno
        dropped[first:last] = [True] * (last - first)
    if not any(dropped):
        return None
    numbers = [number + 1 for number, gone in enumerate(dropped) if not gone]
    return "".join(line for line, gone in zip(lines, dropped) if not gone), numbers


def _reached(tree: ast.Module, definitions: dict[str, list[int]], always: list[int],
             models: list[str]) -> set[int]:
    """The statements that run (the non-definitions) and the definitions whose names are
    mentioned, transitively, by them and by the models."""
    kept = set(always)
    todo = list(models)
    for index in always:
        todo.extend(_mentioned(tree.body[index]))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for index in definitions.get(name, ()):
            if index not in kept:
                kept.add(index)
                todo.extend(_mentioned(tree.body[index]))
    return kept


def _mentioned(stmt: ast.AST) -> set[str]:
    return {node.id for node in ast.walk(stmt) if isinstance(node, ast.Name)}
