"""The verify worker: the only place where portlint imports a framework and runs user code.

Run as ``python -m portlint.dynamic.worker`` by `portlint.dynamic.runner`; the protocol
(request on stdin, JSON-line events on stdout) is described in `portlint.dynamic.protocol`.

What it does for each model of the request:

1. import the framework (torch, or keras with its backend) before any user code;
2. set the memory limit (RLIMIT_AS = address space after the imports + the limit), emit
   the "ready" event;
3. import the user's file by path (its directory first on sys.path, so sibling imports
   work), look up NAME, evaluate ARGS in the module's namespace and build the model:
   torch under ``with torch.device("meta")`` (no weight is materialised), Keras 3 inside
   ``StatelessScope(initialize_variables=False)``, where ``add_weight`` only records each
   variable's shape and initializer (no allocation). When that fails the model is built
   again the ordinary way, with a note;
4. run the requested steps (`STEPS`) over the built models, then report.

Steps: a step is a function ``step(ctx) -> dict`` registered in `STEPS` under the name
the request lists in "steps" ("count", and "numeric" for ``verify --numeric``); it receives the
`WorkerContext` (the request, the built models with their live objects and framework
modules, `emit` for progress events) after every model is built. A numeric step needs
real weights: send ``"lazy": false`` (or materialise: ``model.to_empty(device="cpu")`` for
torch, `keras.src.backend.common.variables.initialize_all_variables()` for Keras) and both
models in one request, with its parameters in the request's "numeric" object.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import os
import re
import resource
import sys
import time
import traceback
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from .protocol import (KERAS, LABEL, MEMORY_PATTERN, PROTOCOL, TORCH, one_line)


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


@dataclass
class BuiltModel:
    """One model of the request, built. `model` is the live object."""

    spec: dict[str, Any]
    framework: str
    model: Any
    mode: str  # "meta" | "cpu" (torch), "stateless" | "eager" (Keras)
    module: ModuleType  # the user's module
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {"framework": self.framework, "name": self.spec["name"],
                "type": type(self.model).__name__, "mode": self.mode, "notes": self.notes,
                "seconds": round(self.seconds, 3)}


@dataclass
class WorkerContext:
    """What a step sees: the request, the framework modules, the built models."""

    request: dict[str, Any]
    frameworks: dict[str, ModuleType]
    models: list[BuiltModel]
    sites: SiteRecorder
    emit: Callable[[dict[str, Any]], None]

    def model(self, framework: str) -> BuiltModel:
        """The (first) built model of a framework, e.g. for a step comparing the two."""
        return next(m for m in self.models if m.framework == framework)


# --------------------------------------------------------------------------- user files


class UserFiles:
    """Which source files are the user's: the model file, and files under its directory
    that are not part of the Python installation (site-packages, the standard library)."""

    def __init__(self, model_files: list[tuple[str, str]]):
        self.display = {os.path.realpath(path): shown for path, shown in model_files}
        prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix}
        self.system = tuple(os.path.realpath(p) + os.sep for p in prefixes)
        self.roots = []
        for path in self.display:
            root = os.path.dirname(path) + os.sep
            self.roots.append((root, root.startswith(self.system)))
        self.cache: dict[str, bool] = {}
        self.cells: dict[str, Any] = {}  # notebook path -> its CellMap (portlint.notebook)

    def __contains__(self, filename: str) -> bool:
        if filename not in self.cache:
            real = os.path.realpath(filename) if filename and not filename.startswith("<") else ""
            mine = real in self.display or any(
                real.startswith(root) and (inside or not real.startswith(self.system))
                for root, inside in self.roots) if real else False
            self.cache[filename] = mine
        return self.cache[filename]

    def span(self, filename: str, line: int, column: int, end_line: int,
             end_column: int) -> dict[str, Any]:
        """A SPAN; in a notebook `line` counts the joined code cells, and the cell and the
        line in it are added (as portlint.ir.Span has them)."""
        out = {"path": self.shown(filename), "line": line, "column": column,
               "end_line": end_line, "end_column": end_column}
        cells = self.cells.get(os.path.realpath(filename))
        if cells is not None:
            cell, cell_line = cells.locate(line)
            end_cell, cell_end_line = cells.locate(end_line)
            out.update(cell=cell, cell_line=cell_line,
                       cell_end_line=cell_end_line if end_cell == cell else cell_line)
        return out

    def shown(self, filename: str) -> str:
        real = os.path.realpath(filename)
        if real in self.display:
            return self.display[real]
        try:
            relative = os.path.relpath(real)
        except ValueError:
            return real
        return real if relative.startswith("..") else relative


def _position(code: Any, lasti: int) -> tuple | None:
    if lasti < 0:
        return None
    try:
        positions = code.co_positions()
        for _ in range(lasti // 2):
            next(positions)
        return next(positions)
    except (StopIteration, AttributeError):
        return None


def span_of(files: UserFiles, filename: str, code: Any, lasti: int, lineno: int) -> dict:
    pos = _position(code, lasti)
    line, end_line, column, end_column = pos if pos else (lineno, lineno, None, None)
    line = line or lineno
    end_line = end_line or line
    column = (column or 0) + 1
    end_column = end_column + 1 if end_column is not None else column
    if (end_line, end_column) < (line, column):
        end_line, end_column = line, column
    return files.span(filename, line, column, end_line, end_column)


def innermost_user_frame(files: UserFiles, exc: BaseException) -> dict | None:
    """The span of the innermost traceback frame in the user's files, or for a
    SyntaxError in one of them, the error's own position."""
    if isinstance(exc, SyntaxError) and exc.filename and exc.filename in files and exc.lineno:
        column = exc.offset or 1
        return files.span(exc.filename, exc.lineno, column, exc.lineno, column)
    found = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename in files:
            found = span_of(files, code.co_filename, code, tb.tb_lasti, tb.tb_lineno)
        tb = tb.tb_next
    if found is None and exc.__context__ is not None and exc.__context__ is not exc:
        return innermost_user_frame(files, exc.__context__)
    return found


