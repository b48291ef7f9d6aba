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

import ast
import dataclasses
import functools
import math
import os
import time
from pathlib import Path
from typing import Any, Iterable

from .. import ir
from ..knowledge import OPERATORS, REQUIRED, Attr, LayerSpec
from ..knowledge import keras as K
from ..knowledge import torch as T
from . import constant_tensors
from .builder import GraphBuilder
from .modules import (CONTAINER_METHODS, attach, container_kind, framework_kind, instance_of,
                      is_keras_class, module_tree)
from .python import (BINARY_OPS, BUILTINS, COMPARE_OPS, CONSTANT_METHODS, PURE_BUILTINS,
                     PYTHON_TYPES, STDLIB_BUILTINS, annotated_fields, bind_arguments, dotted,
                     hashable, import_names, is_constant, is_dataclass, method_kind, raises)
from .frameworks import Resolved, is_framework_module, resolve
from ..errors import InputError
from ..source import (current_digest, display_path, evict_oldest, note_read,
                      read_source, recording_reads)
from .values import (Builtin, BoundMethod, Class, ConstTensor, ExternalRef, FrameworkRef,
                     Function, Instance, KerasModel, LazyImport, Layer, Module, Partial,
                     Sequential, Site, SuperProxy, Tensor, Unknown, Weight, module_path)

MISSING = object()
_MODEL_VALUES = (Layer, Sequential, KerasModel, Tensor, Weight)


def _model_value(value: Any) -> bool:
    """A part of a model (a module-level value that an analysis may change); instances
    of plain classes, such as configurations, are data."""
    if isinstance(value, Instance):
        return framework_kind(value.cls) is not None
    return isinstance(value, _MODEL_VALUES)
MAX_DEPTH = 60
MAX_STEPS = 500_000
MAX_ITERATIONS = 20_000
# Constant folding must not do what the analysed program would do for minutes or with
# gigabytes (`10 ** 10 ** 9`, `[0] * 10 ** 10`, `sum(range(10 ** 13))`, a 10-GB
# `'{:>9999999999}'.format(x)`): such a value is not known statically. Integers stay
# below MAX_INT_BITS, so that sizes computed from them print (Python refuses to print
# integers of more than 4,300 digits), and sequences and strings below MAX_SIZE items;
# building a large one costs steps (1 per VALUE_COST items), which bounds the total.
MAX_INT_BITS = 1024
MAX_SIZE = 1_000_000
VALUE_COST = 64
_SIZED = (str, bytes, list, tuple, dict)
# Built-ins that do not walk a range they are given (the others iterate it).
_RANGE_SAFE_BUILTINS = frozenset({"range", "len", "bool", "str"})


def _too_big(op: str, left: Any, right: Any) -> bool:
    """Whether `left op right` on plain values would exceed the limits above; decided
    from the operands' sizes, before computing anything."""
    ints = isinstance(left, int) and isinstance(right, int)
    if op == "Power" and ints:
        return right > 0 and abs(left) > 1 and right * left.bit_length() > MAX_INT_BITS
    if op == "LeftShift" and ints:
        return right > MAX_INT_BITS
    if op == "Multiply":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, _SIZED) and isinstance(count, int):
                return len(seq) * count > MAX_SIZE
    if op == "Add" and isinstance(left, _SIZED) and isinstance(right, _SIZED):
        return len(left) + len(right) > MAX_SIZE
    if op == "Modulo" and isinstance(left, str):  # printf-style: '%9999999999d' % 1
        return _format_too_big(left, right if isinstance(right, tuple) else (right,))
    return False


def _format_too_big(template: str, args: Iterable[Any]) -> bool:
    """A format string whose widths or precisions (digits in it, or numbers among the
    arguments for `*` and nested `{}` widths) ask for more than MAX_SIZE characters."""
    import re

    return any(int(digits) > MAX_SIZE for digits in re.findall(r"\d{7,}", template)) or any(
        isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_SIZE for a in args)


