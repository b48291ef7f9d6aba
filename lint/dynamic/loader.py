"""Import one user file in the worker and call what NAME(ARGS) names (`Loader`), turning
every failure of the user's code into a `Failure` that points into it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from .failures import Failure, describe, is_memory_error
from .pretrained import without_pretrained
from .protocol import LABEL
from .sites import UserFiles, innermost_user_frame


class Loader:
    """Imports one user file (fresh each time) and calls what NAME(ARGS) names."""

    counter = 0

    def __init__(self, spec: dict[str, Any], files: UserFiles):
        self.spec, self.files = spec, files
        self.path = os.path.abspath(spec["path"])
        self.directory = os.path.dirname(self.path)
        self.notes: list[str] = []  # what the call did beyond NAME(ARGS), for the report

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
        (`config: BertConfig`) that the call does not give gets `BertConfig()`, and so does
        `config` of a model class naming `config_class` (transformers' torch classes);
        with the spec's "config" values as keyword arguments."""
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
            if name == "config" and annotation is param.empty:
                annotation = getattr(value, "config_class", None)
            if isinstance(annotation, str):
                try:
                    annotation = eval(annotation, dict(scope))  # noqa: S307 - user code by design
                except Exception:  # noqa: BLE001
                    continue
            if not isinstance(annotation, type) or is_model_class(annotation) \
                    or annotation.__module__ == "builtins":
                continue
            specific = getattr(value, "config_class", None) if name == "config" else None
            if isinstance(specific, type) and specific is not annotation \
                    and issubclass(specific, annotation):
                # `config: PretrainedConfig` (DistilBERT) on a class whose config_class
                # is DistilBertConfig: the model's own configuration, as transformers builds it
                annotation = specific
            try:
                filled[name] = annotation(**(self.spec.get("config") or {}))
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
        off, notes = without_pretrained(value, args, kwargs)
        kwargs.update(off)
        self.notes = notes
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
