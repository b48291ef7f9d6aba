"""Attribute access on abstract values (`obj.name`): a table from the kind of value to
its handler (ATTRIBUTES_BY_TYPE), each handler taking (interpreter, obj, name, site).
Supporting a new kind of value is one entry; framework module methods are named in
knowledge/module_api.py."""

from __future__ import annotations

from typing import Any, Callable

from .. import ir
from ..knowledge import REQUIRED, hf
from ..knowledge import torch as T
from ..knowledge.ops import Op
from ..knowledge.module_api import (AUTOGRAD_APPLY, AUTOGRAD_CONTEXT_METHODS, AUTOGRAD_FUNCTION,
                                    CONTAINER_METHODS, KERAS_LAYER_STATE, MODULE_METHODS, TRAINING,
                                    TREE_METHODS)
from . import model_outputs
from .hf_config import attribute_name
from .loader import MODELLED_NAMES
from .modules import container_kind, framework_kind, is_keras_class
from .python import CONSTANT_METHODS
from .scope import MISSING, FileRef
from .values import (Builtin, BoundMethod, Class, ConstTensor, ExternalRef, FrameworkRef, Function,
                     Instance, Layer, Module, ModelOutput, Partial, Sequential, ShapeOf, Site,
                     SuperProxy, Tensor, Unknown, Weight)

Handler = Callable[[Any, Any, str, Site], Any]


class Attributes:
    """Attribute semantics (a part of the Interpreter)."""

    def getattr(self, obj: Any, name: str, site: Site) -> Any:
        handler = _HANDLER_CACHE.get(type(obj))
        if handler is None:
            handler = _handler_for(type(obj))
        return handler(self, obj, name, site)

    def set_layer_attribute(self, layer: Layer, name: str, value: Any, site: Site) -> None:
        """`self.bn.momentum = 0.01` after construction: the layer is applied with it.
        `self.fc.bias = None` drops the bias; replacing or tying a weight, or freezing a
        Keras layer, is reported as not followed (the counts would be wrong)."""
        if layer.framework == ir.TORCH and name == "bias" and value is None:
            layer.args["bias"] = False
            return
        if name == "weight" and self.tie_weight(layer, value):
            return
        if name in layer.spec.params and name not in ("weight", "bias"):
            layer.args[name] = value
            layer.arg_sites[name] = site
            return
        self.builder.note_unresolved(
            f"`{layer.type_name}.{name}` set after construction is not followed "
            f"(weights tied, replaced or frozen: counts may differ)", site)

    def tie_weight(self, layer: Layer, value: Any) -> bool:
        """`self.embed_tokens.weight = embed_tokens.weight` (BART's encoder and decoder
        share the model's embeddings): one parameter, which torch counts once. Followed
        where the weight is all the layer holds (an embedding, a Linear without bias):
        the layer then shares the other's weights, as a layer applied twice does."""
        owner = value.owner if isinstance(value, ConstTensor) else None
        if layer.framework != ir.TORCH or not isinstance(owner, Layer) or owner.spec.op != layer.spec.op:
            return False
        if layer.spec.op == Op.DENSE and layer.args.get("bias", layer.spec.default("bias")) is not False:
            return False
        if layer.spec.op not in (Op.EMBEDDING, Op.DENSE):
            return False
        layer.key = owner.key
        return True

    def layer_attribute(self, layer: Layer, name: str, site: Site) -> Any:
        """`conv.out_channels`, `bn.eps`, `linear.bias`: from the constructor arguments."""
        spec = layer.spec
        if name in ("weight", "bias") and layer.framework == ir.TORCH:
            flag = layer.args.get("bias", spec.default("bias")) if name == "bias" else True
            affine = layer.args.get("affine", spec.default("affine"))
            if flag is False or affine is False:
                return None
            return ConstTensor(T.weight_shape(layer.spec, layer.args, name), owner=layer)
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