class SiteRecorder:
    """Where each module/layer was created in the user's code: wraps the framework base
    class's __init__ and records the innermost user frame outside the object's own
    constructor chain (the `nn.Linear(...)` line, not `super().__init__()`)."""

    def __init__(self, files: UserFiles):
        self.files = files
        self.sites: dict[int, list[dict]] = {}
        self.classes: dict[type, dict | None] = {}
        self.keep: list[Any] = []  # keep recorded objects alive so ids stay unique

    def install(self, cls: type) -> None:
        """Wrap cls.__init__ (torch: nn.Module.__init__ takes *args, **kwargs itself, so
        its signature does not change)."""
        original = cls.__init__
        recorder = self

        @functools.wraps(original)
        def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: N807
            original(self, *args, **kwargs)
            if id(self) not in recorder.sites:
                recorder.record(self, skip=1)

        cls.__init__ = __init__

    def install_new(self, cls: type) -> None:
        """Wrap cls.__new__ instead (Keras: Operation.__new__ reads the argspec of each
        layer class's __init__, which a wrapper would change)."""
        original = cls.__dict__["__new__"]
        function = original.__func__ if isinstance(original, staticmethod) else original
        recorder = self

        @functools.wraps(function)
        def __new__(cls_: type, *args: Any, **kwargs: Any) -> Any:  # noqa: N807
            obj = function(cls_, *args, **kwargs)
            try:
                recorder.record(obj, skip=1)
            except Exception:  # noqa: BLE001 - sites are a convenience
                pass
            return obj

        cls.__new__ = staticmethod(__new__)

    def record(self, obj: Any, skip: int = 0) -> None:
        frames: list[dict] = []
        frame = sys._getframe(1 + skip)
        while frame is not None and len(frames) < self.DEPTH:
            code = frame.f_code
            if code.co_filename in self.files:
                try:
                    is_self = frame.f_locals.get("self") is obj
                except Exception:  # noqa: BLE001 - exotic frames
                    is_self = False
                if not is_self:
                    frames.append(span_of(self.files, code.co_filename, code, frame.f_lasti,
                                          frame.f_lineno))
            frame = frame.f_back
        if frames:
            self.sites[id(obj)] = frames
            self.keep.append(obj)

    DEPTH = 4  # user frames kept per object, innermost first

    def class_site(self, cls: type) -> dict | None:
        """Where a class of the user's files is defined (its `class` line)."""
        if cls not in self.classes:
            site = None
            module = sys.modules.get(getattr(cls, "__module__", ""), None)
            filename = getattr(module, "__file__", None)
            if filename and filename in self.files:
                try:
                    import inspect

                    line = inspect.getsourcelines(cls)[1]
                    site = {"path": self.files.shown(filename), "line": line}
                except (OSError, TypeError):
                    site = None
            self.classes[cls] = site
        return self.classes[cls]

    def site(self, obj: Any) -> list[dict]:
        """The user frames that created `obj`, innermost first (a helper's line, then the
        model file's call of the helper, ...)."""
        return self.sites.get(id(obj), [])


