"""Python built-ins the interpreter models, as a table from the built-in's name to its
handler: supporting another built-in is one entry in BUILTIN_CALLS (or, for a pure
function of constants, in `python.PURE_BUILTINS`).

Every handler takes (interpreter, the Builtin value, args, kwargs, site, arg_sites). The
methods of framework values (`tensor.view`, `module.add_module`, ...) are in
framework_methods.py and join this table by their family (the name's first part).
"""

from __future__ import annotations

from typing import Any, Callable

from . import model_outputs
from .budget import MAX_SIZE, BudgetExceeded, builtin_too_big, method_too_big
from .framework_methods import FRAMEWORK_FAMILIES, FRAMEWORK_METHODS
from .hf_config import attribute_name
from .modules import attach, instance_of
from .python import PURE_BUILTINS, PYTHON_TYPES, hashable, is_constant
from .values import (Builtin, Class, ConstTensor, ExternalRef, FrameworkRef, Function, Instance,
                     Layer, Partial, Sequential, ShapeOf, Site, SuperProxy, Tensor, Unknown,
                     Weight)

Handler = Callable[..., Any]


class Builtins:
    """Calling a Builtin value (a part of the Interpreter)."""

    def call_builtin(self, fn: Builtin, args: list[Any], kwargs: dict[str, Any], site: Site,
                     arg_sites: dict[Any, Site]) -> Any:
        handler = BUILTIN_CALLS.get(fn.name)
        if handler is None:  # `tensor.view`, `const.split`: a family of methods
            handler = METHOD_FAMILIES.get(fn.name.partition(".")[0], _pure)
        return handler(self, fn, args, kwargs, site, arg_sites)


def _pure(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any], site: Site,
          arg_sites: dict[Any, Site]) -> Any:
    """A pure function of constants (`len`, `max`, `math.sqrt`), run on the values."""
    name = fn.name
    impl = PURE_BUILTINS.get(name)
    if impl is None:
        return Unknown(f"built-in `{name}` not modelled", site)
    if builtin_too_big(name, args, kwargs):
        return Unknown(f"`{name}` of a value too large to analyse", site)
    plain = []
    for arg in args:
        if isinstance(arg, Unknown):
            return Unknown(f"`{name}` of a value not known statically ({arg.reason})", site)
        if isinstance(arg, (Sequential, Instance, ShapeOf)):  # containers iterate
            items = interp.iterate(arg)
            if items is None:
                return Unknown(f"`{name}` of a value not known statically", site)
            arg = items
        plain.append(arg)
    try:
        value = impl(*plain, **kwargs)
    except Exception:
        return Unknown(f"`{name}` on these values", site)
    return interp._sized(value, site)


def _keyed(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any], site: Site,
           arg_sites: dict[Any, Site]) -> Any:
    """`min`, `max` and `sorted` with a `key=` the code defines (a lambda, a function):
    each key computed by the interpreter, then the built-in run on the keys."""
    key = kwargs.get("key")
    if key is None or callable(key):
        return _pure(interp, fn, args, kwargs, site, arg_sites)
    items = interp.iterate(args[0] if len(args) == 1 else list(args))
    if items is None:
        return Unknown(f"`{fn.name}` of a value not known statically", site)
    keys = [interp.call(key, [item], {}, site) for item in items]
    if not all(is_constant(k) for k in keys):
        return Unknown(f"`{fn.name}` with a key not known statically", site)
    rest = {k: v for k, v in kwargs.items() if k != "key"}
    try:
        order = PURE_BUILTINS[fn.name](range(len(items)), key=keys.__getitem__, **rest)
    except Exception:
        return Unknown(f"`{fn.name}` on these values", site)
    return [items[i] for i in order] if fn.name == "sorted" else items[order]


def _not_followed(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any],
                  site: Site, arg_sites: dict[Any, Site]) -> Any:
    """`print(...)`, and the reflective built-ins called in a way not modelled."""
    return Unknown(f"`{fn.name}(...)`", site)


def _noop(interp: Any, fn: Builtin, *rest: Any) -> None:
    return None


def _partial(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any], site: Site,
             arg_sites: dict[Any, Site]) -> Any:
    if not args:
        return Unknown("partial() without a function", site)
    return Partial(args[0], list(args[1:]), dict(kwargs))


def _grow_list(interp: Any, receiver: list, added: list[Any]) -> None:
    if len(receiver) + len(added) > MAX_SIZE:  # `x.extend(x)` in a loop
        raise BudgetExceeded(f"a list grew past {MAX_SIZE:,} items")
    interp._charge(len(added))


def _list_append(interp: Any, fn: Builtin, args: list[Any], *rest: Any) -> None:
    _grow_list(interp, fn.receiver, [None])
    fn.receiver.append(args[0] if args else None)


def _list_extend(interp: Any, fn: Builtin, args: list[Any], *rest: Any) -> None:
    added = (interp.iterate(args[0]) or []) if args else []
    _grow_list(interp, fn.receiver, added)
    fn.receiver.extend(added)


def _list_insert(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any], site: Site,
                 arg_sites: dict[Any, Site]) -> Any:
    _grow_list(interp, fn.receiver, [None])
    if len(args) == 2 and isinstance(args[0], int):
        fn.receiver.insert(args[0], args[1])
        return None
    return Unknown(f"built-in `{fn.name}` not modelled", site)


def _const_tolist(interp: Any, fn: Builtin, *rest: Any) -> list:
    return list(fn.receiver)