def _handler_for(kind: type) -> Handler:
    """The handler of the nearest class in `kind`'s MRO that has one (cached per type)."""
    handler = next((ATTRIBUTES_BY_TYPE[base] for base in kind.__mro__
                    if base in ATTRIBUTES_BY_TYPE), _not_modelled)
    _HANDLER_CACHE[kind] = handler
    return handler


def _not_modelled(interp: Any, obj: Any, name: str, site: Site) -> Any:
    return Unknown(f"attribute `{name}` of {type(obj).__name__}", site)


def _framework_ref(interp: Any, obj: FrameworkRef, name: str, site: Site) -> Any:
    child = obj.child(name)
    if child.path in MODELLED_NAMES:  # torch.jit.is_scripting and friends
        return Builtin(MODELLED_NAMES[child.path])
    return child


def _external_ref(interp: Any, obj: ExternalRef, name: str, site: Site) -> Any:
    return interp._module_value(f"{obj.path}.{name}")


def _bound(interp: Any, obj: Instance, value: Function, site: Site) -> Any:
    """A function found on an instance's class, as Python binds it."""
    if value.kind == "property":
        return interp.call_function(value, [obj], {}, site, receiver=obj)
    if value.kind == "staticmethod":
        return value
    if value.kind == "classmethod":
        return BoundMethod(obj.cls, value)
    return BoundMethod(obj, value)


def _instance(interp: Any, obj: Instance, name: str, site: Site) -> Any:
    """Its own attributes, its class's, the framework module's methods, then what a
    framework base layer or container holds."""
    if name in obj.attrs:
        return obj.attrs[name]
    name = attribute_name(obj, name)  # a transformers configuration's attribute_map
    if name in obj.attrs:
        return obj.attrs[name]
    value = obj.cls.lookup(name)
    if isinstance(value, Function):
        return _bound(interp, obj, value, site)
    if value is not None:
        return value
    if name in MODULE_METHODS:
        return Builtin(MODULE_METHODS[name], receiver=obj)
    if name in AUTOGRAD_CONTEXT_METHODS and _autograd_function(obj.cls):
        return Builtin("noop")  # the context of an autograd Function's forward
    if obj.base_layer is not None:
        return interp.layer_attribute(obj.base_layer, name, site)
    if obj.container is not None:
        if name in CONTAINER_METHODS:
            return Builtin(f"container.{name}", receiver=obj.container)
        item = obj.container.get(name)
        if item is not None:
            return item
    if name == "training":
        return TRAINING
    if name in KERAS_LAYER_STATE and is_keras_class(obj.cls):
        # `if self.built: return` (Hugging Face's build methods): not built until its build ran.
        return obj.keras_name if name == "name" and obj.keras_name else KERAS_LAYER_STATE[name]
    if name == "__class__":
        return obj.cls
    if name == "__module__":
        return interp.module_name(obj.cls.source.path)
    if name in TREE_METHODS:
        return Builtin(TREE_METHODS[name], receiver=obj)
    return Unknown(f"attribute `{name}` is not set in the analysed code", site)


def _class(interp: Any, obj: Class, name: str, site: Site) -> Any:
    if name == "__name__":
        return obj.name
    if name == "__module__":
        return interp.module_name(obj.source.path)
    value = obj.lookup(name)
    if isinstance(value, Function) and value.kind == "classmethod":
        return BoundMethod(obj, value)
    if value is None and name == AUTOGRAD_APPLY and _autograd_function(obj):
        forward = obj.lookup("forward")
        if isinstance(forward, Function):  # its context: an instance keeping what is set
            return Partial(forward, [Instance(obj)], {})
    return value if value is not None else Unknown(f"class attribute `{name}`", site)


def _autograd_function(cls: Class) -> bool:
    return any(base.path == AUTOGRAD_FUNCTION for base in cls.framework_bases())


def _module(interp: Any, obj: Module, name: str, site: Site) -> Any:
    value = interp.resolved(obj.scope.vars.get(name, MISSING))
    if value is MISSING and obj.file.endswith("__init__.py"):
        # A submodule of a package: `pkg.sub` after `import pkg`.
        value = interp.import_module(name, 1, FileRef(obj.file), site) or MISSING
    if value is MISSING and obj.scope.stars:
        value = interp._from_stars(obj.scope, name)
    if value is MISSING and obj.original:
        value = interp.from_original(obj, name)
    if value is MISSING:
        return Unknown(f"`{name}` is not defined in {obj.path}", site)
    return value


