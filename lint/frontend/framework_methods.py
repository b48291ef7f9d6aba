"""Methods of framework values the interpreter models: a module's own (`add_module`,
`register_buffer`, Keras `add_weight`), the framework base classes' `__init__`, and the
methods of tensors, constant tensors and containers.

Exact names go in FRAMEWORK_METHODS, whole families (`tensor.*`) in FRAMEWORK_FAMILIES;
handlers have the signature of builtins.py's (interpreter, Builtin, args, kwargs, site,
arg_sites). Container methods have their own table, CONTAINER_CALLS.
"""

from __future__ import annotations

from typing import Any, Callable

from .. import ir
from ..knowledge import torch as T
from ..knowledge.ops import Op
from . import constant_tensors
from .frameworks import resolve
from .modules import attach, container_kind, module_tree
from .python import bind_arguments
from .values import (BATCH, Builtin, ConstTensor, Instance, Layer, Sequential, Site, Unknown,
                     Weight, module_path, tensors_in)

Handler = Callable[..., Any]
_MODULES = (Layer, Sequential, Instance)


def _add_module(interp: Any, fn: Builtin, args: list[Any], *rest: Any) -> None:
    if len(args) == 2 and isinstance(args[0], str):
        owner = fn.receiver
        if owner.container is not None:
            interp.sequential_add(owner.container, args[1], args[0])
        else:
            attach(args[1], owner, args[0])
            owner.attrs[args[0]] = args[1]


def _modules(interp: Any, fn: Builtin, *rest: Any) -> list:
    return module_tree(fn.receiver)


def _named_modules(interp: Any, fn: Builtin, *rest: Any) -> list:
    return [(module_path(m), m) for m in module_tree(fn.receiver)]


def _child_modules(module: Instance) -> list:
    children = [v for v in module.attrs.values() if isinstance(v, _MODULES)]
    if module.container is not None:  # its items may be values, not modules
        children += [i for i in module.container.items if isinstance(i, _MODULES)]
    return children


def _children(interp: Any, fn: Builtin, *rest: Any) -> list:
    return _child_modules(fn.receiver)


def _named_children(interp: Any, fn: Builtin, *rest: Any) -> list:
    return [(c.local_name, c) for c in _child_modules(fn.receiver)]


def _parameters(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any],
                site: Site, arg_sites: dict[Any, Site]) -> Any:
    return Unknown("parameters() are not enumerated statically", site)


def _register_weight(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any],
                     *rest: Any) -> None:
    """register_buffer / register_parameter: a weight of the module (a non-persistent
    buffer is not part of its state)."""
    if len(args) >= 2 and isinstance(args[0], str):
        data = args[1]
        shape = data.shape if isinstance(data, (ConstTensor, Weight)) else None
        buffer = fn.name.endswith("buffer")
        persistent = kwargs.get("persistent", args[2] if len(args) > 2 else True)
        if data is not None and (not buffer or persistent is not False):
            fn.receiver.attrs[args[0]] = Weight(shape, trainable=not buffer, buffer=buffer)


def _add_weight(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any],
                *rest: Any) -> Weight:
    """Keras Layer.add_weight(shape=..., trainable=...)."""
    shape = kwargs.get("shape", args[0] if args else None)
    weight = Weight(tuple(shape) if isinstance(shape, (tuple, list)) else None,
                    trainable=kwargs.get("trainable", True) is not False)
    if weight.shape is not None and not all(isinstance(d, int) for d in weight.shape):
        weight.shape = None
    fn.receiver.own_weights.append(weight)
    return weight


def _layer_base_init(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any],
                     site: Site, arg_sites: dict[Any, Site]) -> None:
    """class LayerNorm2d(nn.LayerNorm): super().__init__(...) makes the base layer."""
    base = next(b for b in fn.receiver.cls.framework_bases() if resolve(b.path).kind == "layer")
    fn.receiver.base_layer = interp.construct_layer(resolve(base.path), args, kwargs, site, {})


def _layer_base_forward(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any],
                        site: Site, arg_sites: dict[Any, Site]) -> Any:
    """`super().forward(input_ids) * self.embed_scale` in a subclass of nn.Embedding
    (BART's scaled embeddings): the base layer applied, its weights counted on that node
    rather than as the module's own."""
    instance = fn.receiver
    layer = instance.base_layer
    tensors = tensors_in(args[:1]) or tensors_in(list(kwargs.values()))[:1]
    if not isinstance(layer, Layer):
        return Unknown(f"`super().forward()` of `{instance.cls.name}`", site)
    if not tensors:
        # Constant input (BART's learned positions: `torch.arange(...)` ids): a constant
        # tensor, no step of the graph; the weights stay counted as the module's own.
        return ConstTensor(None)
    interp.builder.owned = [o for o in interp.builder.owned if o[2] is not layer.site]
    return interp.builder.apply_layer(layer, tensors, site, module_path(instance) or layer.type_name)


def _keras_layer_init(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any],
                      *rest: Any) -> None:
    instance = fn.receiver
    given = kwargs.get("name")
    instance.keras_name = given if isinstance(given, str) else \
        interp.builder.keras_auto_name(instance.cls.name)


def _const_tensor_method(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any],
                         site: Site, arg_sites: dict[Any, Site]) -> Any:
    method = fn.name[len("const_tensor."):]
    if isinstance(fn.receiver, Weight):
        return fn.receiver if method in T.INPLACE_INIT_METHODS else Unknown(
            f"`.{method}()` of a weight", site)
    result = constant_tensors.method(fn.receiver, method, args)
    if result is not None:
        return result
    if method in T.INPLACE_INIT_METHODS:
        return fn.receiver
    return Unknown(f"`.{method}()` of a constant tensor", site)