def _const_method(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any],
                  site: Site, arg_sites: dict[Any, Site]) -> Any:
    """A method of a plain value (`"a,b".split(",")`, `d.copy()`), run on it."""
    method = fn.name[len("const."):]
    receiver = fn.receiver
    if isinstance(receiver, str) and not all(is_constant(a) for a in [*args, *kwargs.values()]):
        return Unknown(f"`.{method}()` with values not known statically", site)
    if isinstance(receiver, str) and method_too_big(receiver, method, args, kwargs):
        return Unknown(f"`.{method}()` would build a string too large to analyse", site)
    try:
        value = getattr(receiver, method)(*args, **kwargs)
    except Exception:
        return Unknown(f"`.{method}()` on these values", site)
    return interp._sized(value, site)


def _dict_get(interp: Any, fn: Builtin, args: list[Any], *rest: Any) -> Any:
    if args and hashable(args[0]):
        return fn.receiver.get(args[0], args[1] if len(args) > 1 else None)
    return None


def _super(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any], site: Site,
           arg_sites: dict[Any, Site]) -> Any:
    if len(args) == 2 and isinstance(args[0], Class) and isinstance(args[1], Instance):
        return SuperProxy(args[1], args[0])
    frame = interp.frames[-1]
    owner = frame.function.owner if frame.function is not None else None
    if isinstance(frame.receiver, Instance) and isinstance(owner, Class):
        return SuperProxy(frame.receiver, owner)
    return Unknown("super() outside a method", site)


def _ordered_dict(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any],
                  site: Site, arg_sites: dict[Any, Site]) -> Any:
    if not args:
        return dict(kwargs)
    items = interp.iterate(args[0]) if not isinstance(args[0], dict) else list(args[0].items())
    try:
        return dict(items) if items is not None else Unknown("OrderedDict items", site)
    except (TypeError, ValueError):
        return Unknown("OrderedDict items", site)


def _copy(interp: Any, fn: Builtin, args: list[Any], *rest: Any) -> Any:
    if len(args) == 1 and isinstance(args[0], Instance):
        return Instance(args[0].cls, attrs=dict(args[0].attrs))  # a configuration object
    return _pure(interp, fn, args, *rest)


def _isinstance(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any], site: Site,
                arg_sites: dict[Any, Site]) -> Any:
    """isinstance() against built-in types, for values the interpreter knows."""
    if len(args) != 2:
        return _not_followed(interp, fn, args, kwargs, site, arg_sites)
    value, types = args
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


def _type(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any], site: Site,
          arg_sites: dict[Any, Site]) -> Any:
    """`type(module)`: the class of an instance of the analysed code, so that
    `type(m) is Block` (torchvision's `fuse_model` walking `self.modules()`) is decided,
    and `type(self)(...)` builds the same class."""
    if len(args) == 1 and isinstance(args[0], Instance):
        return args[0].cls
    return _not_followed(interp, fn, args, kwargs, site, arg_sites)


def _locals(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any], site: Site,
            arg_sites: dict[Any, Site]) -> Any:
    """`locals()` in a function: its parameters and locals so far (kecam's entry points
    pass `**locals()` on to the model function)."""
    scope = interp.frames[-1].scope if not args and not kwargs else None
    if scope is None:
        return Unknown("`locals()` outside a function", site)
    return dict(scope.vars)


def _setattr(interp: Any, fn: Builtin, args: list[Any], *rest: Any) -> Any:
    if len(args) == 3 and isinstance(args[0], Instance) and isinstance(args[1], str):
        name = attribute_name(args[0], args[1])
        attach(args[2], args[0], name)
        args[0].attrs[name] = args[2]
        return None
    return _not_followed(interp, fn, args, *rest)


def _getattr(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any], site: Site,
             arg_sites: dict[Any, Site]) -> Any:
    if len(args) < 2 or not isinstance(args[1], str):
        return _not_followed(interp, fn, args, kwargs, site, arg_sites)
    value = interp.getattr(args[0], args[1], site)
    if isinstance(value, Unknown) and len(args) == 3:
        return args[2]
    return value


def _hasattr(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any], site: Site,
             arg_sites: dict[Any, Site]) -> Any:
    if len(args) < 2 or not isinstance(args[1], str):
        return _not_followed(interp, fn, args, kwargs, site, arg_sites)
    value = interp.getattr(args[0], args[1], site)
    if isinstance(value, Unknown) and not isinstance(args[0], Instance):
        return Unknown("hasattr", site)
    return not isinstance(value, Unknown)


BUILTIN_CALLS: dict[str, Handler] = {
    # Abstract classes, only tested against (`isinstance(x, collections.abc.Iterable)`).
    **dict.fromkeys(("collections.abc.Iterable", "collections.abc.Sequence",
                     "collections.abc.Mapping"), _not_followed),
    "noop": _noop,
    "partial": _partial,
    "super": _super,
    "OrderedDict": _ordered_dict,
    "copy.copy": _copy,
    "copy.deepcopy": _copy,
    "isinstance": _isinstance,
    "type": _type,
    "setattr": _setattr,
    "locals": _locals,
    **dict.fromkeys(("min", "max", "sorted"), _keyed),
    "getattr": _getattr,
    "hasattr": _hasattr,
    "print": _not_followed,
    "list.append": _list_append,
    "list.extend": _list_extend,
    "list.insert": _list_insert,
    "dict.items": lambda interp, fn, *rest: list(fn.receiver.items()),
    "dict.keys": lambda interp, fn, *rest: list(fn.receiver.keys()),
    "dict.values": lambda interp, fn, *rest: list(fn.receiver.values()),
    "dict.get": _dict_get,
    "const.tolist": _const_tolist,
    **FRAMEWORK_METHODS,
}
# Methods named `FAMILY.METHOD`, by family: one handler each.
METHOD_FAMILIES: dict[str, Handler] = {
    **FRAMEWORK_FAMILIES, "const": _const_method,
    "model_output": lambda interp, fn, args, *rest: model_outputs.method(
        fn.receiver, fn.name.partition(".")[2], args),
}
