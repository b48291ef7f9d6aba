"""Functions of the analysed project whose meaning is a known convention, answered by name
instead of being interpreted.

keras-applications 1.0.8 and the code derived from it (efficientnet, segmentation-models,
classification-models, many forks) receive their Keras modules at call time:
`backend, layers, models, keras_utils = get_submodules_from_kwargs(kwargs)`, where the
modules come from the caller's keyword arguments or from module globals that a setup call
fills in at import (`set_keras_submodules`, `inject_keras_modules`). Read statically, the
globals are still None. Whatever a caller passes is used; anything else is Keras's own
module, which is what every injection of these packages installs.
"""

from __future__ import annotations

from typing import Any, Callable

from .values import ExternalRef, FrameworkRef, Function, Site

# The module each injected name stands for, in the order the helper returns them.
INJECTED_SUBMODULES = (("backend", "keras.backend"), ("layers", "keras.layers"),
                       ("models", "keras.models"), ("utils", "keras.utils"))


def _submodules_from_kwargs(interp: Any, args: list[Any], kwargs: dict[str, Any],
                            site: Site) -> tuple:
    given = args[0] if args and isinstance(args[0], dict) else kwargs.get("kwargs", {})
    if not isinstance(given, dict):
        given = {}
    return tuple(given.get(name) or FrameworkRef(path) for name, path in INJECTED_SUBMODULES)


# A function's name -> (interpreter, args, kwargs, site) -> its value.
PROJECT_CONVENTIONS: dict[str, Callable[..., Any]] = {
    "get_submodules_from_kwargs": _submodules_from_kwargs,
}


# The same helpers imported from a package that is not installed next to the analysed code
# (segmentation-models imports keras-applications' own).
EXTERNAL_CONVENTIONS: dict[str, Callable[..., Any]] = {
    "keras_applications.get_submodules_from_kwargs": _submodules_from_kwargs,
}


def convention_for(fn: Any) -> Callable[..., Any] | None:
    """The handler of a function known by convention (a project function by its name, an
    unanalysed package's by its path), or None."""
    if isinstance(fn, Function):
        return PROJECT_CONVENTIONS.get(fn.name)
    if isinstance(fn, ExternalRef):
        return EXTERNAL_CONVENTIONS.get(fn.path)
    return None
