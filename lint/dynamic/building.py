"""Build each model of a worker request: torch on the meta device, Keras 3 in a stateless
scope (no weights allocated), again the ordinary way when that fails. `BUILDERS` maps a
framework to its builder; `WorkerContext` is what the steps then see.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

from .failures import Failure, caused_by_lazy_build, describe
from .loader import Loader
from .protocol import KERAS, TORCH
from .sites import SiteRecorder


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
        built = BuiltModel(spec, TORCH, model, mode, module, loader.notes + notes)
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


def build_keras(spec: dict[str, Any], ctx: WorkerContext, lazy: bool) -> BuiltModel:
    keras = ctx.frameworks[KERAS]
    loader = Loader(spec, ctx.sites.files)
    notes: list[str] = []
    major = int(keras.__version__.split(".")[0])
    if spec.get("keras_package") == "tf_keras":
        notes.append(f"built with tf_keras {keras.__version__} (Keras 2): Hugging Face's TF "
                     f"models do not run under Keras 3")
    elif spec.get("keras_version", 3) != major:
        notes.append(f"the model was analysed as Keras {spec.get('keras_version')} code and "
                     f"built with the installed Keras {keras.__version__}")
    stateless = _stateless_scope(keras) if lazy and major >= 3 else None
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
        built = BuiltModel(spec, KERAS, model, mode, module, loader.notes + notes)
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
    if callable(getattr(model, "build_in_name_scope", None)):
        # A transformers TF model: built as transformers builds it, in the model's name
        # scope, so that its variable names are HF's (`tf_bert_model/bert/...`).
        try:
            model.build_in_name_scope()
        except (Exception, SystemExit) as exc:  # noqa: BLE001
            raise loader.fail("build", "build_in_name_scope() raised", exc) from None
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


BUILDERS = {TORCH: build_torch, KERAS: build_keras}
