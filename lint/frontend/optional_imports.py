"""`try: import X ... except ImportError: ...`: whether the guarded import fails.

The interpreter never imports anything; a statement `try` decides from the module's
name (knowledge/imports.py): modules of the analysed project, the standard library, the
frameworks and their dependencies are present; any other is absent when a handler
catches the ImportError, and the handler runs instead of the rest of the body.
"""

from __future__ import annotations

import sys
from typing import Any

from ..knowledge.imports import FRAMEWORK_DEPENDENCIES, IMPORT_ERRORS
from .frameworks import is_framework_module
from .python import dotted


def import_error_handler(stmt: Any) -> Any:
    """The first `except` clause of a libcst Try that catches an ImportError (bare,
    `ImportError`, `(ImportError, ...)`, `Exception`), or None."""
    for handler in stmt.handlers:
        if handler.type is None:
            return handler
        kind = type(handler.type).__name__
        names = ([e.value for e in handler.type.elements] if kind == "Tuple" else [handler.type])
        for name in names:
            if type(name).__name__ in ("Name", "Attribute") and \
                    dotted(name).rsplit(".", 1)[-1] in IMPORT_ERRORS:
                return handler
    return None


def imported_module(small: Any) -> tuple[str, int] | None:
    """(module, level) an Import/ImportFrom statement reads, or None for other statements."""
    kind = type(small).__name__
    if kind == "Import":
        return (dotted(small.names[0].name), 0) if small.names else None
    if kind == "ImportFrom":
        module = dotted(small.module) if small.module is not None else ""
        return module, len(small.relative)
    return None


def present(interp: Any, module: str, level: int, source: Any) -> bool:
    """Whether importing `module` works on a machine with the frameworks installed."""
    if level:
        return interp.locate_module(module, level, source) is not None or not module
    root = module.split(".")[0]
    if root in sys.stdlib_module_names or is_framework_module(module) \
            or root in FRAMEWORK_DEPENDENCIES:
        return True
    return interp.locate_module(module, 0, source) is not None


def failing_import(interp: Any, stmt: Any, source: Any) -> bool:
    """Whether the simple statement line `stmt` imports a module that is absent."""
    if type(stmt).__name__ != "SimpleStatementLine":
        return False
    for small in stmt.body:
        read = imported_module(small)
        if read is not None and not present(interp, read[0], read[1], source):
            return True
    return False
