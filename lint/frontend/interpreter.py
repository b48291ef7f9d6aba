"""A small abstract interpreter over libcst nodes.

It evaluates the safe subset of Python that model code is written in: constants and
arithmetic, names and attributes, calls to functions and classes defined in the analysed
files (with default and keyword arguments), `if` on known conditions, `for` over known
iterables, comprehensions, and `self` attributes. Calls into a framework become layer
values and graph nodes through the knowledge tables. Anything else becomes `Unknown`;
where an unknown value reaches the model, it is recorded as unresolved, never guessed.
Nothing of the analysed code is imported or executed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .application import Application
from .attributes import Attributes
from .budget import MAX_ITERATIONS, Budget, BudgetExceeded
from .builder import GraphBuilder
from .builtins import Builtins
from .calls import Calls
from .expressions import Expressions
from .framework_calls import FrameworkCalls
from .loader import Loader
from .scope import Frame, Scope
from .scope import literal as _literal  # noqa: F401  (tests read it from here)
from .statements import Statements
from .values import ConstTensor, Instance, LazyImport, Module, Sequential, ShapeOf, Site

__all__ = ["BudgetExceeded", "Interpreter"]


class Interpreter(Loader, Statements, Expressions, Attributes, Calls, FrameworkCalls,
                  Application, Builtins, Budget):
    """One analysis: the state every part reads (builder, scopes, frames, module stack,
    budget). Each part lives in the module named for its job (see the bases)."""

    def __init__(self, builder: GraphBuilder) -> None:
        self.builder = builder
        self.module_scopes: dict[str, Scope] = {}
        self.module_stack: list[Any] = []  # torch modules being applied, outermost first
        self.modules: dict[str, Module] = {}  # imported project files, by path
        # Library modules read from their model (knowledge/hf_library): model file (real
        # path) -> the module's own file, where the model's relative imports resolve.
        self.origins: dict[str, str] = {}
        self.roots: list[Path] = []
        self.package = ""  # top-level package of the analysed file, if it is in one
        self.frames: list[Frame] = [Frame(None)]
        self.steps = 0
        self.layer_keys = 0
        self.deadline: float | None = None  # time.process_time() after which analysis stops
        self.loading = 0  # modules being executed (their top-level statements run)
        self._forced: dict[int, tuple[LazyImport, Any]] = {}  # this run's resolved imports
        self._resolving: set[int] = set()  # LazyImports being resolved (cycles)
        self.analysed: str | None = None  # the path of the file analysed (loaded first)
        # Per framework, the configuration values the user gives (`--torch-config`):
        # applied to every configuration built from its defaults (frontend/hf_config.py).
        self.config_overrides: dict[str, dict[str, Any]] = {}

    def iterate(self, value: Any) -> list[Any] | None:
        if isinstance(value, (list, tuple)):
            items = list(value)
        elif isinstance(value, range):
            if len(value) > MAX_ITERATIONS:
                return None
            items = list(value)
        elif isinstance(value, dict):
            items = list(value.keys())
        elif isinstance(value, str):
            items = list(value)
        elif isinstance(value, Sequential):
            items = list(value.names) if value.kind == "dict" else list(value.items)
        elif isinstance(value, Instance) and value.container is not None:
            return self.iterate(value.container)
        elif isinstance(value, ShapeOf):
            dims = self.full_shape(value.tensor)
            return list(dims) if dims is not None else None
        elif isinstance(value, ConstTensor) and value.values is not None and value.shape \
                and len(value.shape) == 1:
            # `for rate in tf.linspace(...)`: 0-d constant tensors, one per value
            items = [ConstTensor((), (v,), value.dtype) for v in value.values]
        else:
            return None
        return items

    def note(self, reason: str, source: Any, node: Any) -> None:
        # Only code that runs while a model is built matters to the user.
        if len(self.frames) > 1:
            self.builder.note_unresolved(reason, Site(source, node))
