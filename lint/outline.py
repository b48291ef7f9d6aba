"""A file's outline: for each module-level definition, the names it uses and the dotted
names it calls. Choosing a file's model needs only these syntactic facts, for every
class and function of the file, so they come from one pass over the stdlib `ast` tree,
which Python parses and walks about ten times faster than libcst's `children` (names
are the same in both trees). Nothing is executed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

Chain = tuple[str, ...]  # `keras.Model` is ("keras", "Model")


@dataclass
class Definition:
    names: set[str] = field(default_factory=set)  # names and attribute names used
    calls: list[Chain] = field(default_factory=list)  # functions only, in source order


def outline(text: str | ast.Module) -> dict[str, Definition] | None:
    """Definitions by the name they bind: classes, functions and assignments at module
    level, also inside module-level if/try/with (several definitions of one name are
    merged). `text` may be given parsed (the parse of a file makes its outline from the
    stdlib tree it has anyway). None if this Python's `ast` rejects the text (syntax
    newer than this Python's); callers then scan libcst nodes with `mentions` and
    `calls_in`."""
    if isinstance(text, ast.Module):
        tree = text
    else:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    out: dict[str, Definition] = {}
    try:
        _block(tree.body, out)
    except RecursionError:  # absurdly nested code: no outline rather than a crash
        return None
    return out


def _block(body: list[ast.stmt], out: dict[str, Definition]) -> None:
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            _scan(stmt, out.setdefault(stmt.name, Definition()),
                  with_calls=not isinstance(stmt, ast.ClassDef))
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    _scan(stmt, out.setdefault(target.id, Definition()), with_calls=False)
        elif isinstance(stmt, (ast.If, ast.Try, ast.With)):
            _block(stmt.body, out)
            _block(getattr(stmt, "orelse", []), out)
            _block(getattr(stmt, "finalbody", []), out)
            for handler in getattr(stmt, "handlers", []):
                _block(handler.body, out)


def _scan(root: ast.AST, into: Definition, with_calls: bool) -> None:
    calls: list[tuple[int, int, Chain]] = []
    stack = [root]
    while stack:  # faster than ast.walk, which is a generator over iter_child_nodes
        node = stack.pop()
        if isinstance(node, ast.Name):
            into.names.add(node.id)
        elif isinstance(node, ast.Attribute):
            into.names.add(node.attr)
        elif with_calls and isinstance(node, ast.Call):
            chain = _ast_chain(node.func)
            if chain:
                calls.append((node.lineno, node.col_offset, chain))
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                stack.extend(v for v in value if isinstance(v, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append(value)
    into.calls.extend(chain for *_, chain in sorted(calls))


def _ast_chain(expr: ast.expr) -> Chain:
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return ()
    parts.append(expr.id)
    return tuple(reversed(parts))


# --- the same facts from libcst nodes (definitions the outline does not hold) ----------


def mentions(node: Any) -> set[str]:
    """Every name and attribute name used inside a libcst node."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        kind = type(current).__name__
        if kind == "Name":
            found.add(current.value)
        elif kind == "Attribute":
            found.add(current.attr.value)
        stack.extend(current.children)
    return found


def calls_in(node: Any) -> list[Chain]:
    """The dotted names called inside a libcst node, in source order."""
    out = []
    stack = [node]
    while stack:
        current = stack.pop()
        if type(current).__name__ == "Call":
            chain = _cst_chain(current.func)
            if chain:
                out.append(chain)
        stack.extend(reversed(current.children))
    return out


def _cst_chain(expr: Any) -> Chain:
    parts: list[str] = []
    while type(expr).__name__ == "Attribute":
        parts.append(expr.attr.value)
        expr = expr.value
    if type(expr).__name__ != "Name":
        return ()
    parts.append(expr.value)
    return tuple(reversed(parts))