def _oversized(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() > MAX_INT_BITS
    return isinstance(value, _SIZED) and len(value) > MAX_SIZE


def _builtin_too_big(name: str, args: list[Any], kwargs: dict[str, Any]) -> bool:
    if name not in _RANGE_SAFE_BUILTINS and any(
            isinstance(a, range) and len(a) > MAX_ITERATIONS for a in args):
        return True  # sum(range(10 ** 13)), sorted(range(10 ** 9))
    if name == "pow" and len(args) == 2:  # with a modulus, pow is cheap
        return _too_big("Power", args[0], args[1])
    if name == "numpy.linspace":
        num = kwargs.get("num", args[2] if len(args) > 2 else 50)
        return isinstance(num, int) and num > MAX_SIZE
    return False


def _method_too_big(text: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> bool:
    """str methods whose result can dwarf their inputs."""
    if method == "format":
        return _format_too_big(text, [*args, *kwargs.values()])
    if method == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        count = text.count(args[0]) if args[0] else len(text) + 1
        return len(text) + count * len(args[1]) > MAX_SIZE
    if method == "join" and args and isinstance(args[0], (list, tuple)):
        return (sum(len(a) for a in args[0] if isinstance(a, str))
                + len(text) * len(args[0]) > MAX_SIZE)
    return False

BATCH = "N"  # the batch dimension, as `x.size(0)` and `x.shape[0]` evaluate


# Names with a modelled static behaviour: standard library, and torch's own table.
MODELLED_NAMES = {**STDLIB_BUILTINS, **{f"torch.{k}": v for k, v in T.STATIC_CALLS.items()}}
_MODELLED_ROOTS = frozenset(name.split(".")[0] for name in MODELLED_NAMES)


def _known_module(dotted: str) -> bool:
    """A framework or modelled standard-library module: importing from it reads no file."""
    return is_framework_module(dotted) or dotted.split(".")[0] in _MODELLED_ROOTS


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class _Stop(Exception):
    """Control flow the interpreter cannot follow (raise, break/continue out of reach)."""


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


@functools.lru_cache(maxsize=16384)
def _literal(text: str) -> Any:
    """The value of a number or string literal's source text, cached: the same literals
    recur throughout model code, and the values (numbers, str, bytes) are immutable.
    Not `ast.literal_eval`: in Python 3.11 each of its calls leaves a cycle of closures
    for the garbage collector. ValueError or SyntaxError for anything else."""
    expression = ast.parse(text, mode="eval").body
    if not isinstance(expression, ast.Constant):
        raise ValueError(f"not a literal: {text!r}")
    return expression.value


# Module scopes that only define classes, functions and constants, shared by every
# extraction of one run: `check` extracts each model of each file with a fresh
# interpreter, and most files import the same package modules (timm's `_builder`,
# transformers' `modeling_utils`). Keyed by the parsed file (a new version of the file is
# a new SourceFile) and by what decides how its imports resolve.
_SHARED_MODULES: dict[tuple, tuple[Any, Scope, dict[str, str]]] = {}
# Their trees and values stay in memory (functions are interpreted from them when
# called): up to this much source text. Measured over the bench corpus in one process,
# peak RSS: 2 MB here and 2 MB of parse cache 179 MiB, 1 MB here 148 MiB; three
# transformers modeling files took 8-11 s of CPU either way (26 s with a 1 MB parse
# cache: their imports reach about 1.5 MB of source).
MAX_SHARED_BYTES = 1024 * 1024


def _unchanged(reads: dict[str, str]) -> bool:
    """Whether the modules a shared scope imported still read as they did (a stat each;
    an editor's unsaved text counts). They are recorded again for the result cache."""
    for path, digest in reads.items():
        if current_digest(path) != digest:
            return False
    for path, digest in reads.items():
        note_read(path, digest)
    return True


class BudgetExceeded(BaseException):
    """The analysis ran out of steps or time. Not an Exception: the interpreter's
    `except Exception` around modelled helpers must not swallow it."""


class Scope:
    def __init__(self, parent: Scope | None = None) -> None:
        self.vars: dict[str, Any] = {}
        self.parent = parent
        self.stars: list[Any] = []  # LazyImports of `from X import *`, in order

    def lookup(self, name: str) -> Any:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return scope.vars[name]
            scope = scope.parent
        return MISSING


class _Frame:
    def __init__(self, function: Function | None, receiver: Any = None) -> None:
        self.function = function
        self.receiver = receiver


class Interpreter:
    def __init__(self, builder: GraphBuilder) -> None:
        self.builder = builder
        self.module_scopes: dict[str, Scope] = {}
        self.module_stack: list[Any] = []  # torch modules being applied, outermost first
        self.modules: dict[str, Module] = {}  # imported project files, by path
        self.roots: list[Path] = []
        self.package = ""  # top-level package of the analysed file, if it is in one
        self.frames: list[_Frame] = [_Frame(None)]
        self.steps = 0
        self.layer_keys = 0
        self.deadline: float | None = None  # time.process_time() after which analysis stops
        self.loading = 0  # modules being executed (their top-level statements run)
        self._forced: dict[int, tuple[LazyImport, Any]] = {}  # this run's resolved imports
        self.analysed: str | None = None  # the path of the file analysed (loaded first)

    # --- modules -----------------------------------------------------------------------

    def load_module(self, source: Any) -> Scope:
        if source.path in self.module_scopes:
            return self.module_scopes[source.path]
        if self.analysed is None:
            self.analysed = source.path
        shared = self._shared(source.path, source.digest, parsed=source)
        if shared is not None:
            self.module_scopes[source.path] = shared
            return shared
        scope = Scope()
        scope.vars["__name__"] = "portlint_analysed"
        self.module_scopes[source.path] = scope
        before = self._model_state()
        with recording_reads() as reads:
            self.loading += 1
            try:
                self.exec_block(source.module.body, scope, source)
            except (_Stop, _Return, _Break, _Continue):
                # A module-level `raise` (or a stray return): what ran so far is defined.
                self.note("module-level `raise` stops the module here", source, source.module)
                return scope
            finally:
                self.loading -= 1
        if self._model_state() == before and not any(map(_model_value, scope.vars.values())):
            _SHARED_MODULES[self._shared_key(source.path)] = (source, scope, reads)
            evict_oldest(_SHARED_MODULES, MAX_SHARED_BYTES)
        return scope

    def _shared_key(self, path: str) -> tuple:
        return (os.path.realpath(path), tuple(self.roots), self.package,
                self.builder.keras_version)

    def _shared(self, path: str, digest: str | None = None,
                parsed: Any = None) -> Scope | None:
        """The shared scope of the module at `path`, if it was loaded before and neither
        it nor a module it imported has changed since (`digest`: the file's, if known).

        With `parsed` (the SourceFile the caller holds), only a scope made from that very
        parse will do: its functions and classes carry nodes of their own tree, and a
        caller that finds models in the scope and positions in `parsed` needs them to be
        the same (the parse cache may have dropped and re-read the file meanwhile)."""
        key = self._shared_key(path)
        entry = _SHARED_MODULES.get(key)
        if entry is None:
            return None
        source, scope, reads = entry
        if parsed is not None and source is not parsed:
            return None
        if (digest or current_digest(path)) != source.digest or not _unchanged(reads):
            del _SHARED_MODULES[key]
            return None
        _SHARED_MODULES[key] = _SHARED_MODULES.pop(key)  # the most recently used last
        note_read(source.path, source.digest)
        return scope

    def _model_state(self) -> tuple:
        """What executing code can add to the model being built; a module whose top level
        changed none of it only defines things, and its scope can be shared."""
        builder = self.builder
        return (len(builder.drafts), len(builder.unresolved), len(builder.owned),
                builder.custom_init, sum(builder._auto_names.values()), self.layer_keys)

    # --- statements --------------------------------------------------------------------

    def exec_block(self, body: Iterable[Any], scope: Scope, source: Any) -> None:
        for stmt in body:
            self._tick()
            try:
                self.exec_stmt(stmt, scope, source)
            except (_Return, _Break, _Continue, _Stop, BudgetExceeded):
                raise
            except RecursionError:
                raise BudgetExceeded("nesting too deep") from None

    def exec_stmt(self, stmt: Any, scope: Scope, source: Any) -> None:
        kind = type(stmt).__name__
        if kind == "SimpleStatementLine":
            for small in stmt.body:
                self.exec_small(small, scope, source)
        elif kind == "FunctionDef":
            scope.vars[stmt.name.value] = self.make_function(stmt, scope, source)
        elif kind == "ClassDef":
            scope.vars[stmt.name.value] = self.make_class(stmt, scope, source)
        elif kind == "If":
            self.exec_if(stmt, scope, source)
        elif kind == "For":
            self.exec_for(stmt, scope, source)
        elif kind in ("With",):
            for item in stmt.items:
                value = self.eval(item.item, scope, source)
                if item.asname is not None:
                    self.assign(item.asname.name, value, scope, source)
            self.exec_block(stmt.body.body, scope, source)
        elif kind == "Try":
            self.exec_block(stmt.body.body, scope, source)
            if stmt.orelse is not None:
                self.exec_block(stmt.orelse.body.body, scope, source)
            if stmt.finalbody is not None:
                self.exec_block(stmt.finalbody.body.body, scope, source)
        elif kind == "While":
            self.exec_while(stmt, scope, source)
        else:
            self.note(f"statement `{kind}` not followed", source, stmt)

    def exec_small(self, small: Any, scope: Scope, source: Any) -> None:
        kind = type(small).__name__
        if kind == "Assign":
            value = self.eval(small.value, scope, source)
            for target in small.targets:
                self.assign(target.target, value, scope, source)
        elif kind == "AnnAssign":
            if small.value is not None:
                self.assign(small.target, self.eval(small.value, scope, source), scope, source)
        elif kind == "AugAssign":
            current = self.eval(small.target, scope, source)
            value = self.eval(small.value, scope, source)
            op = type(small.operator).__name__.replace("Assign", "")
            self.assign(small.target, self.binary(op, current, value, source, small), scope, source)
        elif kind == "Expr":
            self.eval(small.value, scope, source)
        elif kind == "Return":
            raise _Return(None if small.value is None else self.eval(small.value, scope, source))
        elif kind == "Import":
            self.exec_import(small, scope, source)
        elif kind == "ImportFrom":
            self.exec_import_from(small, scope, source)
        elif kind == "Raise":
            raise _Stop()
        elif kind == "Break":
            raise _Break()
        elif kind == "Continue":
            raise _Continue()
        # Pass, Assert, Global, Nonlocal, Del: nothing that shapes a model.

    def exec_if(self, stmt: Any, scope: Scope, source: Any) -> None:
        test = self.eval(stmt.test, scope, source)
        if isinstance(test, Unknown) or not is_constant(test):
            if raises(stmt.body.body):
                # An argument check (`if bad: raise ...`): valid code takes the other way.
                test = False
            else:
                # Follow the `if` branch; say so when the branch built part of the model,
                # or returned: then it decided what the function gives back (a recursion's
                # base case `if depth >= DEPTH: return []`, which else left the model
                # silently without its layers).
                before = (len(self.builder.drafts), self.layer_keys)
                try:
                    self.exec_block(stmt.body.body, scope, source)
                except _Return:
                    self.note(f"condition not known statically ({_reason(test)}); "
                              f"followed the `if` branch, which returns", source, stmt.test)
                    raise
                if (len(self.builder.drafts), self.layer_keys) != before:
                    self.note(f"condition not known statically ({_reason(test)}); "
                              f"followed the `if` branch", source, stmt.test)
                return
        if test:
            self.exec_block(stmt.body.body, scope, source)
        elif stmt.orelse is not None:
            orelse = stmt.orelse
            if type(orelse).__name__ == "If":
                self.exec_if(orelse, scope, source)
            else:
                self.exec_block(orelse.body.body, scope, source)

    def exec_for(self, stmt: Any, scope: Scope, source: Any) -> None:
        iterable = self.eval(stmt.iter, scope, source)
        items = self.iterate(iterable)
        if items is None:
            self.note(f"loop over a value not known statically ({_reason(iterable)})",
                      source, stmt.iter)
            return
        for item in items:
            self.assign(stmt.target, item, scope, source)
            if not self._loop_body(stmt, scope, source):
                return
        if stmt.orelse is not None:
            self.exec_block(stmt.orelse.body.body, scope, source)

    def _loop_body(self, stmt: Any, scope: Scope, source: Any) -> bool:
        """One iteration of a `for`/`while` body; False when it breaks out of the loop."""
        try:
            self.exec_block(stmt.body.body, scope, source)
        except _Break:
            return False
        except _Continue:
            pass
        return True

    def exec_while(self, stmt: Any, scope: Scope, source: Any) -> None:
        """A `while` whose condition is known at every step runs (within the iteration
        budget); an unknown condition stops the model there, reported."""
        for _ in range(MAX_ITERATIONS):
            test = self.eval(stmt.test, scope, source)
            if not is_constant(test):
                self.note(f"`while` condition not known statically ({_reason(test)})",
                          source, stmt.test)
                return
            if not test:
                break
            if not self._loop_body(stmt, scope, source):
                return
        else:
            self.note("`while` loop ran past the iteration budget", source, stmt)
            return
        if stmt.orelse is not None:
            self.exec_block(stmt.orelse.body.body, scope, source)

    def exec_import(self, small: Any, scope: Scope, source: Any) -> None:
        for alias in small.names:
            name = dotted(alias.name)
            site = Site(source, small)
            if alias.asname is None:  # `import a.b` binds `a`
                name = name.split(".")[0]
            bound = alias.asname.name.value if alias.asname is not None else name
            if self._lazy(scope, source) and not _known_module(name):
                scope.vars[bound] = LazyImport(name, None, 0, source, site)
            else:
                scope.vars[bound] = self._module_value(name, site)

    def exec_import_from(self, small: Any, scope: Scope, source: Any) -> None:
        level = len(small.relative)
        module = dotted(small.module) if small.module is not None else ""
        site = Site(source, small)
        lazy = self._lazy(scope, source) and (level or not _known_module(module))
        for name, asname in import_names(small):
            if name == "*" and lazy:
                # Looked up when a name is missing (a package `__init__` may star-import
                # every module of a model zoo, most of them never used).
                scope.stars.append(LazyImport(module, name, level, source, site))
            elif name == "*":
                base = self._star_module(module, level, source, site)
                if isinstance(base, Module):
                    scope.vars.update({k: v for k, v in base.scope.vars.items()
                                       if not k.startswith("_")})
            elif lazy or (not level and is_framework_module(module)
                          and self._is_sibling(module, name)):
                scope.vars[asname] = LazyImport(module, name, level, source, site)
            else:
                scope.vars[asname] = self._imported_name(module, name, level, source, site)

    def _lazy(self, scope: Scope, source: Any) -> bool:
        """Whether an import binds lazily: at the top of a module the analysed file
        imports (the analysed file's own imports are resolved at once)."""
        return scope.parent is None and source.path != self.analysed

    def _module_name(self, module: Any, name: str) -> Any:
        """`name` as a module defines it (also through its star imports), or MISSING."""
        if not isinstance(module, Module):
            return MISSING
        value = module.scope.vars.get(name, MISSING)
        if value is MISSING and module.scope.stars:
            return self._from_stars(module.scope, name)
        return self.resolved(value)

    def _star_module(self, module: str, level: int, source: Any, site: Site | None) -> Any:
        if level:
            return self.import_module(module, level, source, site)
        return self.resolved(self._module_value(module, site, source))

    def _from_stars(self, scope: Scope, name: str, seen: set[int] | None = None) -> Any:
        """`name` from the modules a module scope star-imported lazily, the last import
        first (as in Python, the last binding wins); MISSING when none defines it (star
        imports may form a cycle: each scope is asked once)."""
        seen = seen if seen is not None else set()
        if name.startswith("_") or id(scope) in seen:
            return MISSING
        seen.add(id(scope))
        for star in reversed(scope.stars):  # the last star import binding a name wins
            path = self.locate_module(star.module, star.level, star.importer)
            if path is not None and not _may_bind(path, name):
                continue  # not read (a package may star-import hundreds of modules)
            base = self.resolved(star)
            if isinstance(base, Module):
                value = base.scope.vars.get(name, MISSING)
                if value is MISSING and base.scope.stars:
                    value = self._from_stars(base.scope, name, seen)
                if value is not MISSING:
                    return self.resolved(value)
        return MISSING

    def resolved(self, value: Any) -> Any:
        """`value`, or what a LazyImport stands for (resolved once per interpreter)."""
        if type(value) is not LazyImport:
            return value
        hit = self._forced.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        if value.name == "*":
            result = self._star_module(value.module, value.level, value.importer, value.site)
        elif value.name is None:
            result = self._module_value(value.module, value.site)
        else:
            result = self._imported_name(value.module, value.name, value.level, value.importer,
                                         value.site)
        self._forced[id(value)] = (value, result)
        return result

    def _imported_name(self, module: str, name: str, level: int, source: Any,
                       site: Site | None) -> Any:
        """What `from MODULE import NAME` binds."""
        if not level:
            return self._module_value(f"{module}.{name}", site, source)
        # `from .utils import BaseOutput` reads the name from the module the package's
        # `__init__` takes it from, and `from .. import resnet` imports the submodule
        # directly: running the `__init__` itself would import every module of the package
        # (a model zoo's, a library's utilities), most of them for nothing.
        submodule = f"{module}.{name}" if module else name
        value = self._reexported(module, name, level, source, site)
        if value is MISSING and not self.locate_module(submodule, level, source):
            base = self.import_module(module, level, source, site)
            value = self._module_name(base, name)
        if value is MISSING:
            value = self.import_module(submodule, level, source, site)
        if value is None or value is MISSING:
            value = Unknown(f"`{'.' * level}{module}` has no `{name}` portlint can find", site)
        return value

    def _module_value(self, dotted: str, site: Site | None = None, source: Any = None) -> Any:
        """What an absolute import binds: a modelled stdlib name, a framework name, a
        module or name of the analysed project, or an external reference."""
        if dotted in MODELLED_NAMES:
            return Builtin(MODELLED_NAMES[dotted])
        if is_framework_module(dotted):
            sibling = self._framework_sibling(dotted, site)
            return sibling if sibling is not None else FrameworkRef(dotted)
        module = self.import_module(dotted, 0, source, site)
        if module is not None:
            return module
        parent, _, name = dotted.rpartition(".")
        if parent:
            value = self._reexported(parent, name, 0, source, site)
            if value is not MISSING:
                return value
            owner = self.import_module(parent, 0, source, site)
            value = self._module_name(owner, name)
            if value is not MISSING:
                return value
        return ExternalRef(dotted)

    def module_name(self, path: str) -> str:
        """The dotted module name of an analysed file (`torchvision.models.resnet`)."""
        file = Path(path).resolve()
        for root in reversed(self.roots):
            try:
                parts = file.with_suffix("").relative_to(root).parts
            except ValueError:
                continue
            return ".".join(p for p in parts if p != "__init__")
        return file.stem

    def _is_sibling(self, package: str, name: str) -> bool:
        """Whether `PACKAGE.NAME` is a module beside the analysed file inside a framework's
        own source (`keras.src.applications.resnet` from `.../applications/resnet_v2.py`).
        The analysed file binds such imports lazily too: a framework module imports dozens
        of siblings of 100-500 KB (tensorflow's `ops/`), and its model, if it has one,
        uses few of them."""
        return (bool(self.roots) and package.endswith(self.roots[0].name)
                and (self.roots[0] / f"{name}.py").is_file())

    def _framework_sibling(self, dotted: str, site: Site | None) -> Any:
        """When the analysed file lives inside a framework package (Keras Applications),
        its siblings are part of what is analysed."""
        package, _, name = dotted.rpartition(".")
        if not self._is_sibling(package, name):
            return None
        folder = self.roots[0]
        return self.import_module(name, 1, _FileRef(str(folder / "__init__.py")), site)

    def _reexported(self, package: str, name: str, level: int, source: Any,
                    site: Site | None) -> Any:
        """`name` of a package, read from the module its `__init__` imports it from
        (`from .outputs import BaseOutput`), without running the `__init__`; MISSING when
        the `__init__` does not say where it comes from."""
        path = self.locate_module(package, level, source)
        if path is None or not path.endswith("__init__.py"):
            return MISSING
        origin = _reexports(path).get(name)
        if origin is None:
            return MISSING
        module, sublevel, original = origin
        target = self.import_module(module, sublevel, _FileRef(path) if sublevel else source, site)
        if not isinstance(target, Module):
            return MISSING
        return self._module_name(target, original)

    def import_module(self, dotted: str, level: int, source: Any, site: Site | None) -> Any:
        """A module of the analysed project (parsed once), None when there is no such
        file, or Unknown when it cannot be read."""
        path = self.locate_module(dotted, level, source)
        if path is None:
            return None
        if path in self.modules:
            return self.modules[path]
        shown = display_path(path)  # findings there show it so
        shared = self._shared(shown)
        if shared is not None:  # no need to parse it again
            self.modules[path] = Module(dotted, shared, path)
            self.module_scopes[shown] = shared
            return self.modules[path]
        try:
            imported = read_source(shown)
        except InputError as exc:
            self.builder.note_unresolved(f"import of `{dotted}`: {exc}", site)
            return Unknown(f"`{dotted}` could not be read", site)
        module = Module(dotted, Scope(), path)
        self.modules[path] = module
        module.scope = self.load_module(imported)
        return module

    def locate_module(self, dotted: str, level: int, source: Any) -> str | None:
        parts = [p for p in dotted.split(".") if p]
        if level:
            if source is None:
                return None
            base = Path(source.path).resolve().parent
            for _ in range(level - 1):
                base = base.parent
            bases = [base]
        else:
            bases = [self.roots[0]] if self.roots else []
            if len(self.roots) > 1 and parts and parts[0] == self.package:
                bases.append(self.roots[1])  # only the analysed file's own package
        for base in bases:
            target = base.joinpath(*parts)
            for candidate in (target.with_suffix(".py") if parts else None, target / "__init__.py"):
                if candidate is not None and candidate.is_file():
                    return str(candidate)
        return None

    def set_roots(self, path: str) -> None:
        """Where absolute imports of the project resolve: the file's folder, and the
        folder above its top-level package."""
        folder = Path(path).resolve().parent
        top = folder
        while (top / "__init__.py").exists() and top.parent != top:
            top = top.parent
        self.roots = [folder] if top == folder else [folder, top]
        self.package = folder.relative_to(top).parts[0] if top != folder else ""

    # --- definitions and assignment ----------------------------------------------------

    def make_function(self, node: Any, scope: Scope, source: Any) -> Function:
        name = node.name.value if hasattr(node, "name") else "<lambda>"
        fn = Function(node=node, scope=scope, source=source, name=name)
        params = node.params
        for param in list(params.posonly_params) + list(params.params) + list(params.kwonly_params):
            if param.default is not None:
                fn.defaults[param.name.value] = self.eval(param.default, scope, source)
        return fn

    def make_class(self, node: Any, scope: Scope, source: Any) -> Class:
        bases = [self.eval(arg.value, scope, source) for arg in node.bases if not arg.keyword]
        cls = Class(node=node, scope=scope, source=source, name=node.name.value, bases=bases)
        body_scope = Scope(scope)
        self.exec_block(node.body.body, body_scope, source)
        for name, value in body_scope.vars.items():
            if isinstance(value, Function):
                value.scope = scope  # methods see the module, not the class body
                value.owner = cls
                value.kind = method_kind(value.node)
            cls.attrs[name] = value
        if is_dataclass(node):
            cls.fields = annotated_fields(node)
            if "__init__" not in cls.attrs:
                cls.attrs["__init__"] = Builtin("dataclass.__init__", receiver=cls)
        return cls

    def assign(self, target: Any, value: Any, scope: Scope, source: Any) -> None:
        kind = type(target).__name__
        if kind == "Name":
            scope.vars[target.value] = value
        elif kind in ("Tuple", "List"):
            items = self.iterate(value)
            elements = [e.value for e in target.elements]
            if isinstance(value, Tensor):  # `a, b = tensor`: keep the graph connected
                framework = self.builder.drafts[value.node_id].node.framework
                items = [self.builder.opaque(framework, "unpacking a tensor is not modelled",
                                             [value], Site(source, target), self._path("unpack"),
                                             functional=True)
                         for _ in elements]
            if items is None or len(items) != len(elements):
                items = [Unknown("cannot unpack", Site(source, target))] * len(elements)
            for element, item in zip(elements, items):
                self.assign(element, item, scope, source)
        elif kind == "Attribute":
            obj = self.eval(target.value, scope, source)
            name = target.attr.value
            if isinstance(obj, Instance):
                attach(value, obj, name)
                obj.attrs[name] = value
            elif isinstance(obj, Layer):
                self.set_layer_attribute(obj, name, value, Site(source, target))
        elif kind == "Subscript":
            obj = self.eval(target.value, scope, source)
            index = self.subscript_index(target, scope, source)
            if isinstance(obj, (list, dict)) and is_constant(index):
                try:
                    obj[index] = value
                except (IndexError, TypeError):
                    pass

    # --- expressions -------------------------------------------------------------------

    def eval(self, node: Any, scope: Scope, source: Any) -> Any:
        self._tick()
        method = getattr(self, "_eval_" + type(node).__name__, None)
        if method is None:
            return Unknown(f"expression `{type(node).__name__}` not modelled", Site(source, node))
        return method(node, scope, source)

    def _eval_Integer(self, node: Any, scope: Scope, source: Any) -> Any:
        try:
            value = _literal(node.value)
        except (ValueError, SyntaxError, MemoryError):  # beyond Python's 4,300 digits
            return Unknown("number literal too large", Site(source, node))
        if _oversized(value):
            return Unknown(f"integer literal of more than {MAX_INT_BITS} bits", Site(source, node))
        return value

    _eval_Float = _eval_Integer
    _eval_Imaginary = _eval_Integer

    def _eval_SimpleString(self, node: Any, scope: Scope, source: Any) -> Any:
        try:
            return _literal(node.value)
        except (ValueError, SyntaxError):
            return Unknown("string literal", Site(source, node))

    def _eval_ConcatenatedString(self, node: Any, scope: Scope, source: Any) -> Any:
        left, right = self.eval(node.left, scope, source), self.eval(node.right, scope, source)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        return Unknown("string", Site(source, node))

    def _eval_FormattedString(self, node: Any, scope: Scope, source: Any) -> Any:
        parts: list[str] = []
        for part in node.parts:
            if type(part).__name__ == "FormattedStringText":
                parts.append(part.value)
                continue
            value = self.eval(part.expression, scope, source)
            if not is_constant(value):
                return Unknown("f-string with a value not known statically", Site(source, node))
            parts.append(str(value))
        return "".join(parts)

    def _eval_Name(self, node: Any, scope: Scope, source: Any) -> Any:
        name = node.value
        if name in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[name]
        value = scope.lookup(name)
        if value is not MISSING:
            return self.resolved(value)
        if name in BUILTINS:  # before star imports: they rarely shadow one
            return Builtin(name)
        module_scope = scope
        while module_scope.parent is not None:
            module_scope = module_scope.parent
        if module_scope.stars:
            value = self._from_stars(module_scope, name)
            if value is not MISSING:
                return value
        return Unknown(f"name `{name}` is not defined in the analysed code", Site(source, node))

    def _eval_Attribute(self, node: Any, scope: Scope, source: Any) -> Any:
        obj = self.eval(node.value, scope, source)
        return self.getattr(obj, node.attr.value, Site(source, node))

    def _eval_Tuple(self, node: Any, scope: Scope, source: Any) -> Any:
        return tuple(self._elements(node.elements, scope, source))

    def _eval_List(self, node: Any, scope: Scope, source: Any) -> Any:
        return list(self._elements(node.elements, scope, source))

    def _eval_Set(self, node: Any, scope: Scope, source: Any) -> Any:
        return list(self._elements(node.elements, scope, source))

    def _elements(self, elements: Any, scope: Scope, source: Any) -> list[Any]:
        out: list[Any] = []
        for element in elements:
            value = self.eval(element.value, scope, source)
            if type(element).__name__ == "StarredElement":
                items = self.iterate(value)
                out.extend(items if items is not None else [value])
            else:
                out.append(value)
        return out

    def _eval_Dict(self, node: Any, scope: Scope, source: Any) -> Any:
        out: dict[Any, Any] = {}
        for element in node.elements:
            if type(element).__name__ == "StarredDictElement":
                value = self.eval(element.value, scope, source)
                if isinstance(value, dict):
                    out.update(value)
                continue
            key = self.eval(element.key, scope, source)
            if hashable(key):
                out[key] = self.eval(element.value, scope, source)
        return out

    def _eval_UnaryOperation(self, node: Any, scope: Scope, source: Any) -> Any:
        value = self.eval(node.expression, scope, source)
        op = type(node.operator).__name__
        if not is_constant(value):
            return Unknown(f"operand not known statically ({_reason(value)})", Site(source, node))
        try:
            return {"Minus": lambda v: -v, "Plus": lambda v: +v, "Not": lambda v: not v,
                    "BitInvert": lambda v: ~v}[op](value)
        except Exception:
            return Unknown("unary operation", Site(source, node))

    def _eval_BinaryOperation(self, node: Any, scope: Scope, source: Any) -> Any:
        left = self.eval(node.left, scope, source)
        right = self.eval(node.right, scope, source)
        return self.binary(type(node.operator).__name__, left, right, source, node)

    def binary(self, op: str, left: Any, right: Any, source: Any, node: Any) -> Any:
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            tensors = [v for v in (left, right) if isinstance(v, Tensor)]
            framework = self.builder.drafts[tensors[0].node_id].node.framework
            constant = right if isinstance(left, Tensor) else left
            if isinstance(constant, (Weight, ConstTensor)):
                constant = "weight"  # a module's own weight (layer scale, position embedding)
            if op in OPERATORS and (len(tensors) == 2 or isinstance(constant, (int, float, str))):
                two_tensors, with_constant, symbol = OPERATORS[op]
                spec = LayerSpec(op=two_tensors if len(tensors) == 2 else with_constant)
                args = {} if len(tensors) == 2 else {"operator": symbol, "constant": constant}
                spec = LayerSpec(op=spec.op, params=tuple(args), attrs={k: Attr(k) for k in args})
                return self.builder.apply_function(framework, symbol, spec, args, {}, tensors,
                                                   Site(source, node), self._path(op.lower()))
            return self.builder.opaque(framework, f"tensor arithmetic `{op}` not modelled",
                                       tensors, Site(source, node), self._path("?"), functional=True)
        if isinstance(left, (ConstTensor, Weight)) or isinstance(right, (ConstTensor, Weight)):
            shaped = left if isinstance(left, (ConstTensor, Weight)) else right
            if op in BINARY_OPS and not isinstance(left, Weight) and not isinstance(right, Weight):
                result = constant_tensors.binary(BINARY_OPS[op], left, right, op == "Divide")
                if result is not None:
                    return result
            return ConstTensor(shaped.shape)  # torch.ones(d, 1, 1) * 1e-6
        if op == "Add" and isinstance(left, Sequential) and left.kind == "list" and isinstance(right, (list, tuple)):
            for item in right:  # `self.layers += [...]` extends an nn.ModuleList in place
                self.sequential_add(left, item)
            return left
        if op in BINARY_OPS and _too_big(op, left, right):
            return Unknown(f"operation `{op}` would build a value too large to analyse",
                           Site(source, node))
        if op == "Add" and isinstance(left, list) and isinstance(right, (list, tuple)):
            return self._sized(left + list(right), Site(source, node))  # lists of layers
        if op == "Add" and isinstance(left, tuple) and isinstance(right, tuple):
            return self._sized(left + right, Site(source, node))
        if op == "Multiply" and isinstance(left, list) and isinstance(right, int):
            return self._sized(left * right, Site(source, node))
        if not (is_constant(left) and is_constant(right)):
            return Unknown(f"operand not known statically ({_reason(left if not is_constant(left) else right)})",
                           Site(source, node))
        try:
            value = BINARY_OPS[op](left, right)
        except Exception:
            return Unknown(f"operation `{op}` on these values", Site(source, node))
        return self._sized(value, Site(source, node))

    def _eval_BooleanOperation(self, node: Any, scope: Scope, source: Any) -> Any:
        left = self.eval(node.left, scope, source)
        if not is_constant(left):
            return Unknown(f"operand not known statically ({_reason(left)})", Site(source, node))
        op = type(node.operator).__name__
        if (op == "And" and not left) or (op == "Or" and left):
            return left
        return self.eval(node.right, scope, source)

    def _eval_Comparison(self, node: Any, scope: Scope, source: Any) -> Any:
        left = self.eval(node.left, scope, source)
        for target in node.comparisons:
            right = self.eval(target.comparator, scope, source)
            op = type(target.operator).__name__
            if op in ("Is", "IsNot") and (left is None or right is None) and not (
                    isinstance(left, Unknown) or isinstance(right, Unknown)):
                result = (left is right) == (op == "Is")
            elif not (is_constant(left) and is_constant(right)):
                return Unknown("comparison of values not known statically", Site(source, node))
            else:
                try:
                    result = COMPARE_OPS[op](left, right)
                except Exception:
                    return Unknown("comparison", Site(source, node))
            if not result:
                return False
            left = right
        return True

    def _eval_IfExp(self, node: Any, scope: Scope, source: Any) -> Any:
        test = self.eval(node.test, scope, source)
        if not is_constant(test):
            return Unknown(f"condition not known statically ({_reason(test)})", Site(source, node))
        return self.eval(node.body if test else node.orelse, scope, source)

    def _eval_Subscript(self, node: Any, scope: Scope, source: Any) -> Any:
        obj = self.eval(node.value, scope, source)
        index = self.subscript_index(node, scope, source)
        if isinstance(obj, ConstTensor):
            items = index if isinstance(index, tuple) else (index,)
            result = constant_tensors.index(obj, items)
            return result if result is not None else Unknown("index of a constant tensor", Site(source, node))
        if isinstance(obj, _ShapeOf):
            dims = self.full_shape(obj.tensor)
            if dims is not None and isinstance(index, (int, slice)):
                try:
                    return dims[index]
                except IndexError:
                    return Unknown("tensor dimension out of range", Site(source, node))
            return BATCH if index == 0 else Unknown("tensor size not known statically",
                                                     Site(source, node))
        if isinstance(obj, Tensor):
            framework = self.builder.drafts[obj.node_id].node.framework
            if static_index(index):
                return self.builder.apply_index(framework, obj, index if isinstance(index, tuple)
                                                else (index,), Site(source, node),
                                                self._path("getitem"))
            return self.builder.opaque(framework, "tensor indexing `x[...]` is not modelled yet",
                                       [obj], Site(source, node), self._path("getitem"),
                                       functional=True)
        if isinstance(obj, (list, tuple, str)) and isinstance(index, slice):
            return obj[index]
        if isinstance(obj, (list, tuple, str, dict)) and hashable(index):
            try:
                return obj[index]
            except (IndexError, KeyError, TypeError):
                return Unknown("index out of range", Site(source, node))
        if isinstance(obj, Instance) and obj.container is not None:
            obj = obj.container
        if isinstance(obj, Sequential):
            if isinstance(index, slice):
                part = Sequential(obj.framework, obj.items[index], obj.names[index], obj.site,
                                  kind=obj.kind)
                return part
            item = obj.get(index)
            if item is not None:
                return item
            return Unknown(f"no module {index!r} in the container", Site(source, node))
        return Unknown(f"subscript of a value not known statically ({_reason(obj)})",
                       Site(source, node))

    def subscript_index(self, node: Any, scope: Scope, source: Any) -> Any:
        if len(node.slice) != 1:  # t[:, :, None]: a tuple of indices
            return tuple(self._index_element(e.slice, scope, source, node) for e in node.slice)
        return self._index_element(node.slice[0].slice, scope, source, node)

    def _index_element(self, element: Any, scope: Scope, source: Any, node: Any) -> Any:
        if type(element).__name__ == "Index":
            return self.eval(element.value, scope, source)
        parts = [None if p is None else self.eval(p, scope, source)
                 for p in (element.lower, element.upper, element.step)]
        if all(p is None or isinstance(p, int) for p in parts):
            return slice(*parts)
        return Unknown("slice", Site(source, node))

    def _eval_Lambda(self, node: Any, scope: Scope, source: Any) -> Any:
        return self.make_function(node, scope, source)

    def _eval_ListComp(self, node: Any, scope: Scope, source: Any) -> Any:
        return self._comprehension(node, scope, source, lambda s: [self.eval(node.elt, s, source)])

    _eval_GeneratorExp = _eval_ListComp
    _eval_SetComp = _eval_ListComp

    def _eval_DictComp(self, node: Any, scope: Scope, source: Any) -> Any:
        pairs = self._comprehension(node, scope, source, lambda s: [
            (self.eval(node.key, s, source), self.eval(node.value, s, source))])
        if isinstance(pairs, Unknown):
            return pairs
        return {k: v for k, v in pairs if hashable(k)}

    def _comprehension(self, node: Any, scope: Scope, source: Any, produce: Any) -> Any:
        out: list[Any] = []

        def run(clause: Any, inner: Scope) -> bool:
            items = self.iterate(self.eval(clause.iter, inner, source))
            if items is None:
                return False
            for item in items:
                self.assign(clause.target, item, inner, source)
                if not all(self.eval(cond.test, inner, source) is True for cond in clause.ifs):
                    continue
                if clause.inner_for_in is not None:
                    if not run(clause.inner_for_in, inner):
                        return False
                else:
                    out.extend(produce(inner))
            return True

        if not run(node.for_in, Scope(scope)):
            return Unknown("comprehension over a value not known statically", Site(source, node))
        return out

    def _eval_Call(self, node: Any, scope: Scope, source: Any) -> Any:
        func = self.eval(node.func, scope, source)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        arg_sites: dict[Any, Site] = {}
        for arg in node.args:
            value = self.eval(arg.value, scope, source)
            if arg.star == "*":
                items = self.iterate(value)
                if items is None:
                    return Unknown("*args not known statically", Site(source, node))
                args.extend(items)
            elif arg.star == "**":
                if not isinstance(value, dict):
                    return Unknown("**kwargs not known statically", Site(source, node))
                kwargs.update(value)
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = value
                arg_sites[arg.keyword.value] = Site(source, arg.value)
            else:
                arg_sites[len(args)] = Site(source, arg.value)
                args.append(value)
        if len(self.frames) == 1 and not self.loading:
            # Evaluated outside any module's code: the call of a model reference
            # `PATH::NAME(ARGS)`. An argument NAME does not take is the user's typo, which
            # binding would drop silently (`Net(widht=4)` analysed as `Net()`).
            self._check_arguments(func, args, kwargs, node, source)
        return self.call(func, args, kwargs, Site(source, node), arg_sites)

    def _check_arguments(self, func: Any, args: list[Any], kwargs: dict[str, Any], node: Any,
                         source: Any) -> None:
        """Raise InputError when a call passes arguments `func` does not accept."""
        shown = getattr(func, "name", "")
        if isinstance(func, Class):
            func, args = func.lookup("__init__"), [None, *args]
        if not isinstance(func, Function) or type(func.node).__name__ != "FunctionDef":
            return
        params = func.node.params
        positional = [p.name.value for p in (*params.posonly_params, *params.params)]
        keywords = [p.name.value for p in (*params.params, *params.kwonly_params)]
        problem = None
        if type(params.star_arg).__name__ != "Param" and len(args) > len(positional):
            given, takes = len(args), len(positional)
            if shown != func.name:  # a class: `self` is not the user's
                given, takes = given - 1, takes - 1
            problem = (f"takes {takes} positional argument{'s' if takes != 1 else ''} but "
                       f"{given} {'were' if given != 1 else 'was'} given")
        elif params.star_kwarg is None:
            unknown = [k for k in kwargs if k not in keywords]
            names = [p for p in dict.fromkeys(positional + keywords) if p != "self"]
            if unknown:
                problem = (f"has no parameter `{unknown[0]}` (its parameters: "
                           f"{', '.join(names) or 'none'})")
        if problem is not None:
            import libcst as cst

            call = cst.Module(body=[]).code_for_node(node)
            raise InputError(f"{source.path}::{call}: `{shown or func.name}` {problem}")

    # --- attribute access --------------------------------------------------------------

    def getattr(self, obj: Any, name: str, site: Site) -> Any:
        if isinstance(obj, FrameworkRef):
            child = obj.child(name)
            if child.path in MODELLED_NAMES:  # torch.jit.is_scripting and friends
                return Builtin(MODELLED_NAMES[child.path])
            return child
        if isinstance(obj, ExternalRef):
            return self._module_value(f"{obj.path}.{name}")
        if isinstance(obj, Instance):
            if name in obj.attrs:
                return obj.attrs[name]
            value = obj.cls.lookup(name)
            if isinstance(value, Function):
                if value.kind == "property":
                    return self.call_function(value, [obj], {}, site, receiver=obj)
                if value.kind == "staticmethod":
                    return value
                if value.kind == "classmethod":
                    return BoundMethod(obj.cls, value)
                return BoundMethod(obj, value)
            if value is not None:
                return value
            if name in ("add_module", "register_module"):
                return Builtin("module.add_module", receiver=obj)
            if name in ("register_buffer", "register_parameter", "add_weight"):
                return Builtin(f"module.{name}", receiver=obj)
            if obj.base_layer is not None:
                return self.layer_attribute(obj.base_layer, name, site)
            if obj.container is not None:
                if name in CONTAINER_METHODS:
                    return Builtin(f"container.{name}", receiver=obj.container)
                item = obj.container.get(name)
                if item is not None:
                    return item
            if name == "training":
                return False  # models are analysed as in inference (eval) mode
            if name == "__class__":
                return obj.cls
            if name == "__module__":
                return self.module_name(obj.cls.source.path)
            if name in ("modules", "children", "named_modules", "named_children", "parameters"):
                return Builtin(f"module.{name}", receiver=obj)
            return Unknown(f"attribute `{name}` is not set in the analysed code", site)
        if isinstance(obj, Class):
            if name == "__name__":
                return obj.name
            if name == "__module__":
                return self.module_name(obj.source.path)
            value = obj.lookup(name)
            if isinstance(value, Function) and value.kind == "classmethod":
                return BoundMethod(obj, value)
            return value if value is not None else Unknown(f"class attribute `{name}`", site)
        if isinstance(obj, Module):
            value = self.resolved(obj.scope.vars.get(name, MISSING))
            if value is MISSING and obj.file.endswith("__init__.py"):
                # A submodule of a package: `pkg.sub` after `import pkg`.
                value = self.import_module(name, 1, _FileRef(obj.file), site) or MISSING
            if value is MISSING and obj.scope.stars:
                value = self._from_stars(obj.scope, name)
            if value is MISSING:
                return Unknown(f"`{name}` is not defined in {obj.path}", site)
            return value
        if isinstance(obj, SuperProxy):
            mro = obj.instance.cls.mro()
            after = mro[mro.index(obj.after) + 1:] if obj.after in mro else []
            for cls in after:
                if name in cls.attrs and isinstance(cls.attrs[name], (Function, Builtin)):
                    return BoundMethod(obj.instance, cls.attrs[name])
            if name == "__init__" and container_kind(obj.instance.cls):
                return Builtin("container.__init__", receiver=obj.instance)
            if name == "__init__" and framework_kind(obj.instance.cls) == "layer":
                return Builtin("layer_base.__init__", receiver=obj.instance)
            if name == "__init__" and framework_kind(obj.instance.cls) in ("base", "model") \
                    and is_keras_class(obj.instance.cls):
                return Builtin("keras_layer.__init__", receiver=obj.instance)
            if name == "forward" and obj.instance.container is not None:
                return Builtin("container.forward", receiver=obj.instance)
            return Builtin("noop")  # the framework base class: nothing to model
        if isinstance(obj, Layer):
            return self.layer_attribute(obj, name, site)
        if isinstance(obj, (ConstTensor, Weight)):
            if name == "shape":
                return obj.shape if obj.shape is not None else Unknown("shape", site)
            if name == "data":
                return obj
            return Builtin(f"const_tensor.{name}", receiver=obj)
        if isinstance(obj, Tensor):
            if name == "shape":
                return _ShapeOf(obj)
            return Builtin(f"tensor.{name}", receiver=obj)
        if isinstance(obj, Sequential) and name in CONTAINER_METHODS:
            return Builtin(f"container.{name}", receiver=obj)
        if isinstance(obj, list) and name in ("append", "extend", "insert"):
            return Builtin(f"list.{name}", receiver=obj)
        if isinstance(obj, dict) and name in ("items", "keys", "values", "get"):
            return Builtin(f"dict.{name}", receiver=obj)
        if isinstance(obj, (str, list, tuple, dict)) and name in CONSTANT_METHODS:
            return Builtin(f"const.{name}", receiver=obj)
        if isinstance(obj, Unknown):
            return obj
        return Unknown(f"attribute `{name}` of {type(obj).__name__}", site)

    # --- calls -------------------------------------------------------------------------

    def call(self, func: Any, args: list[Any], kwargs: dict[str, Any], site: Site,
             arg_sites: dict[Any, Site] | None = None) -> Any:
        arg_sites = arg_sites or {}
        if isinstance(func, Function):
            return self.call_function(func, args, kwargs, site)
        if isinstance(func, BoundMethod):
            if isinstance(func.function, Builtin):  # a dataclass's generated __init__
                self.dataclass_init(func.function.receiver, func.receiver, args, kwargs, site)
                return None
            return self.call_function(func.function, [func.receiver, *args], kwargs, site,
                                      receiver=func.receiver)
        if isinstance(func, Class):
            return self.instantiate(func, args, kwargs, site)
        if isinstance(func, FrameworkRef):
            return self.call_framework(func, args, kwargs, site, arg_sites)
        if isinstance(func, (Layer, Sequential, Instance, KerasModel)):
            tensors = _tensors_in(args[:1])
            if tensors:
                return self.apply(func, args, kwargs, site)
            return Unknown("module called without a tensor", site)
        if isinstance(func, Builtin):
            return self.call_builtin(func, args, kwargs, site, arg_sites)
        if isinstance(func, Partial):
            return self.call(func.func, [*func.args, *args], {**func.kwargs, **kwargs}, site)
        if isinstance(func, ExternalRef):
            func = Unknown(f"`{func.path}` comes from code portlint does not analyse", site)
        tensors = _tensors_in(args) + _tensors_in(list(kwargs.values()))
        if tensors:
            framework = self.builder.drafts[tensors[0].node_id].node.framework
            return self.builder.opaque(framework, f"call not modelled: {_reason(func)}",
                                       tensors, site, self._path("?"))
        return Unknown(f"call of a value not known statically ({_reason(func)})", site)

    def call_function(self, fn: Function, args: list[Any], kwargs: dict[str, Any], site: Site,
                      receiver: Any = None) -> Any:
        if len(self.frames) > MAX_DEPTH:
            self.builder.note_unresolved(f"call depth limit reached in `{fn.name}`", site)
            return Unknown("recursion limit", site)
        local = Scope(fn.scope)
        bound = self.bind_params(fn, args, kwargs, site)
        local.vars.update(bound)
        self.frames.append(_Frame(fn, receiver))
        try:
            if type(fn.node).__name__ == "Lambda":
                return self.eval(fn.node.body, local, fn.source)
            body = fn.node.body
            statements = body.body if hasattr(body, "body") else [body]
            self.exec_block(statements, local, fn.source)
        except _Return as ret:
            return ret.value
        except (_Stop, _Break, _Continue):
            return Unknown(f"`{fn.name}` raised or left a loop early", site)
        finally:
            self.frames.pop()
        return None

    def bind_params(self, fn: Function, args: list[Any], kwargs: dict[str, Any], site: Site) -> dict[str, Any]:
        params = fn.node.params
        kwargs = dict(kwargs)
        bound: dict[str, Any] = {}
        remaining = list(args)
        for param in list(params.posonly_params) + list(params.params):
            name = param.name.value
            if remaining:
                bound[name] = remaining.pop(0)
            elif name in kwargs:
                bound[name] = kwargs.pop(name)
            else:
                bound[name] = self._default(fn, param, site)
        star = params.star_arg
        if type(star).__name__ == "Param":
            bound[star.name.value] = tuple(remaining)
        for param in params.kwonly_params:
            name = param.name.value
            bound[name] = kwargs.pop(name) if name in kwargs else self._default(fn, param, site)
        if params.star_kwarg is not None:
            bound[params.star_kwarg.name.value] = dict(kwargs)
        return bound

    def _default(self, fn: Function, param: Any, site: Site) -> Any:
        """A parameter's default; for a required `config: SomeConfig` parameter, an
        instance of that class built from its own defaults (Hugging Face style)."""
        name = param.name.value
        if name in fn.defaults:
            return fn.defaults[name]
        annotation = getattr(param.annotation, "annotation", None)
        if annotation is not None:
            cls = self.eval(annotation, fn.scope, fn.source)
            if isinstance(cls, Class) and framework_kind(cls) is None:
                return self.instantiate(cls, [], {}, site)
        return Unknown(f"argument `{name}` of `{fn.name}` not given", site)

    def instantiate(self, cls: Class, args: list[Any], kwargs: dict[str, Any], site: Site) -> Any:
        instance = Instance(cls)
        init = cls.lookup("__init__")
        if isinstance(init, Function):
            self.call_function(init, [instance, *args], kwargs, site, receiver=instance)
        elif isinstance(init, Builtin) and init.name == "dataclass.__init__":
            self.dataclass_init(init.receiver, instance, args, kwargs, site)
        elif init is None and (args or kwargs):  # only the framework base's __init__
            base_init = self.getattr(SuperProxy(instance, cls.mro()[-1]), "__init__", site)
            if isinstance(base_init, Builtin):
                self.call_builtin(base_init, args, kwargs, site, {})
        return instance

    def dataclass_init(self, cls: Class, instance: Instance, args: list[Any],
                       kwargs: dict[str, Any], site: Site) -> None:
        """The __init__ @dataclass writes: fields in order, class-body defaults."""
        fields: list[str] = []
        for klass in reversed(cls.mro()):
            fields += [f for f in getattr(klass, "fields", []) if f not in fields]
        values = dict(zip(fields, args))
        values.update({k: v for k, v in kwargs.items() if k in fields})
        for name in fields:
            if name in values:
                instance.attrs[name] = values[name]
            elif cls.lookup(name) is not None:
                instance.attrs[name] = cls.lookup(name)
            else:
                instance.attrs[name] = Unknown(f"field `{name}` not given", site)
        post_init = cls.lookup("__post_init__")
        if isinstance(post_init, Function):
            self.call_function(post_init, [instance], {}, site, receiver=instance)

    def call_framework(self, ref: FrameworkRef, args: list[Any], kwargs: dict[str, Any],
                       site: Site, arg_sites: dict[Any, Site]) -> Any:
        resolved = resolve(ref.path)
        if resolved.framework == ir.TORCH and not _tensors_in(args) and (
                resolved.kind == "constant_function"
                or any(isinstance(a, ConstTensor) for a in _flat(args))):
            result = constant_tensors.call(resolved.name, args, kwargs)
            if result is not None:
                return result
        if resolved.kind == "layer":
            return self.construct_layer(resolved, args, kwargs, site, arg_sites)
        if resolved.kind == "sequential":
            return self.construct_sequential(resolved.framework, args, kwargs, site)
        if resolved.kind == "module_list":
            return self.construct_container(resolved.name, args, kwargs, site)
        if resolved.kind == "input":
            shape = kwargs.get("shape", args[0] if args else None)
            name = kwargs.get("name") if isinstance(kwargs.get("name"), str) else "input_layer"
            return self.builder.add_input(resolved.framework, shape, site, name=name)
        if resolved.kind == "model":
            inputs = kwargs.get("inputs", args[0] if args else None)
            outputs = kwargs.get("outputs", args[1] if len(args) > 1 else None)
            if inputs is None and outputs is None:
                return Builtin("noop")  # `super().__init__()` style construction
            return KerasModel(_tensors_in([inputs]), _tensors_in([outputs]), site)
        if resolved.kind == "function":
            return self.apply_function(resolved, args, kwargs, site, arg_sites)
        if resolved.kind == "weight_call":
            applied = self.apply_weight_call(resolved, args, kwargs, site, arg_sites)
            if applied is not None:
                return applied
        if resolved.kind == "tensor_factory":
            dims = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
            if resolved.name == "full":
                dims = args[0] if args else ()
            if not isinstance(dims, (tuple, list)):  # torch.full(size_not_known, ...)
                dims = (dims,)
            shape = tuple(dims) if all(isinstance(d, int) for d in dims) else None
            return ConstTensor(shape)
        if resolved.kind == "parameter":
            data = args[0] if args else kwargs.get("data")
            shape = data.shape if isinstance(data, (ConstTensor, Weight)) else None
            trainable = kwargs.get("requires_grad", args[1] if len(args) > 1 else True)
            return Weight(shape, trainable=trainable is not False)
        if resolved.kind == "config":  # keras.initializers.Constant(0.2): a setting, as text
            shown = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
            return f"{resolved.name}({shown})"
        if resolved.kind == "helper":
            def shape_of(value: Any) -> Any:
                return self.builder.drafts[value.node_id].node.out_shape if isinstance(value, Tensor) else None
            try:
                return K.HELPERS[resolved.name](args, kwargs, shape_of)
            except Exception:  # a helper met arguments outside its modelled use
                return Unknown(f"`{ref.path}` with these arguments", site)
        if resolved.kind == "activation":
            tensors = _tensors_in(args[:1])
            if tensors:
                return self.builder.apply_activation(resolved.framework, ref.path.rsplit(".", 1)[-1],
                                                     resolved.activation, tensors, site,
                                                     self._path(resolved.name))
            return ref
        if resolved.framework == ir.TORCH and resolved.name.startswith("nn.init."):
            self.builder.custom_init = True
            return None
        tensors = _tensors_in(args) + _tensors_in(list(kwargs.values()))
        if tensors:
            framework = resolved.framework or self.builder.drafts[tensors[0].node_id].node.framework
            # A framework function (torch.roll, tf.image.resize): it holds no weights.
            return self.builder.opaque(framework, f"`{ref.path}` is not in portlint's tables",
                                       tensors, site, self._path(ref.path.rsplit(".", 1)[-1]),
                                       functional=resolved.kind != "layer")
        return Unknown(f"`{ref.path}` is not in portlint's tables", site)

    def construct_layer(self, resolved: Resolved, args: list[Any], kwargs: dict[str, Any],
                        site: Site, arg_sites: dict[Any, Site]) -> Layer:
        spec = resolved.spec
        aliases = K.ALIASES.get(resolved.name, {}) if resolved.framework == ir.KERAS else {}
        bound, bound_sites = bind_arguments(spec.params, args, kwargs, arg_sites, aliases)
        self.layer_keys += 1
        if spec.op == "wrapper":
            inner = bound.get("layer")
            if not isinstance(inner, Layer):
                return Unknown(f"`{resolved.name}` of a layer not known statically", site)
            spec, bound, bound_sites = wrapped_layer(spec, bound, bound_sites, inner)
        layer = Layer(framework=resolved.framework, type_name=resolved.name, spec=spec,
                      args=bound, site=site, arg_sites=bound_sites, key=self.layer_keys)
        if spec is not resolved.spec:
            layer.type_name = f"{resolved.name}({inner.type_name})"
        if resolved.framework == ir.KERAS:
            name = bound.get("name")
            layer.name = name if isinstance(name, str) else self.builder.keras_auto_name(resolved.name)
        return layer

    def construct_sequential(self, framework: str, args: list[Any], kwargs: dict[str, Any],
                             site: Site) -> Sequential:
        names: list[str] = []
        items: list[Any] = []
        if framework == ir.KERAS:
            layers = args[0] if args else kwargs.get("layers", [])
            items = list(self.iterate(layers) or [])
        elif len(args) == 1 and isinstance(args[0], dict):
            for key, value in args[0].items():
                names.append(str(key))
                items.append(value)
        else:
            items = list(args)
        seq = Sequential(framework=framework, items=[], names=[], site=site)
        if framework == ir.KERAS and isinstance(kwargs.get("name"), str):
            seq.name = kwargs["name"]
        for index, item in enumerate(items):
            self.sequential_add(seq, item, names[index] if names else None)
        return seq

    def construct_container(self, kind_name: str, args: list[Any], kwargs: dict[str, Any],
                            site: Site) -> Any:
        """nn.ModuleList(iterable) / nn.ModuleDict(mapping)."""
        kind = "dict" if kind_name == "ModuleDict" else "list"
        container = Sequential(ir.TORCH, [], [], site, kind=kind)
        source = args[0] if args else kwargs.get("modules")
        if source is None:
            return container
        if kind == "dict":
            pairs = list(source.items()) if isinstance(source, dict) else self.iterate(source)
            for pair in pairs or []:
                if isinstance(pair, (tuple, list)) and len(pair) == 2:
                    self.sequential_add(container, pair[1], str(pair[0]))
        else:
            for item in self.iterate(source) or []:
                self.sequential_add(container, item)
        return container

    def sequential_add(self, seq: Sequential, item: Any, name: str | None = None) -> None:
        if isinstance(item, Tensor):  # keras.Input(...) as the first item
            seq.input_shape = self.builder.drafts[item.node_id].node.attrs.get("shape")
            return
        if isinstance(item, Layer) and item.type_name == "InputLayer":
            seq.input_shape = item.args.get("shape")
            return
        if not seq.items and isinstance(item, Layer) and "input_shape" in item.args:
            seq.input_shape = item.args["input_shape"]
        label = name if name is not None else str(len(seq.items))
        if seq.framework == ir.TORCH:
            # Items of an nn.Sequential/ModuleDict subclass belong to the instance itself.
            attach(item, seq.owner or seq, label)
        seq.items.append(item)
        seq.names.append(label)

    def apply_function(self, resolved: Resolved, args: list[Any], kwargs: dict[str, Any],
                       site: Site, arg_sites: dict[Any, Site]) -> Any:
        spec = resolved.spec
        bound, bound_sites = bind_arguments(spec.params, args, kwargs, arg_sites)
        # The data argument: `input` (F.relu), `tensors` (torch.cat), `inputs` (keras add).
        tensors = _tensors_in([bound.pop(name, None) for name in ("input", "tensors", "inputs")])
        if not tensors:
            return Unknown(f"`{resolved.name}` called without a tensor", site)
        if spec.op == "chunk":
            return self._chunks(resolved.framework, f"torch.{resolved.name}", spec, bound,
                                bound_sites, tensors, site)
        prefix = {"keras": "layers.", "torch": "torch." if resolved.name in T.ROOT_FUNCTIONS else "F."}
        return self.builder.apply_function(resolved.framework,
                                           prefix[resolved.framework] + resolved.name,
                                           spec, bound, bound_sites, tensors, site,
                                           self._path(resolved.name))

    def apply_weight_call(self, resolved: Resolved, args: list[Any], kwargs: dict[str, Any],
                          site: Site, arg_sites: dict[Any, Site]) -> Any:
        """`F.conv2d(x, self.weight, self.bias, stride, padding, ...)` with the weights of
        the module being applied: that module, with the call's stride/padding/... (a
        Conv2dSame pads in forward and convolves with padding 0). None: not such a call."""
        bound, _ = bind_arguments(T.WEIGHT_CALLS[resolved.name], args, kwargs, arg_sites)
        weight, tensors = bound.get("weight"), _tensors_in([bound.get("input")])
        layer = weight.owner if isinstance(weight, ConstTensor) else None
        if not isinstance(layer, Layer) or not tensors:
            return None
        overrides = {k: v for k, v in bound.items() if k not in ("input", "weight", "bias")}
        if "bias" in bound and bound["bias"] is None:
            overrides["bias"] = False
        applied = dataclasses.replace(
            layer, args={**layer.args, **overrides},
            arg_sites={k: v for k, v in layer.arg_sites.items() if k not in overrides})
        # Its weights are counted on this node, not as the module's own (register_owned).
        self.builder.owned = [o for o in self.builder.owned if o[2] is not layer.site]
        path = module_path(self.module_stack[-1]) if self.module_stack else self._path(resolved.name)
        return self.builder.apply_layer(applied, tensors, site, path)

    # --- applying modules to tensors ---------------------------------------------------

    def apply(self, module: Any, args: list[Any], kwargs: dict[str, Any], site: Site) -> Any:
        if isinstance(module, Layer):
            tensors = _tensors_in(args[:1])
            return self.builder.apply_layer(module, tensors, site, self._layer_path(module))
        if isinstance(module, Sequential):
            x: Any = args[0]
            self.module_stack.append(module)
            try:
                for item in module.items:
                    # Each item is applied where it is listed in the Sequential.
                    item_site = getattr(item, "site", None) or site
                    x = self.call(item, [x], {}, item_site)
            finally:
                self.module_stack.pop()
            return x
        if isinstance(module, Instance):
            method = module.cls.lookup("forward") or module.cls.lookup("call")
            if module.called_on is None and isinstance(args[0], Tensor):
                module.called_on = args[0]
            if not isinstance(method, Function) and module.base_layer is not None:
                # A subclass of a framework layer without its own forward is that layer:
                # its weights are counted on the layer's node, not again as its own.
                module.built = True
                attach(module.base_layer, module.parent, module.local_name or "")
                module.base_layer.local_name, module.base_layer.parent = module.local_name, module.parent
                return self.apply(module.base_layer, args, kwargs, site)
            if not isinstance(method, Function):
                if module.container is not None:  # an nn.Sequential subclass without forward
                    self.module_stack.append(module)
                    try:
                        return self.apply(module.container, args, kwargs, site)
                    finally:
                        self.module_stack.pop()
                return self.builder.opaque(ir.TORCH, f"`{module.cls.name}` has no forward/call",
                                           _tensors_in(args), site, self._path(module.cls.name))
            self.register_owned(module, args, site)
            self.module_stack.append(module)
            try:
                return self.call_function(method, [module, *args], kwargs, site, receiver=module)
            finally:
                self.module_stack.pop()
        tensors = _tensors_in(args)
        return self.builder.opaque(ir.KERAS, "nested model applied as a layer is not expanded yet",
                                   tensors, site, "?")

    def set_layer_attribute(self, layer: Layer, name: str, value: Any, site: Site) -> None:
        """`self.bn.momentum = 0.01` after construction: the layer is applied with it.
        `self.fc.bias = None` drops the bias; replacing or tying a weight, or freezing a
        Keras layer, is reported as not followed (the counts would be wrong)."""
        if layer.framework == ir.TORCH and name == "bias" and value is None:
            layer.args["bias"] = False
            return
        if name in layer.spec.params and name not in ("weight", "bias"):
            layer.args[name] = value
            layer.arg_sites[name] = site
            return
        self.builder.note_unresolved(
            f"`{layer.type_name}.{name}` set after construction is not followed "
            f"(weights tied, replaced or frozen: counts may differ)", site)

    def layer_attribute(self, layer: Layer, name: str, site: Site) -> Any:
        """`conv.out_channels`, `bn.eps`, `linear.bias`: from the constructor arguments."""
        spec = layer.spec
        if name in ("weight", "bias") and layer.framework == ir.TORCH:
            flag = layer.args.get("bias", spec.default("bias")) if name == "bias" else True
            affine = layer.args.get("affine", spec.default("affine"))
            if flag is False or affine is False:
                return None
            return ConstTensor(_torch_weight_shape(layer, name), owner=layer)
        if name in spec.params or name in spec.defaults:
            value = layer.args.get(name, spec.default(name))
            if value is REQUIRED:
                return Unknown(f"`{name}` not given", site)
            rank = spec.fixed.get("rank")
            if layer.framework == ir.TORCH and name in T.TUPLE_ATTRIBUTES and isinstance(rank, int) \
                    and isinstance(value, int) and not isinstance(value, bool):
                return (value,) * rank  # torch modules store `stride=2` as (2, 2)
            return value
        if name == "name" and layer.name:
            return layer.name
        return Unknown(f"attribute `{name}` of {layer.type_name}", site)

    def register_owned(self, module: Instance, args: list[Any], site: Site) -> None:
        """Count a module's own weights once, when it is first applied; Keras layers are
        built first (`build(input_shape)` is where they call add_weight)."""
        if module.built:
            return
        module.built = True
        build = module.cls.lookup("build")
        if isinstance(build, Function) and args and isinstance(args[0], Tensor):
            self.call_function(build, [module, self.full_shape(args[0]) or Unknown("shape", site)],
                               {}, site, receiver=module)
        weights = list(module.own_weights)
        weights += [v for v in module.attrs.values() if isinstance(v, Weight) and v not in weights]
        if module.base_layer is not None:  # its forward calls F.*: the base holds the weights
            counts = self.layer_counts(module.base_layer)
            self.builder.owned.append((self._owner_name(module), counts, module.base_layer.site))
        if not weights:
            return
        trainable = state = 0
        for weight in weights:
            if weight.shape is None:
                self.builder.owned.append((self._owner_name(module), None, Site(module.cls.source, module.cls.node)))
                return
            if weight.trainable and not weight.buffer:
                trainable += math.prod(weight.shape)
            else:
                state += math.prod(weight.shape)
        self.builder.owned.append((self._owner_name(module), ir.Counts(trainable, state),
                                   Site(module.cls.source, module.cls.node)))

    def layer_counts(self, layer: Layer) -> Any:
        """Weights of a torch layer from its arguments alone (no input shape needed)."""
        from ..shapes.counting import count

        attrs, _ = self.builder.canonical_attrs(layer.spec, layer.args, {})
        node = ir.Node(id=-1, op=layer.spec.op, framework=layer.framework,
                       layer_type=layer.type_name, name="", attrs=attrs)
        return count(node, layer.framework)

    def count_unused(self, root: Instance, site: Site) -> None:
        """Modules registered in the tree but never applied in forward (an auxiliary
        classifier used only in training) still hold parameters."""
        for module in module_tree(root):
            if isinstance(module, Layer) and module.applied == 0 and module.framework == ir.TORCH:
                self.builder.owned.append((module_path(module) or module.type_name,
                                           self.layer_counts(module), module.site))
            elif isinstance(module, Instance) and not module.built:
                self.register_owned(module, [], site)

    def _owner_name(self, module: Instance) -> str:
        """Keras: the layer name; torch: the module path ("" for the root, as torch's
        named_modules() has it)."""
        if module.keras_name:
            return module.keras_name
        return module_path(module)

    def _path(self, leaf: str) -> str:
        """A name for a step inside the module being applied: `layer1.0.relu`."""
        prefix = module_path(self.module_stack[-1]) if self.module_stack else ""
        return f"{prefix}.{leaf}" if prefix else leaf

    def _layer_path(self, layer: Layer) -> str:
        if layer.framework == ir.KERAS:
            return layer.name or layer.type_name
        return module_path(layer) or self._path(layer.type_name)

    # --- built-ins ---------------------------------------------------------------------

    def call_builtin(self, fn: Builtin, args: list[Any], kwargs: dict[str, Any], site: Site,
                     arg_sites: dict[Any, Site]) -> Any:
        name = fn.name
        if name == "noop":
            return None
        if name.startswith("tensor."):
            return self.tensor_method(fn.receiver, name[len("tensor."):], args, kwargs, site, arg_sites)
        if name.startswith("container."):
            return self.container_method(fn.receiver, name[len("container."):], args, kwargs, site)
        if name == "module.add_module":
            if len(args) == 2 and isinstance(args[0], str):
                owner = fn.receiver
                if owner.container is not None:
                    self.sequential_add(owner.container, args[1], args[0])
                else:
                    attach(args[1], owner, args[0])
                    owner.attrs[args[0]] = args[1]
            return None
        if name in ("module.modules", "module.named_modules"):
            found = module_tree(fn.receiver)
            return found if name == "module.modules" else [(module_path(m), m) for m in found]
        if name in ("module.children", "module.named_children"):
            children = [v for v in fn.receiver.attrs.values() if isinstance(v, (Layer, Sequential, Instance))]
            if fn.receiver.container is not None:  # its items may be values, not modules
                children += [i for i in fn.receiver.container.items
                             if isinstance(i, (Layer, Sequential, Instance))]
            return children if name == "module.children" else [(c.local_name, c) for c in children]
        if name == "module.parameters":
            return Unknown("parameters() are not enumerated statically", site)
        if name == "layer_base.__init__":  # class LayerNorm2d(nn.LayerNorm): super().__init__(...)
            base = next(b for b in fn.receiver.cls.framework_bases() if resolve(b.path).kind == "layer")
            fn.receiver.base_layer = self.construct_layer(resolve(base.path), args, kwargs, site, {})
            return None
        if name == "keras_layer.__init__":
            instance = fn.receiver
            given = kwargs.get("name")
            instance.keras_name = given if isinstance(given, str) else \
                self.builder.keras_auto_name(instance.cls.name)
            return None
        if name.startswith("const_tensor."):
            method = name[len("const_tensor."):]
            if isinstance(fn.receiver, Weight):
                return fn.receiver if method in T.INPLACE_INIT_METHODS else Unknown(
                    f"`.{method}()` of a weight", site)
            result = constant_tensors.method(fn.receiver, method, args)
            if result is not None:
                return result
            if method in T.INPLACE_INIT_METHODS:
                return fn.receiver
            return Unknown(f"`.{method}()` of a constant tensor", site)
        if name in ("module.register_buffer", "module.register_parameter"):
            if len(args) >= 2 and isinstance(args[0], str):
                data = args[1]
                shape = data.shape if isinstance(data, (ConstTensor, Weight)) else None
                buffer = name.endswith("buffer")
                persistent = kwargs.get("persistent", args[2] if len(args) > 2 else True)
                if data is not None and (not buffer or persistent is not False):
                    fn.receiver.attrs[args[0]] = Weight(shape, trainable=not buffer, buffer=buffer)
            return None
        if name == "module.add_weight":  # Keras Layer.add_weight(shape=..., trainable=...)
            shape = kwargs.get("shape", args[0] if args else None)
            weight = Weight(tuple(shape) if isinstance(shape, (tuple, list)) else None,
                            trainable=kwargs.get("trainable", True) is not False)
            if weight.shape is not None and not all(isinstance(d, int) for d in weight.shape):
                weight.shape = None
            fn.receiver.own_weights.append(weight)
            return weight
        if name == "partial":
            if not args:
                return Unknown("partial() without a function", site)
            return Partial(args[0], list(args[1:]), dict(kwargs))
        if name in ("list.append", "list.extend", "list.insert"):
            added = [None] if name != "list.extend" else \
                (self.iterate(args[0]) or []) if args else []
            if len(fn.receiver) + len(added) > MAX_SIZE:  # `x.extend(x)` in a loop
                raise BudgetExceeded(f"a list grew past {MAX_SIZE:,} items")
            self._charge(len(added))
        if name == "list.append":
            fn.receiver.append(args[0] if args else None)
            return None
        if name == "list.extend":
            fn.receiver.extend(added)
            return None
        if name == "list.insert" and len(args) == 2 and isinstance(args[0], int):
            fn.receiver.insert(args[0], args[1])
            return None
        if name == "const.tolist":
            return list(fn.receiver)
        if name.startswith("const."):
            if isinstance(fn.receiver, str) and not all(is_constant(a) for a in [*args, *kwargs.values()]):
                return Unknown(f"`.{name[len('const.'):]}()` with values not known statically", site)
            method = name[len("const."):]
            if isinstance(fn.receiver, str) and _method_too_big(fn.receiver, method, args, kwargs):
                return Unknown(f"`.{method}()` would build a string too large to analyse", site)
            try:
                value = getattr(fn.receiver, method)(*args, **kwargs)
            except Exception:
                return Unknown(f"`.{name[len('const.'):]}()` on these values", site)
            return self._sized(value, site)
        if name == "dict.items":
            return list(fn.receiver.items())
        if name == "dict.keys":
            return list(fn.receiver.keys())
        if name == "dict.values":
            return list(fn.receiver.values())
        if name == "dict.get":
            return fn.receiver.get(args[0], args[1] if len(args) > 1 else None) if args and hashable(args[0]) else None
        if name == "super":
            return self._super(args, site)
        if name == "OrderedDict":
            if not args:
                return dict(kwargs)
            items = self.iterate(args[0]) if not isinstance(args[0], dict) else list(args[0].items())
            try:
                return dict(items) if items is not None else Unknown("OrderedDict items", site)
            except (TypeError, ValueError):
                return Unknown("OrderedDict items", site)
        if name in ("copy.copy", "copy.deepcopy") and len(args) == 1 and isinstance(args[0], Instance):
            return Instance(args[0].cls, attrs=dict(args[0].attrs))  # a configuration object
        if name == "isinstance" and len(args) == 2:
            return self._isinstance(args[0], args[1], site)
        if name == "setattr" and len(args) == 3 and isinstance(args[0], Instance) and isinstance(args[1], str):
            attach(args[2], args[0], args[1])
            args[0].attrs[args[1]] = args[2]
            return None
        if name in ("getattr", "hasattr") and len(args) >= 2 and isinstance(args[1], str):
            value = self.getattr(args[0], args[1], site)
            if name == "hasattr":
                return Unknown("hasattr", site) if isinstance(value, Unknown) and not isinstance(args[0], Instance) \
                    else not isinstance(value, Unknown)
            if isinstance(value, Unknown) and len(args) == 3:
                return args[2]
            return value
        if name in ("print", "isinstance", "hasattr", "getattr", "setattr"):
            return Unknown(f"`{name}(...)`", site)
        impl = PURE_BUILTINS.get(name)
        if impl is not None:
            if _builtin_too_big(name, args, kwargs):
                return Unknown(f"`{name}` of a value too large to analyse", site)
            plain = []
            for arg in args:
                if isinstance(arg, Unknown):
                    return Unknown(f"`{name}` of a value not known statically ({arg.reason})", site)
                if isinstance(arg, (Sequential, Instance, _ShapeOf)):  # containers iterate
                    items = self.iterate(arg)
                    if items is None:
                        return Unknown(f"`{name}` of a value not known statically", site)
                    arg = items
                plain.append(arg)
            try:
                value = impl(*plain, **kwargs)
            except Exception:
                return Unknown(f"`{name}` on these values", site)
            return self._sized(value, site)
        return Unknown(f"built-in `{name}` not modelled", site)

    def container_method(self, owner: Any, method: str, args: list[Any], kwargs: dict[str, Any],
                         site: Site) -> Any:
        """Methods of Sequential/ModuleList/ModuleDict values and of their subclasses."""
        if method == "__init__":  # super().__init__(...) of an nn.Sequential subclass
            kind = container_kind(owner.cls)
            if kind == "sequential":
                container = self.construct_sequential(ir.TORCH, args, kwargs, site)
            else:
                container = self.construct_container(kind, args, kwargs, site)
            container.kind = "sequential" if kind == "sequential" else container.kind
            owner.container = container
            container.owner = owner
            for item in container.items:
                if getattr(item, "parent", None) is container:
                    item.parent = owner
            return None
        if method == "forward":
            return self.apply(owner.container, args, kwargs, site)
        if method in ("add", "append") and args:
            self.sequential_add(owner, args[0])
        elif method == "extend" and args:
            for item in self.iterate(args[0]) or []:
                self.sequential_add(owner, item)
        elif method == "insert" and len(args) == 2:
            self.sequential_add(owner, args[1])  # position ignored: rare in model code
        elif method in ("add_module", "register_module") and len(args) == 2:
            self.sequential_add(owner, args[1], str(args[0]))
        elif method == "items":
            return list(zip(owner.names, owner.items))
        elif method == "keys":
            return list(owner.names)
        elif method == "values" or method == "children":
            return list(owner.items)
        elif method == "update" and args and isinstance(args[0], dict):
            for key, value in args[0].items():
                self.sequential_add(owner, value, str(key))
        return None

    def _isinstance(self, value: Any, types: Any, site: Site) -> Any:
        """isinstance() against built-in types, for values the interpreter knows."""
        candidates = types if isinstance(types, tuple) else (types,)
        python_types = []
        for candidate in candidates:
            if isinstance(candidate, (Class, FrameworkRef)):
                if instance_of(value, candidate):
                    return True
                continue
            if isinstance(candidate, ExternalRef) and isinstance(
                    value, (Tensor, Layer, Sequential, Instance, Function, Class)):
                continue  # the model's own values are never instances of outside classes
            if not (isinstance(candidate, Builtin) and candidate.name in PYTHON_TYPES):
                return Unknown("`isinstance(...)` against a class", site)
            python_types.append(PYTHON_TYPES[candidate.name])
        if isinstance(value, (Tensor, Layer, Sequential, Instance, Weight, ConstTensor)):
            return False
        if not python_types:
            return False
        if is_constant(value):
            return isinstance(value, tuple(python_types))
        return Unknown("`isinstance(...)` of a value not known statically", site)

    def _super(self, args: list[Any], site: Site) -> Any:
        if len(args) == 2 and isinstance(args[0], Class) and isinstance(args[1], Instance):
            return SuperProxy(args[1], args[0])
        frame = self.frames[-1]
        owner = frame.function.owner if frame.function is not None else None
        if isinstance(frame.receiver, Instance) and isinstance(owner, Class):
            return SuperProxy(frame.receiver, owner)
        return Unknown("super() outside a method", site)

    def tensor_method(self, tensor: Tensor, method: str, args: list[Any], kwargs: dict[str, Any],
                      site: Site, arg_sites: dict[Any, Site]) -> Any:
        from ..knowledge import torch as T

        if method in T.IDENTITY_METHODS:
            return tensor
        if method in T.SHAPE_METHODS:
            dims = self.full_shape(tensor)
            if method == "size" and args == [0]:
                return BATCH
            if dims is None:
                return Unknown("tensor size not known statically", site)
            if method == "dim":
                return len(dims)
            if method == "size":
                return dims if not args else dims[args[0]] if isinstance(args[0], int) else Unknown("size", site)
            return Unknown(f"`.{method}()`", site)
        spec = T.TENSOR_METHODS.get(method)
        framework = self.builder.drafts[tensor.node_id].node.framework
        if spec is None:
            return self.builder.opaque(framework, f"tensor method `.{method}()` not modelled",
                                       [tensor, *_tensors_in(args)], site, self._path(method),
                                       functional=True)
        if spec.takes_varargs:  # x.view(n, -1) and x.view((n, -1)) alike
            shape = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else tuple(args)
            args = [tuple(shape)]
        bound, sites = bind_arguments(spec.params, args, kwargs, arg_sites)
        if spec.op == "chunk":
            return self._chunks(framework, f".{method}()", spec, bound, sites, [tensor], site)
        return self.builder.apply_function(framework, f".{method}()", spec, bound, sites,
                                           [tensor], site, self._path(method))

    # --- helpers -----------------------------------------------------------------------

    def _chunks(self, framework: str, type_name: str, spec: LayerSpec, bound: dict[str, Any],
                sites: dict[str, Site], tensors: list[Tensor], site: Site) -> Any:
        """x.chunk(n): n tensors, one node each."""
        count = bound.get("chunks")
        if not isinstance(count, int) or not 0 < count <= 64:
            return self.builder.opaque(framework, "chunk count not known statically", tensors,
                                       site, self._path("chunk"))
        return tuple(self.builder.apply_function(framework, type_name, spec, {**bound, "index": i},
                                                 sites, tensors, site, self._path(f"chunk{i}"))
                     for i in range(count))

    def full_shape(self, tensor: Tensor) -> tuple | None:
        """The tensor's shape with the batch dimension first, when known now."""
        shape = self.builder.drafts[tensor.node_id].node.out_shape
        return None if shape is None else (BATCH, *shape)

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
        elif isinstance(value, _ShapeOf):
            dims = self.full_shape(value.tensor)
            return list(dims) if dims is not None else None
        else:
            return None
        return items

    def note(self, reason: str, source: Any, node: Any) -> None:
        # Only code that runs while a model is built matters to the user.
        if len(self.frames) > 1:
            self.builder.note_unresolved(reason, Site(source, node))

    def _tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise BudgetExceeded("evaluation step budget exhausted")
        if (self.deadline is not None and not self.steps % 1024
                and time.process_time() > self.deadline):
            raise BudgetExceeded("time budget exhausted")

    def _charge(self, items: int) -> None:
        """Building `items` elements costs steps: the total memory constant folding can
        take stays bounded, however many values a loop builds."""
        if items >= VALUE_COST:
            self.steps += items // VALUE_COST
            self._tick()

    def _sized(self, value: Any, site: Site) -> Any:
        """`value` as computed, or Unknown when beyond the size limits (see MAX_SIZE)."""
        if _oversized(value):
            return Unknown("a value too large to analyse", site)
        if isinstance(value, _SIZED):
            self._charge(len(value))
        return value


# Facts about a module's top level, from the stdlib `ast` (nothing is run), cached per
# file version: (mtime_ns, size) -> (what it re-exports, the names it may bind).
_SCANNED: dict[str, tuple[tuple[int, int], dict[str, tuple[str, int, str]], frozenset[str] | None]] = {}


def _scanned(path: str) -> tuple[dict[str, tuple[str, int, str]], frozenset[str] | None] | None:
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


def _reexports(init_path: str) -> dict[str, tuple[str, int, str]]:
    """What a package's `__init__.py` imports from its modules, by the name it binds:
    (module, level, name in that module)."""
    facts = _scanned(init_path)
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


def _may_bind(path: str, name: str) -> bool:
    """Whether the module at `path` may bind `name` at its top level (a def, class,
    assignment or import of it, or a star import of its own). Noted as read (the result
    cache)."""
    facts = _scanned(path)
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


class _FileRef:
    """Stands for a source file when only its path is needed."""

    def __init__(self, path: str) -> None:
        self.path = path


class _ShapeOf:
    """`x.shape`: only the batch entry is meaningful during extraction."""

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor


def _reason(value: Any) -> str:
    if isinstance(value, Unknown):
        return value.reason
    return type(value).__name__


def _flat(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        out.extend(_flat(list(value)) if isinstance(value, (list, tuple)) else [value])
    return out


def _tensors_in(values: list[Any]) -> list[Tensor]:
    found: list[Tensor] = []
    for value in values:
        if isinstance(value, Tensor):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(_tensors_in(list(value)))
    return found


def static_index(index: Any) -> bool:
    """`x[:, -1]`, `h[-1]`, `x[..., 0]`: integers, plain slices, None and Ellipsis."""
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if isinstance(item, slice):
            if not all(v is None or (isinstance(v, int) and not isinstance(v, bool))
                       for v in (item.start, item.stop, item.step)):
                return False
        elif not (item is None or item is Ellipsis
                  or (isinstance(item, int) and not isinstance(item, bool))):
            return False
    return True


def wrapped_layer(wrapper: LayerSpec, bound: dict[str, Any], sites: dict[str, Site],
                  inner: Layer) -> tuple[LayerSpec, dict[str, Any], dict[str, Site]]:
    """keras Bidirectional(LSTM(...)): the inner layer's spec with the wrapper's attrs."""
    attrs = {**inner.spec.attrs, **wrapper.attrs}
    defaults = {**inner.spec.defaults, **wrapper.defaults}
    params = (*inner.spec.params, *[p for p in wrapper.params if p != "layer"])
    spec = dataclasses.replace(inner.spec, params=params, defaults=defaults, attrs=attrs,
                               fixed={**inner.spec.fixed, **wrapper.fixed})
    args = {**inner.args, **{k: v for k, v in bound.items() if k != "layer"}}
    return spec, args, {**inner.arg_sites, **{k: v for k, v in sites.items() if k != "layer"}}


def _torch_weight_shape(layer: Layer, name: str) -> tuple | None:
    """`conv.weight.shape` = (out, in / groups, *kernel); `bias` = (out,)."""
    if layer.spec.op not in ("conv", "dense"):
        return None
    args, spec = layer.args, layer.spec
    if layer.spec.op == "dense":
        out, cin = args.get("out_features"), args.get("in_features")
        shape: tuple = (out,) if name == "bias" else (out, cin)
    else:
        out, cin = args.get("out_channels"), args.get("in_channels")
        groups = args.get("groups", spec.default("groups"))
        kernel = args.get("kernel_size")
        rank = spec.fixed.get("rank", 2)
        kernel = (kernel,) * rank if isinstance(kernel, int) else kernel
        if not (isinstance(cin, int) and isinstance(groups, int) and isinstance(kernel, tuple)):
            return None
        shape = (out,) if name == "bias" else (out, cin // groups, *kernel)
    return shape if all(isinstance(d, int) for d in shape) else None
