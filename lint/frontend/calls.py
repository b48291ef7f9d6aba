"""Calls of Python values: functions, methods, classes and what they dispatch to."""

from __future__ import annotations

import sys
from typing import Any, Callable

from . import hf_config, model_outputs
from .budget import MAX_DEPTH
from .conventions import convention_for
from ..knowledge.module_api import DATA_KEYWORDS
from .modules import framework_kind
from .scope import Frame, FunctionReturn, LoopBreak, LoopContinue, Scope, Unfollowable
from .. import ir
from .values import (Builtin, BoundMethod, Class, ConstTensor, ExternalRef, FrameworkRef, Function, Instance,
                     KerasModel, Layer, Partial, Sequential, Site, SuperProxy, Unknown, reason_of,
                     tensors_in)


class Calls:
    """Calling values (a part of the Interpreter)."""

    def call(self, func: Any, args: list[Any], kwargs: dict[str, Any], site: Site,
             arg_sites: dict[Any, Site] | None = None) -> Any:
        handler = CALLS_BY_TYPE.get(type(func), _not_callable)
        return handler(self, func, args, kwargs, site, arg_sites or {})

    def call_function(self, fn: Function, args: list[Any], kwargs: dict[str, Any], site: Site,
                      receiver: Any = None) -> Any:
        if len(self.frames) > MAX_DEPTH or _stack_low(len(self.frames)):
            self.builder.note_unresolved(f"call depth limit reached in `{fn.name}`", site)
            return Unknown("recursion limit", site)
        known = convention_for(fn)
        if known is not None:
            return known(self, args, kwargs, site)
        local = Scope(fn.scope)
        bound = self.bind_params(fn, args, kwargs, site)
        local.vars.update(bound)
        local.params = frozenset(bound)
        self.frames.append(Frame(fn, receiver, local))
        try:
            if type(fn.node).__name__ == "Lambda":
                return self.eval(fn.node.body, local, fn.source)
            body = fn.node.body
            statements = body.body if hasattr(body, "body") else [body]
            self.exec_block(statements, local, fn.source)
        except FunctionReturn as ret:
            return ret.value
        except Unfollowable as stop:
            if stop.site is not None:
                return Unknown(f"`{self.qualname(fn, receiver)}` reaches "
                               f"`{code_text(stop.site)}`", stop.site, raised=True,
                               chain=tuple(self.call_chain()))
            return Unknown(f"`{fn.name}` raised or left a loop early", site)
        except (LoopBreak, LoopContinue):
            return Unknown(f"`{fn.name}` raised or left a loop early", site)
        finally:
            self.frames.pop()
        return None

    @staticmethod
    def qualname(fn: Any, receiver: Any = None) -> str:
        """`Class.method` for a method called on an instance, else the function's name."""
        name = getattr(fn, "name", "?")
        return f"{receiver.cls.name}.{name}" if isinstance(receiver, Instance) else name

    def call_chain(self) -> list[str]:
        """The interpreted calls now running, outermost first (`TFBertModel.call`, ...)."""
        return [self.qualname(f.function, f.receiver) for f in self.frames if f.function]

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
                bound[name] = self._default(fn, param, site, args)
        star = params.star_arg
        if type(star).__name__ == "Param":
            bound[star.name.value] = tuple(remaining)
        for param in params.kwonly_params:
            name = param.name.value
            bound[name] = kwargs.pop(name) if name in kwargs else self._default(fn, param, site, args)
        if params.star_kwarg is not None:
            bound[params.star_kwarg.name.value] = dict(kwargs)
        return bound

    def bound_call(self, module: Instance, args: list[Any], kwargs: dict[str, Any],
                   site: Site) -> dict[str, Any]:
        """A module call's arguments bound to its forward/call signature, by parameter
        name, without running it (no defaults evaluated: what the caller passed)."""
        method = module.cls.lookup("forward") or module.cls.lookup("call")
        if not isinstance(method, Function):
            return {f"_{i}": a for i, a in enumerate(args)} | dict(kwargs)
        params = method.node.params
        names = [p.name.value for p in list(params.posonly_params) + list(params.params)][1:]
        bound = dict(zip(names, args))
        bound.update(kwargs)  # a keyword for **kwargs is passed all the same
        return bound

    def _default(self, fn: Function, param: Any, site: Site, args: list[Any]) -> Any:
        """A parameter's default; for a required configuration parameter (`config:
        SomeConfig`, or `config` of a model class naming its `config_class`), that class
        built from its own defaults (Hugging Face style, frontend/hf_config.py)."""
        name = param.name.value
        if name in fn.defaults:
            return fn.defaults[name]
        config = hf_config.default_config(self, fn, param, args, site)
        if config is not None:
            return config
        return Unknown(f"argument `{name}` of `{fn.name}` not given", site)

    def instantiate(self, cls: Class, args: list[Any], kwargs: dict[str, Any], site: Site) -> Any:
        if model_outputs.is_model_output_class(cls):
            return model_outputs.from_class(cls, args, kwargs)
        instance = Instance(cls)
        init = cls.lookup("__init__")
        if isinstance(init, Function):
            result = self.call_function(init, [instance, *args], kwargs, site, receiver=instance)
            if isinstance(result, Unknown) and result.raised:
                instance.failed = result  # `__init__` raises with these arguments
                self.note(f"`{cls.name}(...)` cannot be built: {result.reason}",
                          site.source, site.node)
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


