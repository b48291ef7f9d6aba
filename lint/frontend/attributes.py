"""Attribute access on abstract values (`obj.name`), by the kind of value."""

from __future__ import annotations


from typing import Any

from .. import ir
from ..knowledge import REQUIRED
from ..knowledge import torch as T
from .loader import MODELLED_NAMES
from .modules import CONTAINER_METHODS, container_kind, framework_kind, is_keras_class
from .python import CONSTANT_METHODS
from .scope import MISSING, FileRef
from .values import (Builtin, BoundMethod, Class, ConstTensor, ExternalRef, FrameworkRef, Function,
                     Instance, Layer, Module, Sequential, ShapeOf, Site, SuperProxy, Tensor,
                     Unknown, Weight)


class Attributes:
    """Attribute semantics (a part of the Interpreter)."""

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
                value = self.import_module(name, 1, FileRef(obj.file), site) or MISSING
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
                return ShapeOf(obj)
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
