"""Applying modules to tensors, and counting the weights modules own."""

from __future__ import annotations

import math
from typing import Any

from .. import ir
from ..knowledge.ops import Op
from .calls import data_first
from .modules import attach, module_tree
from .values import (BATCH, ConstTensor, Function, Instance, Layer, Sequential, Site, Tensor,
                     Unknown, UnknownSize,
                     Weight, module_path, tensors_in)


class Application:
    """Module application and weight counting (a part of the Interpreter)."""

    def apply(self, module: Any, args: list[Any], kwargs: dict[str, Any], site: Site) -> Any:
        if isinstance(module, (Layer, Sequential)):
            args, kwargs = data_first(args, kwargs)
        if isinstance(module, Layer):
            tensors = tensors_in(args[:1])
            return self.builder.apply_layer(module, tensors, site, self._layer_path(module))
        if isinstance(module, Sequential):
            x: Any = args[0]
            self.module_stack.append(module)
            try:
                for item in module.items:
                    # Each item is applied where it is listed in the Sequential.
                    item_site = getattr(item, "site", None) or site
                    x = self.call(item, [x], {}, item_site)
            finally:
                self.module_stack.pop()
            return x
        if isinstance(module, Instance):
            method = module.cls.lookup("forward") or module.cls.lookup("call")
            # The data: the first argument holding a tensor, positional or by keyword.
            given = tensors_in(list(self.bound_call(module, args, kwargs, site).values()))
            first = given[0] if given else None
            if module.called_on is None and first is not None:
                module.called_on = first
            if not isinstance(method, Function) and module.base_layer is not None:
                # A subclass of a framework layer without its own forward is that layer:
                # its weights are counted on the layer's node, not again as its own.
                module.built = True
                attach(module.base_layer, module.parent, module.local_name or "")
                module.base_layer.local_name, module.base_layer.parent = module.local_name, module.parent
                return self.apply(module.base_layer, args, kwargs, site)
            if not isinstance(method, Function):
                if module.container is not None:  # an nn.Sequential subclass without forward
                    self.module_stack.append(module)
                    try:
                        return self.apply(module.container, args, kwargs, site)
                    finally:
                        self.module_stack.pop()
                return self.builder.opaque(ir.TORCH, f"`{module.cls.name}` has no forward/call",
                                           tensors_in(args), site, self._path(module.cls.name))
            self.register_owned(module, [first] if first is not None else [], site)
            self.module_stack.append(module)
            try:
                result = self.call_function(method, [module, *args], kwargs, site, receiver=module)
            finally:
                self.module_stack.pop()
            given = tensors_in(args) + tensors_in(list(kwargs.values()))
            if isinstance(result, Unknown) and given and len(self.frames) > 1:
                # A sub-module whose forward loses the tensor: one opaque step (weights
                # not counted) in its place, so that the rest of the model is followed.
                from .candidacy import located

                framework = self.builder.drafts[given[0].node_id].node.framework
                return self.builder.opaque(
                    framework, f"`{module.cls.name}` gives no tensor portlint can follow "
                               f"({located(result)})", given, site, module_path(module) or "?")
            return result
        tensors = tensors_in(args)
        return self.builder.opaque(ir.KERAS, "nested model applied as a layer is not expanded yet",
                                   tensors, site, "?")

    def register_owned(self, module: Instance, args: list[Any], site: Site,
                       applied_keys: frozenset[int] = frozenset()) -> None:
        """Count a module's own weights once, when it is first applied; Keras layers are
        built first (`build(input_shape)` is where they call add_weight). A base layer
        whose weights an applied layer shares (`applied_keys`) is counted there."""
        if module.built:
            return
        module.built = True
        build = module.cls.lookup("build")
        # A build that already ran (a parent's build calls `self.sub.build(None)`, as
        # Hugging Face's do) is not run again: its add_weight calls would count twice.
        if isinstance(build, Function) and args and isinstance(args[0], Tensor) \
                and module.attrs.get("built") is not True:
            self.call_function(build, [module, self.full_shape(args[0]) or Unknown("shape", site)],
                               {}, site, receiver=module)
        weights = list(module.own_weights)
        weights += [v for v in module.attrs.values() if isinstance(v, Weight) and v not in weights]
        if module.base_layer is not None and module.base_layer.key not in applied_keys:
            # its forward calls F.*: the base holds the weights
            counts = self.layer_counts(module.base_layer)
            self.builder.owned.append((self._owner_name(module), counts, module.base_layer.site))
        if not weights:
            return
        trainable = state = 0
        for weight in weights:
            if weight.shape is None:
                self.builder.owned.append((self._owner_name(module), None, Site(module.cls.source, module.cls.node)))
                return
            if weight.trainable and not weight.buffer:
                trainable += math.prod(weight.shape)
            else:
                state += math.prod(weight.shape)
        self.builder.owned.append((self._owner_name(module), ir.Counts(trainable, state),
                                   Site(module.cls.source, module.cls.node)))

    def apply_to_constant(self, layer: Layer, ids: ConstTensor) -> ConstTensor:
        """A Keras layer applied to a constant tensor (GPT-2's `self.wpe(position_ids)`
        with ids from `tf.range`): no node, but its weights count once, as Keras builds
        it; an embedding gives a constant tensor of its rows."""
        if layer.applied == 0:
            self.builder.owned.append((layer.name or layer.type_name, self.layer_counts(layer),
                                       layer.site))
        layer.applied += 1
        attrs, _ = self.builder.canonical_attrs(layer.spec, layer.args, {})
        width = attrs.get("embedding_dim") if layer.spec.op == Op.EMBEDDING else None
        known = isinstance(width, int) and isinstance(ids.shape, tuple)
        return ConstTensor((*ids.shape, width) if known else None)

    def layer_counts(self, layer: Layer) -> Any:
        """Weights of a torch layer from its arguments alone (no input shape needed)."""
        from ..shapes.counting import count

        attrs, _ = self.builder.canonical_attrs(layer.spec, layer.args, {})
        attrs.update(layer.extra_attrs)
        node = ir.Node(id=-1, op=layer.spec.op, framework=layer.framework,
                       layer_type=layer.type_name, name="", attrs=attrs)
        return count(node, layer.framework)

    def count_unused(self, root: Instance, site: Site) -> None:
        """Modules registered in the tree but never applied in forward (an auxiliary
        classifier used only in training) still hold parameters."""
        # A layer whose weights an applied layer shares (tied) is counted there.
        applied = frozenset(d.node.layer_key for d in self.builder.drafts
                            if d.node.layer_key is not None)
        for module in module_tree(root):
            if isinstance(module, Layer) and module.applied == 0 and module.framework == ir.TORCH \
                    and module.key not in applied:
                self.builder.owned.append((module_path(module) or module.type_name,
                                           self.layer_counts(module), module.site))
            elif isinstance(module, Instance) and not module.built:
                self.register_owned(module, [], site, applied)

    def _owner_name(self, module: Instance) -> str:
        """Keras: the layer name; torch: the module path ("" for the root, as torch's
        named_modules() has it)."""
        if module.keras_name:
            return module.keras_name
        return module_path(module)

    def _path(self, leaf: str) -> str:
        """A name for a step inside the module being applied: `layer1.0.relu`."""
        prefix = module_path(self.module_stack[-1]) if self.module_stack else ""
        return f"{prefix}.{leaf}" if prefix else leaf

    def _layer_path(self, layer: Layer) -> str:
        if layer.framework == ir.KERAS:
            return layer.name or layer.type_name
        return module_path(layer) or self._path(layer.type_name)

    def full_shape(self, tensor: Tensor) -> tuple | None:
        """The tensor's shape with the batch dimension first, when known now."""
        node = self.builder.drafts[tensor.node_id].node
        shape = node.out_shape
        if shape is None:
            return None
        if node.framework == ir.TORCH:  # Keras shapes say None for a size not fixed
            shape = tuple(UnknownSize("tensor size not known statically") if d is None else d
                          for d in shape)
        return (BATCH, *shape)
