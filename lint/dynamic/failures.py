"""How the verify worker fails: `Failure` ends a request with an error record (the
protocol's "error"), and the helpers that classify and describe exceptions.

Runs in the worker process; pure standard library.
"""

from __future__ import annotations

import os
import re
import traceback
from typing import Any

from .protocol import MEMORY_PATTERN, one_line


class Failure(Exception):
    """Ends the request with an error record (see protocol: "error")."""

    def __init__(self, kind: str, message: str, *, framework: str | None = None,
                 exc: BaseException | None = None, location: dict | None = None):
        super().__init__(message)
        self.kind, self.message, self.framework = kind, message, framework
        self.exc, self.location = exc, location

    def record(self) -> dict[str, Any]:
        error = {"kind": self.kind, "framework": self.framework, "message": self.message,
                 "exception": type(self.exc).__name__ if self.exc is not None else None,
                 "location": self.location}
        if self.exc is not None and os.environ.get("PORTLINT_DEBUG"):
            error["traceback"] = "".join(traceback.format_exception(self.exc))
        return error



def is_memory_error(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = f"{type(exc).__name__}: {exc}"
    return bool(MEMORY_PATTERN.search(text))


def describe(exc: BaseException) -> str:
    text = one_line(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


LAZY_BUILD_ERRORS = re.compile(
    r"\bmeta\b|'Meta' backend|stateless scope|StatelessScope|uninitiali[sz]ed", re.IGNORECASE)


def caused_by_lazy_build(failure: Failure) -> bool:
    """Whether a failure may come from building without weights (a meta tensor's value
    was needed, a variable created or read in the stateless scope): only then is the
    model built again with allocated weights. Other errors would just happen twice."""
    exc = failure.exc
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, NotImplementedError) or LAZY_BUILD_ERRORS.search(str(exc)):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False
