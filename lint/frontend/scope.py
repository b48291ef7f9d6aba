"""Scopes and call frames of interpreted code, the control-flow signals that unwind it,
and literals."""

from __future__ import annotations

import ast
import functools
from typing import Any

from .values import Function


MISSING = object()

class FunctionReturn(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class Unfollowable(Exception):
    """Control flow the interpreter cannot follow (raise, break/continue out of reach);
    `site` is the `raise` statement, when it is one."""

    def __init__(self, site: Any = None) -> None:
        super().__init__()
        self.site = site


class LoopBreak(Exception):
    pass


class LoopContinue(Exception):
    pass


@functools.lru_cache(maxsize=16384)
def literal(text: str) -> Any:
    """The value of a number or string literal's source text, cached: the same literals
    recur throughout model code, and the values (numbers, str, bytes) are immutable.
    Not `ast.literal_eval`: in Python 3.11 each of its calls leaves a cycle of closures
    for the garbage collector. ValueError or SyntaxError for anything else."""
    expression = ast.parse(text, mode="eval").body
    if not isinstance(expression, ast.Constant):
        raise ValueError(f"not a literal: {text!r}")
    return expression.value


class Scope:
    def __init__(self, parent: Scope | None = None) -> None:
        self.vars: dict[str, Any] = {}
        self.parent = parent
        self.stars: list[Any] = []  # LazyImports of `from X import *`, in order
        # What import statements bound here: name -> (value, whether imported from a
        # framework module). A name is import-bound while its value is still the very object
        # the import put there (an assignment replaces it).
        self.imports: dict[str, tuple[Any, bool]] = {}
        self.params: frozenset[str] = frozenset()  # a function call's parameters
        self.globals: set[str] = set()  # names a `global` statement sends to the module

    def binding(self, name: str) -> Scope:
        """The scope an assignment to `name` binds in: this one, or the module's for a
        name declared `global` here (keras-applications sets its injected `layers` so)."""
        if name not in self.globals:
            return self
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def holder(self, name: str) -> Scope | None:
        """The innermost scope binding `name`."""
        scope: Scope | None = self
        while scope is not None and name not in scope.vars:
            scope = scope.parent
        return scope

    def framework_import(self, name: str) -> bool:
        """Whether `name` is bound here by an import from a framework module
        (`import torch.nn as nn`, `from keras import layers`), and not reassigned since."""
        value, from_framework = self.imports.get(name, (MISSING, False))
        return from_framework and name in self.vars and value is self.vars[name]

    def lookup(self, name: str) -> Any:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return scope.vars[name]
            scope = scope.parent
        return MISSING


class Frame:
    def __init__(self, function: Function | None, receiver: Any = None,
                 scope: Scope | None = None) -> None:
        self.function = function
        self.receiver = receiver
        self.scope = scope  # the call's local scope (for `locals()`)
        # How often the comprehension being evaluated in this call runs (the product of
        # the lengths of the comprehensions around it): see MAX_COMPREHENSION.
        self.comprehension_runs = 1

class FileRef:
    """Stands for a source file when only its path is needed."""

    def __init__(self, path: str) -> None:
        self.path = path
