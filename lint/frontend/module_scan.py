"""Facts about a module's top level read with the stdlib `ast` (nothing is run): what a
package `__init__` re-exports, and which names a module may bind."""

from __future__ import annotations

import ast
import os

from ..source import current_digest, note_read


# Facts about a module's top level, from the stdlib `ast` (nothing is run), cached per
# file version: (mtime_ns, size) -> (what it re-exports, the names it may bind).
_SCANNED: dict[str, tuple[tuple[int, int], dict[str, tuple[str, int, str]], frozenset[str] | None]] = {}


def scanned(path: str) -> tuple[dict[str, tuple[str, int, str]], frozenset[str] | None] | None:
    """`_imported_from` and `_bound_names` of the module at `path`; None when it cannot
    be read or parsed."""
    try:
        stat = os.stat(path)
        version = (stat.st_mtime_ns, stat.st_size)
        cached = _SCANNED.get(path)
        if cached is None or cached[0] != version:
            with open(path, "rb") as handle:
                body = ast.parse(handle.read()).body
            _SCANNED[path] = cached = (version, _imported_from(body), _bound_names(body))
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return cached[1], cached[2]


def reexports(init_path: str) -> dict[str, tuple[str, int, str]]:
    """What a package's `__init__.py` imports from its modules, by the name it binds:
    (module, level, name in that module)."""
    facts = scanned(init_path)
    return facts[0] if facts is not None else {}


def _imported_from(body: list[ast.stmt]) -> dict[str, tuple[str, int, str]]:
    """The `from X import Y` statements of a module body (also inside if/try, such as
    transformers' `if TYPE_CHECKING:` blocks), by the name each binds."""
    found: dict[str, tuple[str, int, str]] = {}
    stack = list(body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, ast.ImportFrom) and stmt.module is not None:
            for alias in stmt.names:
                if alias.name != "*":
                    found.setdefault(alias.asname or alias.name,
                                     (stmt.module, stmt.level, alias.name))
        elif isinstance(stmt, (ast.If, ast.Try)):
            stack += stmt.body + stmt.orelse + getattr(stmt, "finalbody", [])
            for handler in getattr(stmt, "handlers", []):
                stack += handler.body
    return found


def may_bind(path: str, name: str) -> bool:
    """Whether the module at `path` may bind `name` at its top level (a def, class,
    assignment or import of it, or a star import of its own). Noted as read (the result
    cache)."""
    facts = scanned(path)
    if facts is None:
        return True  # let the import report what is wrong
    digest = current_digest(path)
    if digest is not None:
        note_read(path, digest)
    return facts[1] is None or name in facts[1]


def _bound_names(body: list[ast.stmt]) -> frozenset[str] | None:
    """Names a module body binds at top level (also inside if/try/with); None when it
    star-imports (it may bind anything)."""
    names: set[str] = set()
    stack = list(body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(stmt, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            targets = [stmt.target] if isinstance(stmt, ast.For) else [
                item.optional_vars for item in getattr(stmt, "items", []) if item.optional_vars]
            names.update(node.id for target in targets for node in ast.walk(target)
                         if isinstance(node, ast.Name))
            stack += stmt.body + getattr(stmt, "orelse", []) + getattr(stmt, "finalbody", [])
            for handler in getattr(stmt, "handlers", []):
                stack += handler.body
        else:  # assignments, augmented and annotated ones, loop targets, walrus
            for node in ast.walk(stmt):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
    return frozenset(names)
