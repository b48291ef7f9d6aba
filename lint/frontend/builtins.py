"""Built-in functions and methods the interpreter models."""

from __future__ import annotations


from typing import Any

from .. import ir
from ..knowledge import torch as T
from . import constant_tensors
from .budget import MAX_SIZE, BudgetExceeded, builtin_too_big, method_too_big
from .frameworks import resolve
from .modules import attach, container_kind, instance_of, module_tree
from .python import PURE_BUILTINS, PYTHON_TYPES, bind_arguments, hashable, is_constant
from .values import (BATCH, Builtin, Class, ConstTensor, ExternalRef, FrameworkRef, Function,
                     Instance, Layer, Partial, Sequential, ShapeOf, Site, SuperProxy, Tensor,
                     Unknown, Weight, module_path, tensors_in)


class Builtins:
    """Built-ins (a part of the Interpreter)."""

    def call_builtin(self, fn: Builtin, args: list[Any], kwargs: dict[str, Any], site: Site,
                     arg_sites: dict[Any, Site]) -> Any:
        name = fn.name
        if name == "noop":
            return None
        if name.startswith("tensor."):
            return self.tensor_method(fn.receiver, name[len("tensor."):], args, kwargs, site, arg_sites)
        if name.startswith("container."):
            return self.container_method(fn.receiver, name[len("container."):], args, kwargs, site)
        if name == "module.add_module":
            if len(args) == 2 and isinstance(args[0], str):
                owner = fn.receiver
                if owner.container is not None:
                    self.sequential_add(owner.container, args[1], args[0])
                else:
                    attach(args[1], owner, args[0])
                    owner.attrs[args[0]] = args[1]
            return None
        if name in ("module.modules", "module.named_modules"):
            found = module_tree(fn.receiver)
            return found if name == "module.modules" else [(module_path(m), m) for m in found]
        if name in ("module.children", "module.named_children"):
            children = [v for v in fn.receiver.attrs.values() if isinstance(v, (Layer, Sequential, Instance))]
            if fn.receiver.container is not None:  # its items may be values, not modules
                children += [i for i in fn.receiver.container.items
                             if isinstance(i, (Layer, Sequential, Instance))]
            return children if name == "module.children" else [(c.local_name, c) for c in children]
        if name == "module.parameters":
            return Unknown("parameters() are not enumerated statically", site)
        if name == "layer_base.__init__":  # class LayerNorm2d(nn.LayerNorm): super().__init__(...)
            base = next(b for b in fn.receiver.cls.framework_bases() if resolve(b.path).kind == "layer")
            fn.receiver.base_layer = self.construct_layer(resolve(base.path), args, kwargs, site, {})
            return None
        if name == "keras_layer.__init__":
            instance = fn.receiver
            given = kwargs.get("name")
            instance.keras_name = given if isinstance(given, str) else \
                self.builder.keras_auto_name(instance.cls.name)
            return None
        if name.startswith("const_tensor."):
            method = name[len("const_tensor."):]
            if isinstance(fn.receiver, Weight):
                return fn.receiver if method in T.INPLACE_INIT_METHODS else Unknown(
                    f"`.{method}()` of a weight", site)
            result = constant_tensors.method(fn.receiver, method, args)
            if result is not None:
                return result
            if method in T.INPLACE_INIT_METHODS:
                return fn.receiver
            return Unknown(f"`.{method}()` of a constant tensor", site)
        if name in ("module.register_buffer", "module.register_parameter"):
            if len(args) >= 2 and isinstance(args[0], str):
                data = args[1]
                shape = data.shape if isinstance(data, (ConstTensor, Weight)) else None
                buffer = name.endswith("buffer")
                persistent = kwargs.get("persistent", args[2] if len(args) > 2 else True)
                if data is not None and (not buffer or persistent is not False):
                    fn.receiver.attrs[args[0]] = Weight(shape, trainable=not buffer, buffer=buffer)
            return None
        if name == "module.add_weight":  # Keras Layer.add_weight(shape=..., trainable=...)
            shape = kwargs.get("shape", args[0] if args else None)
            weight = Weight(tuple(shape) if isinstance(shape, (tuple, list)) else None,
                            trainable=kwargs.get("trainable", True) is not False)
            if weight.shape is not None and not all(isinstance(d, int) for d in weight.shape):
                weight.shape = None
            fn.receiver.own_weights.append(weight)
            return weight
        if name == "partial":
            if not args:
                return Unknown("partial() without a function", site)
            return Partial(args[0], list(args[1:]), dict(kwargs))
        if name in ("list.append", "list.extend", "list.insert"):
            added = [None] if name != "list.extend" else \
                (self.iterate(args[0]) or []) if args else []
            if len(fn.receiver) + len(added) > MAX_SIZE:  # `x.extend(x)` in a loop
                raise BudgetExceeded(f"a list grew past {MAX_SIZE:,} items")
            self._charge(len(added))
        if name == "list.append":
            fn.receiver.append(args[0] if args else None)
            return None
        if name == "list.extend":
            fn.receiver.extend(added)
            return None
        if name == "list.insert" and len(args) == 2 and isinstance(args[0], int):
            fn.receiver.insert(args[0], args[1])
            return None
        if name == "const.tolist":
            return list(fn.receiver)
        if name.startswith("const."):
            if isinstance(fn.receiver, str) and not all(is_constant(a) for a in [*args, *kwargs.values()]):
                return Unknown(f"`.{name[len('const.'):]}()` with values not known statically", site)
            method = name[len("const."):]
            if isinstance(fn.receiver, str) and method_too_big(fn.receiver, method, args, kwargs):
                return Unknown(f"`.{method}()` would build a string too large to analyse", site)
            try:
                value = getattr(fn.receiver, method)(*args, **kwargs)
            except Exception:
                return Unknown(f"`.{name[len('const.'):]}()` on these values", site)
            return self._sized(value, site)
        if name == "dict.items":
            return list(fn.receiver.items())
        if name == "dict.keys":
            return list(fn.receiver.keys())
        if name == "dict.values":
            return list(fn.receiver.values())
        if name == "dict.get":
            return fn.receiver.get(args[0], args[1] if len(args) > 1 else None) if args and hashable(args[0]) else None
        if name == "super":
            return self._super(args, site)
        if name == "OrderedDict":
            if not args:
                return dict(kwargs)
            items = self.iterate(args[0]) if not isinstance(args[0], dict) else list(args[0].items())
            try:
                return dict(items) if items is not None else Unknown("OrderedDict items", site)
            except (TypeError, ValueError):
                return Unknown("OrderedDict items", site)
        if name in ("copy.copy", "copy.deepcopy") and len(args) == 1 and isinstance(args[0], Instance):
            return Instance(args[0].cls, attrs=dict(args[0].attrs))  # a configuration object
        if name == "isinstance" and len(args) == 2:
            return self._isinstance(args[0], args[1], site)
        if name == "setattr" and len(args) == 3 and isinstance(args[0], Instance) and isinstance(args[1], str):
            attach(args[2], args[0], args[1])
            args[0].attrs[args[1]] = args[2]
            return None
        if name in ("getattr", "hasattr") and len(args) >= 2 and isinstance(args[1], str):
            value = self.getattr(args[0], args[1], site)
            if name == "hasattr":
                return Unknown("hasattr", site) if isinstance(value, Unknown) and not isinstance(args[0], Instance) \
                    else not isinstance(value, Unknown)
            if isinstance(value, Unknown) and len(args) == 3:
                return args[2]
            return value
        if name in ("print", "isinstance", "hasattr", "getattr", "setattr"):
            return Unknown(f"`{name}(...)`", site)
        impl = PURE_BUILTINS.get(name)
        if impl is not None:
            if builtin_too_big(name, args, kwargs):
                return Unknown(f"`{name}` of a value too large to analyse", site)
            plain = []
            for arg in args:
                if isinstance(arg, Unknown):
                    return Unknown(f"`{name}` of a value not known statically ({arg.reason})", site)
                if isinstance(arg, (Sequential, Instance, ShapeOf)):  # containers iterate
                    items = self.iterate(arg)
                    if items is None:
                        return Unknown(f"`{name}` of a value not known statically", site)
                    arg = items
                plain.append(arg)
            try:
                value = impl(*plain, **kwargs)
            except Exception:
                return Unknown(f"`{name}` on these values", site)
            return self._sized(value, site)
        return Unknown(f"built-in `{name}` not modelled", site)

    def container_method(self, owner: Any, method: str, args: list[Any], kwargs: dict[str, Any],
                         site: Site) -> Any:
        """Methods of Sequential/ModuleList/ModuleDict values and of their subclasses."""
        if method == "__init__":  # super().__init__(...) of an nn.Sequential subclass
            kind = container_kind(owner.cls)
            if kind == "sequential":
                container = self.construct_sequential(ir.TORCH, args, kwargs, site)
            else:
                container = self.construct_container(kind, args, kwargs, site)
            container.kind = "sequential" if kind == "sequential" else container.kind
            owner.container = container
            container.owner = owner
            for item in container.items:
                if getattr(item, "parent", None) is container:
                    item.parent = owner
            return None
        if method == "forward":
            return self.apply(owner.container, args, kwargs, site)
        if method in ("add", "append") and args:
            self.sequential_add(owner, args[0])
        elif method == "extend" and args:
            for item in self.iterate(args[0]) or []:
                self.sequential_add(owner, item)
        elif method == "insert" and len(args) == 2:
            self.sequential_add(owner, args[1])  # position ignored: rare in model code
        elif method in ("add_module", "register_module") and len(args) == 2:
            self.sequential_add(owner, args[1], str(args[0]))
        elif method == "items":
            return list(zip(owner.names, owner.items))
        elif method == "keys":
            return list(owner.names)
        elif method == "values" or method == "children":
            return list(owner.items)
        elif method == "update" and args and isinstance(args[0], dict):
            for key, value in args[0].items():
                self.sequential_add(owner, value, str(key))
        return None

    def _isinstance(self, value: Any, types: Any, site: Site) -> Any:
        """isinstance() against built-in types, for values the interpreter knows."""
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

    def _super(self, args: list[Any], site: Site) -> Any:
        if len(args) == 2 and isinstance(args[0], Class) and isinstance(args[1], Instance):
            return SuperProxy(args[1], args[0])
        frame = self.frames[-1]
        owner = frame.function.owner if frame.function is not None else None
        if isinstance(frame.receiver, Instance) and isinstance(owner, Class):
            return SuperProxy(frame.receiver, owner)
        return Unknown("super() outside a method", site)

    def tensor_method(self, tensor: Tensor, method: str, args: list[Any], kwargs: dict[str, Any],
                      site: Site, arg_sites: dict[Any, Site]) -> Any:
        from ..knowledge import torch as T

        if method in T.IDENTITY_METHODS:
            return tensor
        if method in T.SHAPE_METHODS:
            dims = self.full_shape(tensor)
            if method == "size" and args == [0]:
                return BATCH
            if dims is None:
                return Unknown("tensor size not known statically", site)
            if method == "dim":
                return len(dims)
            if method == "size":
                return dims if not args else dims[args[0]] if isinstance(args[0], int) else Unknown("size", site)
            return Unknown(f"`.{method}()`", site)
        spec = T.TENSOR_METHODS.get(method)
        framework = self.builder.drafts[tensor.node_id].node.framework
        if spec is None:
            return self.builder.opaque(framework, f"tensor method `.{method}()` not modelled",
                                       [tensor, *tensors_in(args)], site, self._path(method),
                                       functional=True)
        if spec.takes_varargs:  # x.view(n, -1) and x.view((n, -1)) alike
            shape = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else tuple(args)
            args = [tuple(shape)]
        bound, sites = bind_arguments(spec.params, args, kwargs, arg_sites)
        if spec.op == "chunk":
            return self._chunks(framework, f".{method}()", spec, bound, sites, [tensor], site)
        return self.builder.apply_function(framework, f".{method}()", spec, bound, sites,
                                           [tensor], site, self._path(method))