# --------------------------------------------------------------------------- loading


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


class Loader:
    """Imports one user file (fresh each time) and calls what NAME(ARGS) names."""

    counter = 0

    def __init__(self, spec: dict[str, Any], files: UserFiles):
        self.spec, self.files = spec, files
        self.path = os.path.abspath(spec["path"])
        self.directory = os.path.dirname(self.path)

    def fail(self, kind: str, what: str, exc: BaseException) -> Failure:
        if is_memory_error(exc):
            kind = "memory"
        message = f"{what} {describe(exc)}" if what else describe(exc)
        return Failure(kind, message, framework=self.spec["framework"],
                       exc=exc, location=innermost_user_frame(self.files, exc))

    def forget_user_modules(self) -> None:
        """Drop modules imported from the user's files, so a retry imports them afresh."""
        for name, module in list(sys.modules.items()):
            filename = getattr(module, "__file__", None)
            if filename and filename in self.files:
                del sys.modules[name]

    def package_name(self) -> tuple[str, str] | None:
        """(dotted module name, directory to put on sys.path) when the file is inside a
        package (its folder has an __init__.py), so that relative imports work."""
        parts = [Path(self.path).stem]
        folder = Path(self.directory)
        while (folder / "__init__.py").is_file() and folder.name.isidentifier():
            parts.insert(0, folder.name)
            folder = folder.parent
        if len(parts) == 1 or not all(p.isidentifier() for p in parts):
            return None
        return ".".join(parts), str(folder)

    def import_module(self) -> ModuleType:
        if self.directory not in sys.path:
            sys.path.insert(0, self.directory)
        package = self.package_name()
        if package is not None:
            dotted, root = package
            existing = sys.modules.get(dotted)
            same = existing is not None and os.path.realpath(
                getattr(existing, "__file__", "") or "") == os.path.realpath(self.path)
            if existing is None or same:
                if root not in sys.path:
                    sys.path.insert(1, root)
                try:
                    return importlib.import_module(dotted)
                except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure of user code
                    raise self.fail("import", "", exc) from None
        Loader.counter += 1
        name = f"portlint_verify_model_{Loader.counter}"
        if self.path.endswith(".ipynb"):
            return self.run_notebook(name)
        spec = importlib.util.spec_from_file_location(name, self.path)
        if spec is None or spec.loader is None:
            raise Failure("import", f"cannot import {self.spec['display_path']}",
                          framework=self.spec["framework"])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure of user code
            raise self.fail("import", "", exc) from None
        return module

    def run_notebook(self, name: str) -> ModuleType:
        """A notebook's code cells, joined as the static analysis joins them (magics
        commented out), run as one module. Every code cell runs."""
        from ..notebook import NotebookError, read_notebook

        try:
            with open(self.path, encoding="utf-8-sig") as handle:
                code, cells = read_notebook(handle.read())
        except (OSError, UnicodeDecodeError, NotebookError) as exc:
            raise Failure("import", f"cannot read the notebook: {describe(exc)}",
                          framework=self.spec["framework"], exc=exc) from None
        self.files.cells[os.path.realpath(self.path)] = cells
        module = ModuleType(name)
        module.__file__ = self.path
        sys.modules[name] = module
        try:
            exec(compile(code, self.path, "exec"), module.__dict__)  # noqa: S102 - by design
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure of user code
            raise self.fail("import", "", exc) from None
        return module

    def value(self, module: ModuleType) -> Any:
        name = self.spec["name"]
        if not hasattr(module, name):
            raise Failure("resolve", f"the file defines no `{name}` when imported",
                          framework=self.spec["framework"])
        return getattr(module, name)

    def arguments(self, module: ModuleType) -> tuple[tuple, dict]:
        call = self.spec.get("call")
        if call is None:
            return (), {}
        collect = "__portlint_arguments__"
        try:
            return eval(f"{collect}({call})", module.__dict__,  # noqa: S307 - verify runs user code by design
                        {collect: lambda *args, **kwargs: (args, kwargs)})
        except (Exception, SystemExit) as exc:  # noqa: BLE001
            raise self.fail("arguments", f"evaluating the arguments ({call}) raised",
                            exc) from None

    def configurations(self, value: Any, args: tuple, kwargs: dict,
                       is_model_class: Callable[[Any], bool]) -> dict[str, Any]:
        """As the static analysis does: a required parameter annotated with a class
        (`config: BertConfig`) that the call does not give gets `BertConfig()`."""
        import inspect

        try:
            signature = inspect.signature(value)
            bound = signature.bind_partial(*args, **kwargs)
        except (TypeError, ValueError):
            return {}
        init = value.__init__ if isinstance(value, type) else value
        scope = getattr(init, "__globals__", {})
        filled: dict[str, Any] = {}
        for name, param in signature.parameters.items():
            if name in bound.arguments or param.default is not param.empty or param.kind in (
                    param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
                continue
            annotation = param.annotation
            if isinstance(annotation, str):
                try:
                    annotation = eval(annotation, dict(scope))  # noqa: S307 - user code by design
                except Exception:  # noqa: BLE001
                    continue
            if not isinstance(annotation, type) or is_model_class(annotation) \
                    or annotation.__module__ == "builtins":
                continue
            try:
                filled[name] = annotation()
            except (Exception, SystemExit) as exc:  # noqa: BLE001
                raise self.fail("arguments", f"building `{name}` as {annotation.__name__}() "
                                             f"(its defaults) raised", exc) from None
        return filled

    def construct(self, module: ModuleType, is_model: Callable[[Any], bool],
                  is_model_class: Callable[[Any], bool]) -> Any:
        """NAME(ARGS) when NAME is a class or a function; NAME itself when it is a model."""
        value = self.value(module)
        label = LABEL[self.spec["framework"]]
        name = self.spec["name"]
        if is_model(value):
            if self.spec.get("call") is not None:
                raise Failure("resolve", f"`{name}` is already a model; it takes no arguments",
                              framework=self.spec["framework"])
            return value
        if not callable(value):
            raise Failure("resolve", f"`{name}` is a {type(value).__name__}, not a {label} "
                                     f"model, model class or builder function",
                          framework=self.spec["framework"])
        args, kwargs = self.arguments(module)
        kwargs.update(self.configurations(value, args, kwargs, is_model_class))
        try:
            built = value(*args, **kwargs)
        except (Exception, SystemExit) as exc:  # noqa: BLE001
            what = "the constructor" if isinstance(value, type) else f"`{name}()`"
            raise self.fail("build", f"{what} raised", exc) from None
        if not is_model(built):
            raise Failure("resolve", f"`{name}({self.spec.get('call') or ''})` returned a "
                                     f"{type(built).__name__}, not a {label} model",
                          framework=self.spec["framework"])
        return built


# --------------------------------------------------------------------------- torch


def build_torch(spec: dict[str, Any], ctx: WorkerContext, lazy: bool) -> BuiltModel:
    torch = ctx.frameworks[TORCH]
    nn = torch.nn
    loader = Loader(spec, ctx.sites.files)
    notes: list[str] = []
    attempts = ["meta", "cpu"] if lazy else ["cpu"]
    for mode in attempts:
        start = time.perf_counter()
        try:
            with torch.device("meta") if mode == "meta" else nullcontext():
                module = loader.import_module()
                model = loader.construct(module, lambda v: isinstance(v, nn.Module),
                                         lambda v: isinstance(v, type) and issubclass(v, nn.Module))
                _materialise_lazy_modules(torch, model, spec, mode, notes)
        except Failure as failure:
            if mode == "meta" and failure.kind not in ("memory", "resolve") \
                    and caused_by_lazy_build(failure):
                notes.append(f"built on the CPU (weights allocated): building on the meta "
                             f"device failed ({failure.message})")
                loader.forget_user_modules()
                continue
            raise
        built = BuiltModel(spec, TORCH, model, mode, module, notes)
        built.seconds = time.perf_counter() - start
        if mode == "meta":
            real = [name for name, p in model.named_parameters() if not p.is_meta]
            real += [name for name, b in model.named_buffers() if not b.is_meta]
            if real:
                notes.append(f"{len(real)} tensor(s) were created off the meta device (explicit "
                             f"device=...), e.g. `{real[0]}`")
        return built
    raise AssertionError("unreachable")


def _materialise_lazy_modules(torch: Any, model: Any, spec: dict, mode: str,
                              notes: list[str]) -> None:
    """nn.Lazy* modules only know their sizes after a forward pass: run one on the input
    shape (on the meta device when building there)."""
    from torch.nn.parameter import UninitializedBuffer, UninitializedParameter

    lazy = [n for n, p in model.named_parameters() if isinstance(p, UninitializedParameter)]
    lazy += [n for n, b in model.named_buffers() if isinstance(b, UninitializedBuffer)]
    if not lazy:
        return
    shape = spec.get("input_shape")
    if not shape or any(d is None for d in shape):
        notes.append(f"lazy modules are not initialised (no input shape): `{lazy[0]}` and "
                     f"others count 0")
        return
    try:
        with torch.no_grad():
            model(torch.zeros((1, *shape), device="meta" if mode == "meta" else "cpu"))
        notes.append(f"lazy modules initialised by a forward pass on input (1, "
                     f"{', '.join(map(str, shape))})")
    except Exception as exc:  # noqa: BLE001
        notes.append(f"lazy modules are not initialised: the forward pass failed "
                     f"({describe(exc)})")


def count_torch(built: BuiltModel, sites: SiteRecorder) -> dict[str, Any]:
    torch = sys.modules["torch"]
    # Keras folds torch's second bias into one for LSTM and SimpleRNN; its GRU
    # (reset_after=True) keeps both, so a GRU's bias_hh is no convention difference.
    folding = (torch.nn.LSTM, torch.nn.RNN)
    from torch.nn.parameter import UninitializedBuffer, UninitializedParameter

    def numel(tensor: Any) -> int:
        if isinstance(tensor, (UninitializedParameter, UninitializedBuffer)):
            return 0
        return int(tensor.numel())

    owner: dict[int, str] = {}  # tensor id -> its first path
    layers = []
    total = dict.fromkeys(("parameters", "buffers", "running_stats", "num_batches_tracked",
                           "folded_bias"), 0)
    for path, module in built.model.named_modules():
        counts = dict.fromkeys(total, 0)
        tensors: dict[str, int] = {}
        tied: dict[str, str] = {}
        for name, param in module.named_parameters(recurse=False):
            if id(param) in owner:  # tied: counted at its first owner, as parameters() does
                tied[name] = owner[id(param)]
                continue
            owner[id(param)] = f"{path}.{name}" if path else name
            size = numel(param)
            tensors[name] = size
            counts["parameters"] += size
            if isinstance(module, folding) and name.startswith("bias_hh"):
                counts["folded_bias"] += size
        for name, buffer in module.named_buffers(recurse=False):
            if id(buffer) in owner:
                tied[name] = owner[id(buffer)]
                continue
            owner[id(buffer)] = f"{path}.{name}" if path else name
            size = numel(buffer)
            tensors[name] = size
            counts["buffers"] += size
            key = "num_batches_tracked" if name == "num_batches_tracked" else "running_stats"
            counts[key] += size
        for key in total:
            total[key] += counts[key]
        layers.append({"name": path, "parent": path.rpartition(".")[0] if path else None,
                       "type": type(module).__name__, "counts": counts, "tensors": tensors,
                       "tied": tied, "sites": sites.site(module),
                       "class_site": sites.class_site(type(module))})
    return {"framework": TORCH, "root": "", "total": total, "layers": layers}


# --------------------------------------------------------------------------- Keras


def build_keras(spec: dict[str, Any], ctx: WorkerContext, lazy: bool) -> BuiltModel:
    keras = ctx.frameworks[KERAS]
    loader = Loader(spec, ctx.sites.files)
    notes: list[str] = []
    if spec.get("keras_version", 3) != int(keras.__version__.split(".")[0]):
        notes.append(f"the model was analysed as Keras {spec.get('keras_version')} code and "
                     f"built with the installed Keras {keras.__version__}")
    stateless = _stateless_scope(keras) if lazy else None
    if lazy and stateless is None:
        notes.append("built with allocated weights: this Keras has no stateless scope "
                     "(deferred variable initialisation)")
    attempts = ["stateless", "eager"] if stateless is not None else ["eager"]
    for mode in attempts:
        start = time.perf_counter()
        try:
            scope = stateless(initialize_variables=False) if mode == "stateless" else nullcontext()
            with scope:
                module = loader.import_module()
                model = loader.construct(
                    module, lambda v: isinstance(v, keras.layers.Layer),
                    lambda v: isinstance(v, type) and issubclass(v, keras.layers.Layer))
                _build_keras_model(keras, model, spec, loader)
        except Failure as failure:
            if mode == "stateless" and failure.kind not in ("memory", "resolve") \
                    and caused_by_lazy_build(failure):
                notes.append(f"built with allocated weights: building without allocating "
                             f"(Keras stateless scope) failed ({failure.message})")
                _reset_keras(keras)
                loader.forget_user_modules()
                continue
            raise
        built = BuiltModel(spec, KERAS, model, mode, module, notes)
        built.seconds = time.perf_counter() - start
        return built
    raise AssertionError("unreachable")


def _stateless_scope(keras: Any) -> Any:
    """Keras 3's StatelessScope, if it supports deferred variable initialisation."""
    try:
        from keras.src.backend.common.stateless_scope import StatelessScope
    except ImportError:
        return None
    import inspect

    if "initialize_variables" not in inspect.signature(StatelessScope).parameters:
        return None
    return StatelessScope


def _reset_keras(keras: Any) -> None:
    """After a failed stateless attempt: forget its deferred variables and layer names."""
    try:
        from keras.src.backend.common import global_state

        global_state.set_global_attribute("uninitialized_variables", [])
    except ImportError:
        pass
    keras.backend.clear_session()


def _build_keras_model(keras: Any, model: Any, spec: dict, loader: Loader) -> None:
    """Create the weights of a model that has none yet: Sequential and subclassed models
    need the input shape (from the source, or --input-shape)."""
    if getattr(model, "built", False) and model.weights:
        return
    shape = spec.get("input_shape")
    if not shape:
        if getattr(model, "built", False):
            return
        raise Failure("build", "the Keras model is not built and its input shape is unknown "
                               "(give --input-shape)", framework=KERAS)
    try:
        if isinstance(model, keras.Sequential):
            model.build((None, *shape))
        else:
            model(keras.Input(shape=tuple(shape)))
    except (Exception, SystemExit) as first:  # noqa: BLE001
        try:
            model.build((None, *shape))
        except (Exception, SystemExit):  # noqa: BLE001
            raise loader.fail("build", f"building it on input shape {tuple(shape)} raised",
                              first) from None


def count_keras(built: BuiltModel, sites: SiteRecorder) -> dict[str, Any]:
    import math

    def size(variable: Any) -> int:
        return int(math.prod(int(d) for d in variable.shape))

    layers: list[dict[str, Any]] = []
    counted: dict[int, str] = {}  # variable id -> its path (first owner)
    visited: set[int] = set()

    def visit(layer: Any, parent: str | None) -> None:
        if id(layer) in visited:
            return
        visited.add(id(layer))
        children = list(layer._flatten_layers(include_self=False, recursive=False))
        below = {id(v) for child in children for v in child.weights}
        trainable = {id(v) for v in layer.trainable_weights}
        counts = {"trainable": 0, "non_trainable": 0}
        tensors: dict[str, int] = {}
        tied: dict[str, str] = {}
        for variable in layer.weights:
            if id(variable) in below:
                continue
            if id(variable) in counted:
                tied[variable.name] = counted[id(variable)]
                continue
            counted[id(variable)] = getattr(variable, "path", variable.name)
            key = "trainable" if id(variable) in trainable else "non_trainable"
            counts[key] += size(variable)
            tensors[variable.name] = size(variable)
        layers.append({"name": layer.name, "parent": parent, "type": type(layer).__name__,
                       "counts": counts, "tensors": tensors, "tied": tied,
                       "sites": sites.site(layer), "class_site": sites.class_site(type(layer))})
        for child in children:
            visit(child, layer.name)

    visit(built.model, None)
    model = built.model
    total = {"trainable": sum(size(v) for v in _unique(model.trainable_weights)),
             "non_trainable": sum(size(v) for v in _unique(model.non_trainable_weights))}
    return {"framework": KERAS, "root": model.name, "total": total, "layers": layers}


def _unique(variables: list[Any]) -> list[Any]:
    seen: dict[int, Any] = {}
    for v in variables:
        seen.setdefault(id(v), v)
    return list(seen.values())


# --------------------------------------------------------------------------- steps

BUILDERS = {TORCH: build_torch, KERAS: build_keras}
COUNTERS = {TORCH: count_torch, KERAS: count_keras}


def count_step(ctx: WorkerContext) -> dict[str, Any]:
    """Per layer/module and total weight counts of every built model."""
    return {"models": [COUNTERS[m.framework](m, ctx.sites) for m in ctx.models]}


def numeric_step(ctx: WorkerContext) -> dict[str, Any]:
    """`verify --numeric`: copy the original's weights into the port along the alignment
    and compare the outputs layer by layer (`portlint.dynamic.numeric`)."""
    missing = [f for f in (KERAS, TORCH) if f not in ctx.frameworks]
    if missing or any(m.mode in ("meta", "stateless") for m in ctx.models):
        raise Failure("protocol", "the numeric step needs a Keras and a torch model built with "
                                  "real weights in one request (\"lazy\": false)")
    from .numeric import numeric_step as run

    return run(ctx, locate=lambda exc: innermost_user_frame(ctx.sites.files, exc))


# name -> step(ctx) -> JSON-able dict, run in the order the request lists them.
STEPS: dict[str, Callable[[WorkerContext], dict[str, Any]]] = {"count": count_step,
                                                               "numeric": numeric_step}


def seed_frameworks(frameworks: dict[str, ModuleType], seed: int) -> None:
    """Seed the weight initialisation (a numeric request: reproducible errors)."""
    import random

    random.seed(seed)
    try:
        import numpy

        numpy.random.seed(seed)
    except ImportError:
        pass
    if TORCH in frameworks:
        frameworks[TORCH].manual_seed(seed)
    if KERAS in frameworks:
        frameworks[KERAS].utils.set_random_seed(seed)


# --------------------------------------------------------------------------- main


def import_framework(framework: str) -> ModuleType:
    name = "torch" if framework == TORCH else "keras"
    try:
        module = importlib.import_module(name)
        # Keras imports its backend lazily in places: make a missing one fail here.
        _ = module.layers if framework == KERAS else module.nn
        return module
    except BaseException as exc:  # noqa: BLE001 - anything: broken installs raise oddly
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise Failure("framework", describe(exc), framework=framework, exc=exc) from None


def address_space() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def set_memory_limit(megabytes: int | None) -> int | None:
    """RLIMIT_AS = what the process maps now (interpreter + frameworks) + the limit. Both
    soft and hard, so the user's code cannot raise it."""
    if not megabytes:
        return None
    limit = address_space() + int(megabytes) * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return limit


def peak_rss_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def validate(req: Any) -> dict[str, Any]:
    if not isinstance(req, dict) or req.get("protocol") != PROTOCOL:
        raise Failure("protocol", f"expected a {PROTOCOL} request")
    models = req.get("models")
    if not isinstance(models, list) or not models:
        raise Failure("protocol", "the request names no model")
    for spec in models:
        if not isinstance(spec, dict) or spec.get("framework") not in BUILDERS \
                or not isinstance(spec.get("path"), str) or not isinstance(spec.get("name"), str):
            raise Failure("protocol", f"bad model entry: {spec!r}"[:200])
        spec.setdefault("display_path", spec["path"])
    unknown = [s for s in req.get("steps", []) if s not in STEPS]
    if unknown:
        raise Failure("protocol", f"unknown step(s): {', '.join(map(str, unknown))}")
    return req


def serve(req: dict[str, Any], emit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    start = time.perf_counter()
    req = validate(req)
    frameworks: dict[str, ModuleType] = {}
    for spec in req["models"]:
        if spec["framework"] not in frameworks:
            frameworks[spec["framework"]] = import_framework(spec["framework"])
    files = UserFiles([(os.path.abspath(s["path"]), s["display_path"]) for s in req["models"]])
    sites = SiteRecorder(files)
    try:
        if TORCH in frameworks:
            sites.install(frameworks[TORCH].nn.Module)
        if KERAS in frameworks:
            sites.install_new(frameworks[KERAS].layers.Layer)
    except Exception:  # noqa: BLE001 - sites are a convenience; counting does not need them
        pass
    limit = set_memory_limit(req.get("memory_limit_mb"))
    emit({"event": "ready", "pid": os.getpid(),
          "frameworks": {f: str(getattr(m, "__version__", "?")) for f, m in frameworks.items()},
          "memory_limit_bytes": limit, "rss_kb": peak_rss_kb()})
    ctx = WorkerContext(req, frameworks, [], sites, emit)
    lazy = bool(req.get("lazy", True))
    if isinstance(req.get("numeric"), dict):
        seed_frameworks(frameworks, int(req["numeric"].get("seed", 0)))
    for spec in req["models"]:
        ctx.models.append(BUILDERS[spec["framework"]](spec, ctx, lazy))
    steps: dict[str, Any] = {}
    for name in req.get("steps", []):
        try:
            steps[name] = STEPS[name](ctx)
        except Failure:
            raise
        except (Exception, SystemExit) as exc:  # noqa: BLE001
            kind = "memory" if is_memory_error(exc) else "step"
            raise Failure(kind, f"step `{name}` failed: {describe(exc)}", exc=exc,
                          location=innermost_user_frame(files, exc)) from None
    return {"event": "result", "ok": True, "protocol": PROTOCOL,
            "frameworks": {f: str(getattr(m, "__version__", "?")) for f, m in frameworks.items()},
            "models": [m.summary() for m in ctx.models], "steps": steps,
            "peak_rss_kb": peak_rss_kb(), "memory_limit_bytes": limit,
            "seconds": round(time.perf_counter() - start, 3)}


def main() -> None:
    # The protocol channel is the original stdout; the user's prints go to stderr.
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    # `-m` put the current directory first on sys.path: move it last, so that a folder
    # named like a framework cannot shadow it (the model's own folder goes first later).
    cwd = os.getcwd()
    if sys.path and sys.path[0] in ("", cwd):
        sys.path.pop(0)
        sys.path.append(cwd)

    def emit(event: dict[str, Any]) -> None:
        channel.write(json.dumps(event) + "\n")
        channel.flush()

    try:
        req = json.loads(sys.stdin.read() or "null")
        result = serve(req, emit)
    except json.JSONDecodeError as exc:
        result = {"event": "result", "ok": False,
                  "error": Failure("protocol", f"the request is not JSON: {exc}").record()}
    except Failure as failure:
        result = {"event": "result", "ok": False, "error": failure.record()}
    except MemoryError as exc:
        result = {"event": "result", "ok": False,
                  "error": Failure("memory", describe(exc), exc=exc).record()}
    except BaseException as exc:  # noqa: BLE001 - a portlint bug; report, don't hang
        result = {"event": "result", "ok": False,
                  "error": Failure("internal", describe(exc), exc=exc).record()}
    result["peak_rss_kb"] = peak_rss_kb()
    try:
        emit(result)
    except BaseException:  # noqa: BLE001 - the parent is gone
        pass
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