def code_text(site: Site, limit: int = 100) -> str:
    """The source text of a statement, on one line and clipped, for a message."""
    try:
        text = " ".join(site.source.module.code_for_node(site.node).split())
    except Exception:  # a node that cannot be printed: name the statement only
        return type(site.node).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


# Each interpreted call takes 15-20 Python frames (eval, call, exec_block, the statement
# handlers): Python's recursion limit (1,000) is reached near 50 interpreted calls, before
# MAX_DEPTH, and a RecursionError stopped the analysis of the whole file. So a call also
# stops (Unknown, noted) when fewer than STACK_MARGIN Python frames are left: enough for
# the statement it is in to finish. Real model code nests at most 9 interpreted calls
# deep (measured: torchvision 8, Keras Applications 4, transformers and timm 9), so the
# stack is looked at only past SHALLOW.
STACK_MARGIN = 300
SHALLOW = 16


def _stack_low(depth: int) -> bool:
    if depth < SHALLOW:
        return False
    try:
        sys._getframe(sys.getrecursionlimit() - STACK_MARGIN)  # walks the stack in C
    except ValueError:
        return False
    return True


def _bound_method(interp: Any, func: BoundMethod, args: list[Any], kwargs: dict[str, Any],
                  site: Site, arg_sites: dict[Any, Site]) -> Any:
    if isinstance(func.function, Builtin):  # a dataclass's generated __init__
        interp.dataclass_init(func.function.receiver, func.receiver, args, kwargs, site)
        return None
    return interp.call_function(func.function, [func.receiver, *args], kwargs, site,
                                receiver=func.receiver)


def _module(interp: Any, func: Any, args: list[Any], kwargs: dict[str, Any], site: Site,
            arg_sites: dict[Any, Site]) -> Any:
    """A layer, container or model applied to a tensor, positionally or by keyword
    (`self.bert(input_ids=ids)`, `self.dense(inputs=x)`)."""
    if tensors_in(args[:1]):
        return interp.apply(func, args, kwargs, site)
    if isinstance(func, (Layer, Sequential)):
        args, kwargs = data_first(args, kwargs)
        if tensors_in(args[:1]):
            return interp.apply(func, args, kwargs, site)
        if isinstance(func, Layer) and func.framework == ir.KERAS and args \
                and isinstance(args[0], ConstTensor):
            return interp.apply_to_constant(func, args[0])
    elif isinstance(func, Instance) and tensors_in(list(interp.bound_call(func, args, kwargs, site).values())):
        return interp.apply(func, args, kwargs, site)
    return Unknown("module called without a tensor", site, chain=tuple(interp.call_chain()))


def data_first(args: list[Any], kwargs: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """A framework layer's call with its data passed by keyword (`dense(inputs=x)`,
    `linear(input=x)`) as the positional call it is."""
    if args:
        return args, kwargs
    data = next((k for k in DATA_KEYWORDS if k in kwargs), None)
    if data is None:
        return args, kwargs
    return [kwargs[data]], {k: v for k, v in kwargs.items() if k != data}


def _partial(interp: Any, func: Partial, args: list[Any], kwargs: dict[str, Any], site: Site,
             arg_sites: dict[Any, Site]) -> Any:
    return interp.call(func.func, [*func.args, *args], {**func.kwargs, **kwargs}, site)


def _not_callable(interp: Any, func: Any, args: list[Any], kwargs: dict[str, Any], site: Site,
                  arg_sites: dict[Any, Site]) -> Any:
    """A value the interpreter cannot call: given tensors, an opaque graph node."""
    known = convention_for(func)
    if known is not None:
        return known(interp, args, kwargs, site)
    if isinstance(func, ExternalRef) and model_outputs.is_model_output_ref(func):
        return model_outputs.from_ref(func, args, kwargs)
    if isinstance(func, ExternalRef):
        func = Unknown(f"`{func.path}` comes from code portlint does not analyse", site)
    tensors = tensors_in(args) + tensors_in(list(kwargs.values()))
    if tensors:
        framework = interp.builder.drafts[tensors[0].node_id].node.framework
        return interp.builder.opaque(framework, f"call not modelled: {reason_of(func)}",
                                     tensors, site, interp._path("?"))
    return Unknown(f"call of a value not known statically ({reason_of(func)})", site)


# How each kind of value is called (by its exact type: the value classes have no subclasses).
CALLS_BY_TYPE: dict[type, Callable[..., Any]] = {
    Function: lambda interp, func, args, kwargs, site, arg_sites:
        interp.call_function(func, args, kwargs, site),
    BoundMethod: _bound_method,
    Class: lambda interp, func, args, kwargs, site, arg_sites:
        interp.instantiate(func, args, kwargs, site),
    FrameworkRef: lambda interp, func, args, kwargs, site, arg_sites:
        interp.call_framework(func, args, kwargs, site, arg_sites),
    Layer: _module,
    Sequential: _module,
    Instance: _module,
    KerasModel: _module,
    Builtin: lambda interp, func, args, kwargs, site, arg_sites:
        interp.call_builtin(func, args, kwargs, site, arg_sites),
    Partial: _partial,
}