def _tensor_method(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any],
                   site: Site, arg_sites: dict[Any, Site]) -> Any:
    """`x.view(n, -1)`, `x.size(0)`: a graph node, or a size, through torch's tables."""
    tensor, method = fn.receiver, fn.name[len("tensor."):]
    if method in T.IDENTITY_METHODS:
        return tensor
    if method in T.SHAPE_METHODS:
        dims = interp.full_shape(tensor)
        if method == "size" and args == [0]:
            return BATCH
        if dims is None:
            return Unknown("tensor size not known statically", site)
        if method == "dim":
            return len(dims)
        if method == "size":
            return dims if not args else dims[args[0]] if isinstance(args[0], int) else Unknown("size", site)
        return Unknown(f"`.{method}()`", site)
    if method in T.ARITHMETIC_METHODS and len(args) == 1 and not kwargs:
        return interp.binary(T.ARITHMETIC_METHODS[method], tensor, args[0], site.source, site.node)
    spec = T.TENSOR_METHODS.get(method)
    framework = interp.builder.drafts[tensor.node_id].node.framework
    if spec is None:
        return interp.builder.opaque(framework, f"tensor method `.{method}()` not modelled",
                                     [tensor, *tensors_in(args)], site, interp._path(method),
                                     functional=True)
    if spec.takes_varargs:  # x.view(n, -1) and x.view((n, -1)) alike
        shape = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else tuple(args)
        args = [tuple(shape)]
    bound, sites = bind_arguments(spec.params, args, kwargs, arg_sites)
    if spec.op == Op.CHUNK:
        return interp._chunks(framework, f".{method}()", spec, bound, sites, [tensor], site)
    return interp.builder.apply_function(framework, f".{method}()", spec, bound, sites,
                                         [tensor], site, interp._path(method))


# --- containers: Sequential/ModuleList/ModuleDict values and their subclasses ----------

def _container_init(interp: Any, owner: Any, args: list[Any], kwargs: dict[str, Any],
                    site: Site) -> None:
    """super().__init__(...) of an nn.Sequential/ModuleList/ModuleDict subclass."""
    kind = container_kind(owner.cls)
    if kind == "sequential":
        container = interp.construct_sequential(ir.TORCH, args, kwargs, site)
    else:
        container = interp.construct_container(kind, args, kwargs, site)
    container.kind = "sequential" if kind == "sequential" else container.kind
    owner.container = container
    container.owner = owner
    for item in container.items:
        if getattr(item, "parent", None) is container:
            item.parent = owner


def _container_add(interp: Any, owner: Any, args: list[Any], *rest: Any) -> None:
    if args:
        interp.sequential_add(owner, args[0])


def _container_extend(interp: Any, owner: Any, args: list[Any], *rest: Any) -> None:
    if args:
        for item in interp.iterate(args[0]) or []:
            interp.sequential_add(owner, item)


def _container_insert(interp: Any, owner: Any, args: list[Any], *rest: Any) -> None:
    if len(args) == 2:
        interp.sequential_add(owner, args[1])  # position ignored: rare in model code


def _container_add_module(interp: Any, owner: Any, args: list[Any], *rest: Any) -> None:
    if len(args) == 2:
        interp.sequential_add(owner, args[1], str(args[0]))


def _container_update(interp: Any, owner: Any, args: list[Any], *rest: Any) -> None:
    if args and isinstance(args[0], dict):
        for key, value in args[0].items():
            interp.sequential_add(owner, value, str(key))


CONTAINER_CALLS: dict[str, Handler] = {
    "__init__": _container_init,
    "forward": lambda interp, owner, args, kwargs, site: interp.apply(owner.container, args,
                                                                      kwargs, site),
    "add": _container_add,
    "append": _container_add,
    "extend": _container_extend,
    "insert": _container_insert,
    "add_module": _container_add_module,
    "register_module": _container_add_module,
    "update": _container_update,
    "items": lambda interp, owner, *rest: list(zip(owner.names, owner.items)),
    "keys": lambda interp, owner, *rest: list(owner.names),
    "values": lambda interp, owner, *rest: list(owner.items),
    "children": lambda interp, owner, *rest: list(owner.items),
}


def _container_method(interp: Any, fn: Builtin, args: list[Any], kwargs: dict[str, Any],
                      site: Site, arg_sites: dict[Any, Site]) -> Any:
    handler = CONTAINER_CALLS.get(fn.name[len("container."):])
    return None if handler is None else handler(interp, fn.receiver, args, kwargs, site)


FRAMEWORK_METHODS: dict[str, Handler] = {
    "module.add_module": _add_module,
    "module.modules": _modules,
    "module.named_modules": _named_modules,
    "module.children": _children,
    "module.named_children": _named_children,
    "module.parameters": _parameters,
    "module.register_buffer": _register_weight,
    "module.register_parameter": _register_weight,
    "module.add_weight": _add_weight,
    "layer_base.__init__": _layer_base_init,
    "layer_base.forward": _layer_base_forward,
    "keras_layer.__init__": _keras_layer_init,
}
FRAMEWORK_FAMILIES: dict[str, Handler] = {
    "tensor": _tensor_method,
    "const_tensor": _const_tensor_method,
    "container": _container_method,
}