def _super_proxy(interp: Any, obj: SuperProxy, name: str, site: Site) -> Any:
    """`super().NAME`: the next class in the MRO that defines it, else what the framework
    base class's method does (building the container or base layer, naming the layer)."""
    instance = obj.instance
    mro = instance.cls.mro()
    after = mro[mro.index(obj.after) + 1:] if obj.after in mro else []
    for cls in after:
        if name in cls.attrs and isinstance(cls.attrs[name], (Function, Builtin)):
            return BoundMethod(instance, cls.attrs[name])
    if name == "__init__" and container_kind(instance.cls):
        return Builtin("container.__init__", receiver=instance)
    if name == "__init__" and framework_kind(instance.cls) == "layer":
        return Builtin("layer_base.__init__", receiver=instance)
    if name == "__init__" and framework_kind(instance.cls) in ("base", "model") \
            and is_keras_class(instance.cls):
        return Builtin("keras_layer.__init__", receiver=instance)
    if name == "forward" and instance.base_layer is not None:
        return Builtin("layer_base.forward", receiver=instance)
    if name == "forward" and instance.container is not None:
        return Builtin("container.forward", receiver=instance)
    return Builtin("noop")  # the framework base class: nothing to model


def _layer(interp: Any, obj: Layer, name: str, site: Site) -> Any:
    return interp.layer_attribute(obj, name, site)


def _const_tensor(interp: Any, obj: Any, name: str, site: Site) -> Any:
    if name == "shape":
        return obj.shape if obj.shape is not None else Unknown("shape", site)
    if name == "data":
        return obj
    return Builtin(f"const_tensor.{name}", receiver=obj)


def _tensor(interp: Any, obj: Tensor, name: str, site: Site) -> Any:
    if name == "shape":
        return ShapeOf(obj)
    return Builtin(f"tensor.{name}", receiver=obj)


def _model_output(interp: Any, obj: ModelOutput, name: str, site: Site) -> Any:
    if name in hf.MODEL_OUTPUT_METHODS:
        return Builtin(f"model_output.{name}", receiver=obj)
    return model_outputs.attribute(obj, name, site)


def _sequential(interp: Any, obj: Sequential, name: str, site: Site) -> Any:
    if name in CONTAINER_METHODS:
        return Builtin(f"container.{name}", receiver=obj)
    return _not_modelled(interp, obj, name, site)


# Methods of plain values with a handler of their own (builtins.py), by family.
_PLAIN_METHODS = {"list": frozenset({"append", "extend", "insert"}),
                  "dict": frozenset({"items", "keys", "values", "get"})}


def _plain(interp: Any, obj: Any, name: str, site: Site) -> Any:
    """str, list, tuple, dict: their modelled methods."""
    family = "list" if isinstance(obj, list) else "dict" if isinstance(obj, dict) else ""
    if name in _PLAIN_METHODS.get(family, ()):
        return Builtin(f"{family}.{name}", receiver=obj)
    if name in CONSTANT_METHODS:
        return Builtin(f"const.{name}", receiver=obj)
    return _not_modelled(interp, obj, name, site)


ATTRIBUTES_BY_TYPE: dict[type, Handler] = {
    FrameworkRef: _framework_ref,
    ExternalRef: _external_ref,
    Instance: _instance,
    Class: _class,
    Module: _module,
    SuperProxy: _super_proxy,
    Layer: _layer,
    ConstTensor: _const_tensor,
    Weight: _const_tensor,
    Tensor: _tensor,
    Sequential: _sequential,
    ModelOutput: _model_output,
    list: _plain,
    dict: _plain,
    str: _plain,
    tuple: _plain,
    Unknown: lambda interp, obj, name, site: obj,
}
_HANDLER_CACHE: dict[type, Handler] = {}
