"""Loading modules of the analysed project: running a module's top level once, sharing
scopes that only define things, and resolving imports (lazily where they may never be
used) to project modules, framework references or external references."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..knowledge import hf_library
from ..knowledge import torch as T
from ..source import (current_digest, display_path, evict_oldest, note_read, read_source,
                      recording_reads)
from .frameworks import is_framework_module, resolve
from .module_scan import may_bind, reexports
from .modules import framework_kind
from .python import STDLIB_BUILTINS, dotted, import_names
from .scope import MISSING, FileRef, FunctionReturn, LoopBreak, LoopContinue, Scope, Unfollowable
from .values import (Builtin, ExternalRef, FrameworkRef, Instance, KerasModel, LazyImport, Layer,
                     Module, Sequential, Site, Tensor, Unknown, Weight)


_MODEL_VALUES = (Layer, Sequential, KerasModel, Tensor, Weight)


def _model_value(value: Any) -> bool:
    """A part of a model (a module-level value that an analysis may change); instances
    of plain classes, such as configurations, are data."""
    if isinstance(value, Instance):
        return framework_kind(value.cls) is not None
    return isinstance(value, _MODEL_VALUES)


# Names with a modelled static behaviour: standard library, and torch's own table.
MODELLED_NAMES = {**STDLIB_BUILTINS, **{f"torch.{k}": v for k, v in T.STATIC_CALLS.items()}}
_MODELLED_ROOTS = frozenset(name.split(".")[0] for name in MODELLED_NAMES)


def _known_module(dotted: str) -> bool:
    """A framework or modelled standard-library module: importing from it reads no file."""
    return is_framework_module(dotted) or dotted.split(".")[0] in _MODELLED_ROOTS

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


class Loader:
    """Modules and imports (a part of the Interpreter)."""

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
            except (Unfollowable, FunctionReturn, LoopBreak, LoopContinue):
                # A module-level `raise` (or a stray return): what ran so far is defined.
                self.note("module-level `raise` stops the module here", source, source.module)
                return scope
            finally:
                self.loading -= 1
        if source.memo.get("pruned"):
            return scope  # parsed for one model: not the module other importers need
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
            scope.imports[bound] = (scope.vars[bound], is_framework_module(name))

    def exec_import_from(self, small: Any, scope: Scope, source: Any) -> None:
        level = len(small.relative)
        module = dotted(small.module) if small.module is not None else ""
        site = Site(source, small)
        lazy = self._lazy(scope, source) and (level or not _known_module(module))
        from_framework = not level and is_framework_module(module)
        for name, asname in import_names(small):
            if name == "*" and lazy:
                # Looked up when a name is missing (a package `__init__` may star-import
                # every module of a model zoo, most of them never used).
                scope.stars.append(LazyImport(module, name, level, source, site))
            elif name == "*":
                base = self._star_module(module, level, source, site)
                if isinstance(base, FrameworkRef):  # `from keras.layers import *`
                    scope.stars.append(base)  # its names come from the knowledge tables
                elif isinstance(base, Module):
                    names = {k: v for k, v in base.scope.vars.items() if not k.startswith("_")}
                    scope.vars.update(names)
                    scope.imports.update({k: (v, False) for k, v in names.items()})
            elif lazy or (not level and is_framework_module(module)
                          and self._is_sibling(module, name)):
                scope.vars[asname] = LazyImport(module, name, level, source, site)
                scope.imports[asname] = (scope.vars[asname], from_framework)
            else:
                scope.vars[asname] = self._imported_name(module, name, level, source, site)
                scope.imports[asname] = (scope.vars[asname], from_framework)

    def _lazy(self, scope: Scope, source: Any) -> bool:
        """Whether an import binds lazily: at the top of a module the analysed file
        imports (the analysed file's own imports are resolved at once)."""
        return scope.parent is None

    def _module_name(self, module: Any, name: str) -> Any:
        """`name` as a module defines it (also through its star imports), or MISSING."""
        if not isinstance(module, Module):
            return MISSING
        value = module.scope.vars.get(name, MISSING)
        if value is MISSING and module.scope.stars:
            value = self._from_stars(module.scope, name)
        if value is MISSING and module.original:
            return self.from_original(module, name)
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
            if isinstance(star, FrameworkRef):
                exported = star.child(name)
                if resolve(exported.path).kind != "namespace":  # a name the tables know
                    return exported
                continue
            path = self.locate_module(star.module, star.level, star.importer)
            if path is not None and not may_bind(path, name):
                continue  # not read (a package may star-import hundreds of modules)
            base = self.resolved(star)
            if isinstance(base, Module):
                value = base.scope.vars.get(name, MISSING)
                if value is MISSING and base.scope.stars:
                    value = self._from_stars(base.scope, name, seen)
                if self._resolving_now(value):
                    # The module asking is the one this star import reaches (torchvision's
                    # `transforms/autoaugment.py` does `from . import InterpolationMode`,
                    # and the package's `__init__` star-imports it): as in Python, the
                    # name comes from what the package bound before that import.
                    continue
                if value is not MISSING:
                    return self.resolved(value)
        return MISSING

    def _resolving_now(self, value: Any) -> bool:
        return type(value) is LazyImport and id(value) in self._resolving

    def resolved(self, value: Any) -> Any:
        """`value`, or what a LazyImport stands for (resolved once per interpreter)."""
        if type(value) is not LazyImport:
            return value
        hit = self._forced.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        if id(value) in self._resolving:  # modules importing a name from each other
            return Unknown(f"`{value.name or value.module}`: circular import", value.site)
        self._resolving.add(id(value))
        try:
            if value.name == "*":
                result = self._star_module(value.module, value.level, value.importer,
                                           value.site)
            elif value.name is None:
                result = self._module_value(value.module, value.site)
            else:
                result = self._imported_name(value.module, value.name, value.level,
                                             value.importer, value.site)
        finally:
            self._resolving.discard(id(value))
        self._forced[id(value)] = (value, result)
        return result

    def _imported_name(self, module: str, name: str, level: int, source: Any,
                       site: Site | None) -> Any:
        """What `from MODULE import NAME` binds."""
        if not level:
            # As in Python, the package's attribute first: timm's `layers/__init__.py`
            # rebinds `create_conv2d` (a submodule) to the function of that name.
            value = self._rebound_submodule(module, name, source, site)
            if value is not MISSING:
                return value
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
        return self.import_module(name, 1, FileRef(str(folder / "__init__.py")), site)

    def _rebound_submodule(self, package: str, name: str, source: Any, site: Site | None) -> Any:
        """`name` of a package whose `__init__` imports it from a submodule of the same
        name (`from .create_conv2d import create_conv2d`); MISSING otherwise."""
        if is_framework_module(package) or f"{package}.{name}" in MODELLED_NAMES:
            return MISSING
        path = self.locate_module(package, 0, source)
        if path is None or not path.endswith("__init__.py"):
            return MISSING
        origin = reexports(path).get(name)
        if origin is None or origin[0].rpartition(".")[2] != name:
            return MISSING
        return self._reexported(package, name, 0, source, site)

    def _reexported(self, package: str, name: str, level: int, source: Any,
                    site: Site | None) -> Any:
        """`name` of a package, read from the module its `__init__` imports it from
        (`from .outputs import BaseOutput`), without running the `__init__`; MISSING when
        the `__init__` does not say where it comes from."""
        if self.library_model(package, level, source):
            return MISSING
        path = self.locate_module(package, level, source)
        if path is None or not path.endswith("__init__.py"):
            return MISSING
        origin = reexports(path).get(name)
        if origin is None:
            return MISSING
        module, sublevel, original = origin
        target = self.import_module(module, sublevel, FileRef(path) if sublevel else source, site)
        if not isinstance(target, Module):
            return MISSING
        return self._module_name(target, original)

    def import_module(self, dotted: str, level: int, source: Any, site: Site | None) -> Any:
        """A module of the analysed project (parsed once), None when there is no such
        file, or Unknown when it cannot be read. A library module modelled in
        knowledge/hf_library is read from its model, which keeps the module's own file
        as `original`: the names the model does not define are read from there."""
        model = self.library_model(dotted, level, source)
        located = self.locate_module(dotted, level, source)
        if model is not None:
            return self.load_file(model, dotted, site, original=located or "")
        if located is None:
            return None
        return self.load_file(located, dotted, site)

    def load_file(self, path: str, dotted: str, site: Site | None, original: str = "") -> Any:
        """The Module of the file at `path` (dotted name `dotted`), loaded once per
        interpreter; Unknown when it cannot be read."""
        if path in self.modules:
            return self.modules[path]
        if original:  # the model's relative imports resolve from the original's place
            self.origins[os.path.realpath(path)] = original
        shown = display_path(path)  # findings there show it so
        shared = self._shared(shown)
        if shared is not None:  # no need to parse it again
            self.modules[path] = Module(dotted, shared, path, original)
            self.module_scopes[shown] = shared
            return self.modules[path]
        try:
            imported = read_source(shown)
        except InputError as exc:
            self.builder.note_unresolved(f"import of `{dotted}`: {exc}", site)
            return Unknown(f"`{dotted}` could not be read", site)
        module = Module(dotted, Scope(), path, original)
        self.modules[path] = module
        module.scope = self.load_module(imported)
        return module

    def from_original(self, module: Any, name: str) -> Any:
        """`name` of a modelled library module that its model does not define, read from
        the module's own file (MISSING when that does not define it either)."""
        if not isinstance(module, Module) or not module.original:
            return MISSING
        if module.original.endswith("__init__.py"):
            origin = reexports(module.original).get(name)
            if origin is not None:  # a package `__init__`: only the module it names is read
                target, sublevel, original = origin
                found = self.import_module(target, sublevel, FileRef(module.original), None)
                return self._module_name(found, original)
        real = self.load_file(module.original, module.path, None)
        if real is module:
            return MISSING
        return self._module_name(real, name)

    def _origin(self, path: str) -> str:
        """Where relative imports of the file at `path` resolve: for a library module's
        model, the module's own file."""
        return self.origins.get(os.path.realpath(path), path) if self.origins else path

    def library_model(self, dotted: str, level: int, source: Any) -> str | None:
        """The file that models a library module (knowledge/hf_library: transformers'
        `modeling_utils` and friends), imported absolutely or relatively from inside
        the library, instead of the module's own file."""
        name = dotted
        if level:
            if source is None or not self.roots:
                return None
            importer = self._origin(source.path)
            package = self.module_name(importer).split(".")
            if not Path(importer).name == "__init__.py":
                package = package[:-1]
            if level - 1 > len(package):
                return None
            package = package[:len(package) - (level - 1)]
            name = ".".join([*package, *[p for p in dotted.split(".") if p]])
        return hf_library.model_of(name)

    def locate_module(self, dotted: str, level: int, source: Any) -> str | None:
        parts = [p for p in dotted.split(".") if p]
        if level:
            if source is None:
                return None
            base = Path(self._origin(source.path)).resolve().parent
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
