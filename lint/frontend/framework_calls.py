"""Calls into a framework (`nn.Conv2d(...)`, `F.relu(x)`, `keras.Input(...)`): layers,
containers, inputs and graph nodes, by what the knowledge tables resolve the name to."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from .. import ir
from ..knowledge import LayerSpec
from ..knowledge import keras as K
from ..knowledge import tensorflow as TF
from ..knowledge import torch as T
from ..knowledge.ops import Op
from . import constant_tensors
from .frameworks import Resolved, resolve
from .modules import attach
from .python import bind_arguments
from .tf_calls import TF_CALLS
from .values import (Builtin, ConstTensor, FrameworkRef, KerasModel, Layer, Sequential, ShapeOf, Site,
                     Tensor, Unknown, Weight, flat, module_path, tensors_in)


class FrameworkCalls:
    """Framework calls (a part of the Interpreter)."""

    def call_framework(self, ref: FrameworkRef, args: list[Any], kwargs: dict[str, Any],
                       site: Site, arg_sites: dict[Any, Site]) -> Any:
        resolved = resolve(ref.path)
        if resolved.framework == ir.TORCH and not tensors_in(args) and (
                resolved.kind == "constant_function"
                or any(isinstance(a, ConstTensor) for a in flat(args))):
            result = constant_tensors.call(resolved.name, args, kwargs)
            if result is not None:
                return result
        call = FrameworkCall(resolved, ref, args, kwargs, site, arg_sites)
        handler = FRAMEWORK_CALLS.get(resolved.kind)
        result = NOT_HANDLED if handler is None else handler(self, call)
        return _not_in_tables(self, call) if result is NOT_HANDLED else result

    def construct_layer(self, resolved: Resolved, args: list[Any], kwargs: dict[str, Any],
                        site: Site, arg_sites: dict[Any, Site]) -> Layer:
        spec = resolved.spec
        aliases = K.ALIASES.get(resolved.name, {}) if resolved.framework == ir.KERAS else {}
        bound, bound_sites = bind_arguments(spec.params, args, kwargs, arg_sites, aliases)
        self.layer_keys += 1
        if spec.op == Op.WRAPPER:
            inner = bound.get("layer")
            if not isinstance(inner, Layer):
                return Unknown(f"`{resolved.name}` of a layer not known statically", site)
            spec, bound, bound_sites = wrapped_layer(spec, bound, bound_sites, inner)
        layer = Layer(framework=resolved.framework, type_name=resolved.name, spec=spec,
                      args=bound, site=site, arg_sites=bound_sites, key=self.layer_keys)
        if spec is not resolved.spec:
            layer.type_name = f"{resolved.name}({inner.type_name})"
        if resolved.framework == ir.KERAS:
            name = bound.get("name")
            layer.name = name if isinstance(name, str) else self.builder.keras_auto_name(resolved.name)
        return layer

    def construct_sequential(self, framework: str, args: list[Any], kwargs: dict[str, Any],
                             site: Site) -> Sequential:
        names: list[str] = []
        items: list[Any] = []
        if framework == ir.KERAS:
            layers = args[0] if args else kwargs.get("layers", [])
            items = list(self.iterate(layers) or [])
        elif len(args) == 1 and isinstance(args[0], dict):
            for key, value in args[0].items():
                names.append(str(key))
                items.append(value)
        else:
            items = list(args)
        seq = Sequential(framework=framework, items=[], names=[], site=site)
        if framework == ir.KERAS and isinstance(kwargs.get("name"), str):
            seq.name = kwargs["name"]
        for index, item in enumerate(items):
            self.sequential_add(seq, item, names[index] if names else None)
        return seq

    def construct_container(self, kind_name: str, args: list[Any], kwargs: dict[str, Any],
                            site: Site) -> Any:
        """nn.ModuleList(iterable) / nn.ModuleDict(mapping)."""
        kind = "dict" if kind_name == "ModuleDict" else "list"
        container = Sequential(ir.TORCH, [], [], site, kind=kind)
        source = args[0] if args else kwargs.get("modules")
        if source is None:
            return container
        if kind == "dict":
            pairs = list(source.items()) if isinstance(source, dict) else self.iterate(source)
            for pair in pairs or []:
                if isinstance(pair, (tuple, list)) and len(pair) == 2:
                    self.sequential_add(container, pair[1], str(pair[0]))
        else:
            for item in self.iterate(source) or []:
                self.sequential_add(container, item)
        return container

    def sequential_add(self, seq: Sequential, item: Any, name: str | None = None) -> None:
        if isinstance(item, Tensor):  # keras.Input(...) as the first item
            seq.input_shape = self.builder.drafts[item.node_id].node.attrs.get("shape")
            return
        if isinstance(item, Layer) and item.type_name == "InputLayer":
            seq.input_shape = item.args.get("shape")
            return
        if not seq.items and isinstance(item, Layer) and "input_shape" in item.args:
            seq.input_shape = item.args["input_shape"]
        label = name if name is not None else str(len(seq.items))
        if seq.framework == ir.TORCH:
            # Items of an nn.Sequential/ModuleDict subclass belong to the instance itself.
            attach(item, seq.owner or seq, label)
        seq.items.append(item)
        seq.names.append(label)

    def apply_function(self, resolved: Resolved, args: list[Any], kwargs: dict[str, Any],
                       site: Site, arg_sites: dict[Any, Site]) -> Any:
        spec = resolved.spec
        bound, bound_sites = bind_arguments(spec.params, args, kwargs, arg_sites)
        # The data argument: `input` (F.relu), `tensors` (torch.cat), `inputs` (keras add),
        # and the second operand of a product or sum (`other`, `mat2`) when it is a tensor.
        tensors = tensors_in([bound.pop(name, None) for name in ("input", "tensors", "inputs")])
        tensors += tensors_in([bound.pop(name) for name in ("other", "mat2")
                               if tensors and name in bound and tensors_in([bound[name]])])
        if not tensors:
            return Unknown(f"`{resolved.name}` called without a tensor", site)
        if spec.op == Op.CHUNK:
            return self._chunks(resolved.framework, f"torch.{resolved.name}", spec, bound,
                                bound_sites, tensors, site)
        prefix = {"keras": "layers.", "torch": "torch." if resolved.name in T.ROOT_FUNCTIONS else "F."}
        return self.builder.apply_function(resolved.framework,
                                           prefix[resolved.framework] + resolved.name,
                                           spec, bound, bound_sites, tensors, site,
                                           self._path(resolved.name))

    def apply_weight_call(self, resolved: Resolved, args: list[Any], kwargs: dict[str, Any],
                          site: Site, arg_sites: dict[Any, Site]) -> Any:
        """`F.conv2d(x, self.weight, self.bias, stride, padding, ...)` with the weights of
        the module being applied: that module, with the call's stride/padding/... (a
        Conv2dSame pads in forward and convolves with padding 0). None: not such a call."""
        bound, _ = bind_arguments(T.WEIGHT_CALLS[resolved.name], args, kwargs, arg_sites)
        weight, tensors = bound.get("weight"), tensors_in([bound.get("input")])
        layer = weight.owner if isinstance(weight, ConstTensor) else None
        if not isinstance(layer, Layer) or not tensors:
            return None
        overrides = {k: v for k, v in bound.items() if k not in ("input", "weight", "bias")}
        if "bias" in bound and bound["bias"] is None:
            overrides["bias"] = False
        applied = dataclasses.replace(
            layer, args={**layer.args, **overrides},
            arg_sites={k: v for k, v in layer.arg_sites.items() if k not in overrides})
        # Its weights are counted on this node, not as the module's own (register_owned).
        self.builder.owned = [o for o in self.builder.owned if o[2] is not layer.site]
        path = module_path(self.module_stack[-1]) if self.module_stack else self._path(resolved.name)
        return self.builder.apply_layer(applied, tensors, site, path)

    def _chunks(self, framework: str, type_name: str, spec: LayerSpec, bound: dict[str, Any],
                sites: dict[str, Site], tensors: list[Tensor], site: Site) -> Any:
        """x.chunk(n): n tensors, one node each."""
        count = bound.get("chunks")
        if not isinstance(count, int) or not 0 < count <= 64:
            return self.builder.opaque(framework, "chunk count not known statically", tensors,
                                       site, self._path("chunk"))
        return tuple(self.builder.apply_function(framework, type_name, spec, {**bound, "index": i},
                                                 sites, tensors, site, self._path(f"chunk{i}"))
                     for i in range(count))


def wrapped_layer(wrapper: LayerSpec, bound: dict[str, Any], sites: dict[str, Site],
                  inner: Layer) -> tuple[LayerSpec, dict[str, Any], dict[str, Site]]:
    """keras Bidirectional(LSTM(...)): the inner layer's spec with the wrapper's attrs."""
    attrs = {**inner.spec.attrs, **wrapper.attrs}
    defaults = {**inner.spec.defaults, **wrapper.defaults}
    params = (*inner.spec.params, *[p for p in wrapper.params if p != "layer"])
    spec = dataclasses.replace(inner.spec, params=params, defaults=defaults, attrs=attrs,
                               fixed={**inner.spec.fixed, **wrapper.fixed})
    args = {**inner.args, **{k: v for k, v in bound.items() if k != "layer"}}
    return spec, args, {**inner.arg_sites, **{k: v for k, v in sites.items() if k != "layer"}}


@dataclasses.dataclass
class FrameworkCall:
    """One call of a framework name, as its handler sees it."""

    resolved: Resolved
    ref: FrameworkRef
    args: list[Any]
    kwargs: dict[str, Any]
    site: Site
    arg_sites: dict[Any, Site]


NOT_HANDLED = object()  # a handler's "not such a call after all": the generic case applies


def _layer(interp: Any, call: FrameworkCall) -> Any:
    return interp.construct_layer(call.resolved, call.args, call.kwargs, call.site,
                                  call.arg_sites)


def _sequential(interp: Any, call: FrameworkCall) -> Any:
    return interp.construct_sequential(call.resolved.framework, call.args, call.kwargs,
                                       call.site)


def _module_list(interp: Any, call: FrameworkCall) -> Any:
    return interp.construct_container(call.resolved.name, call.args, call.kwargs, call.site)


def _input(interp: Any, call: FrameworkCall) -> Any:
    args, kwargs = call.args, call.kwargs
    shape = kwargs.get("shape", args[0] if args else None)
    name = kwargs.get("name") if isinstance(kwargs.get("name"), str) else K.INPUT_NAME
    return interp.builder.add_input(call.resolved.framework, shape, call.site, name=name)


def _model(interp: Any, call: FrameworkCall) -> Any:
    """keras.Model(inputs, outputs); without them, a subclass's `super().__init__()`."""
    args, kwargs = call.args, call.kwargs
    inputs = kwargs.get("inputs", args[0] if args else None)
    outputs = kwargs.get("outputs", args[1] if len(args) > 1 else None)
    if inputs is None and outputs is None:
        return Builtin("noop")
    found = tensors_in([outputs])
    return KerasModel(tensors_in([inputs]), found, call.site, None if found else outputs)


def _function(interp: Any, call: FrameworkCall) -> Any:
    return interp.apply_function(call.resolved, call.args, call.kwargs, call.site,
                                 call.arg_sites)


def _weight_call(interp: Any, call: FrameworkCall) -> Any:
    applied = interp.apply_weight_call(call.resolved, call.args, call.kwargs, call.site,
                                       call.arg_sites)
    return NOT_HANDLED if applied is None else applied


def _tensor_factory(interp: Any, call: FrameworkCall) -> Any:
    """torch.zeros(2, 3), torch.ones((2, 3)), torch.full(size, value): their shape."""
    dims = T.factory_dims(call.resolved.name, call.args)
    shape = tuple(dims) if all(isinstance(d, int) for d in dims) else None
    return ConstTensor(shape)


def _parameter(interp: Any, call: FrameworkCall) -> Any:
    args, kwargs = call.args, call.kwargs
    data = args[0] if args else kwargs.get("data")
    shape = data.shape if isinstance(data, (ConstTensor, Weight)) else None
    trainable = kwargs.get("requires_grad", args[1] if len(args) > 1 else True)
    return Weight(shape, trainable=trainable is not False)


def _reparametrization(interp: Any, call: FrameworkCall) -> Any:
    """`nn.utils.weight_norm(conv, name="weight", dim=2)`: the same module, whose weight
    is now a norm and a direction (its count gains the norms); torch changes it in place."""
    params, defaults = T.REPARAMETRIZATIONS[call.resolved.name]
    bound, _ = bind_arguments(params, call.args, call.kwargs, call.arg_sites)
    module = bound.get("module")
    if not isinstance(module, Layer):
        return NOT_HANDLED
    name, dim = bound.get("name", defaults["name"]), bound.get("dim", defaults["dim"])
    known = name == "weight" and (dim is None or isinstance(dim, int) and not isinstance(dim, bool))
    module.extra_attrs["weight_norm_dim"] = dim if known else ir.UNKNOWN
    return module


def _config(interp: Any, call: FrameworkCall) -> Any:
    """keras.initializers.Constant(0.2): a setting, as text."""
    shown = ", ".join([repr(a) for a in call.args]
                      + [f"{k}={v!r}" for k, v in call.kwargs.items()])
    return f"{call.resolved.name}({shown})"


def _helper(interp: Any, call: FrameworkCall) -> Any:
    def shape_of(value: Any) -> Any:
        if isinstance(value, Tensor):
            return interp.builder.drafts[value.node_id].node.out_shape
        return None

    try:
        return K.HELPERS[call.resolved.name](call.args, call.kwargs, shape_of)
    except Exception:  # a helper met arguments outside its modelled use
        return Unknown(f"`{call.ref.path}` with these arguments", call.site)


def _tf_function(interp: Any, call: FrameworkCall) -> Any:
    """tf.reshape(x, shape), tf.transpose(a, perm), tf.concat(values, axis)."""
    spec = call.resolved.spec
    bound, sites = bind_arguments(spec.params, call.args, call.kwargs, call.arg_sites)
    data = next((p for p in TF.DATA_PARAMS if p in bound and tensors_in([bound[p]])), None)
    if data is None:
        # Reshaping constant ids (`tf.expand_dims(tf.range(n), 0)`): still constant.
        constant = next((bound[p] for p in TF.DATA_PARAMS if p in bound), None)
        reduce = TF.NUMBER_REDUCTIONS.get(call.resolved.name)
        if reduce is not None and bound.get("axis") is None and isinstance(constant, (list, tuple)) \
                and constant and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in constant):
            return reduce(constant)
        return ConstTensor(None) if isinstance(constant, ConstTensor) else NOT_HANDLED
    tensors = tensors_in([bound.pop(p) for p in TF.DATA_PARAMS if p in bound])
    bound.pop("name", None)
    return interp.builder.apply_function(ir.KERAS, f"tf.{call.resolved.name}", spec, bound, sites,
                                         tensors, call.site, interp._path(call.resolved.name))


def _tf_gather(interp: Any, call: FrameworkCall) -> Any:
    """tf.gather(params=self.weight, indices=ids): a lookup in a layer's own 2-D weight."""
    bound, _ = bind_arguments(("params", "indices"), call.args[:2],
                              {k: v for k, v in call.kwargs.items() if k in ("params", "indices")},
                              call.arg_sites)
    weight, indices = bound.get("params"), tensors_in([bound.get("indices")])
    shape = weight.shape if isinstance(weight, Weight) else None
    if not (isinstance(shape, tuple) and len(shape) == 2):
        return NOT_HANDLED
    if not indices:
        # Constant ids (`tf.range(...)` positions): a constant tensor of embeddings.
        ids = bound.get("indices")
        ids_shape = ids.shape if isinstance(ids, ConstTensor) else None
        return ConstTensor(None if ids_shape is None else (*ids_shape, shape[1]))
    attrs = {"num_embeddings": shape[0], "embedding_dim": shape[1]}
    return interp.builder.apply_function(ir.KERAS, "tf.gather", call.resolved.spec, attrs, {},
                                         indices, call.site, interp._path("gather"))


def _activation(interp: Any, call: FrameworkCall) -> Any:
    """keras.activations.relu(x); without a tensor, the activation itself (a setting)."""
    data = call.args[:1] or [call.kwargs[k] for k in TF.ACTIVATION_DATA if k in call.kwargs][:1]
    tensors = tensors_in(data)
    if not tensors:
        return call.ref
    resolved = call.resolved
    return interp.builder.apply_activation(resolved.framework, call.ref.path.rsplit(".", 1)[-1],
                                           resolved.activation, tensors, call.site,
                                           interp._path(resolved.name))


def _not_in_tables(interp: Any, call: FrameworkCall) -> Any:
    """A framework name the tables do not model: torch's weight initialisers mark the
    model as custom-initialised; a function of tensors becomes an opaque node."""
    resolved, ref, site = call.resolved, call.ref, call.site
    if resolved.framework == ir.TORCH and resolved.name.startswith(T.INIT_NAMESPACE):
        interp.builder.custom_init = True
        return None
    tensors = tensors_in(call.args) + tensors_in(list(call.kwargs.values()))
    if tensors:
        framework = resolved.framework or interp.builder.drafts[tensors[0].node_id].node.framework
        # A framework function (torch.roll, tf.image.resize): it holds no weights.
        return interp.builder.opaque(framework, f"`{ref.path}` is not in portlint's tables",
                                     tensors, site, interp._path(ref.path.rsplit(".", 1)[-1]),
                                     functional=resolved.kind != "layer")
    return Unknown(f"`{ref.path}` is not in portlint's tables", site)


# What a framework call does, by the kind `frameworks.resolve` gives its name.
FRAMEWORK_CALLS: dict[str, Callable[[Any, FrameworkCall], Any]] = {
    "layer": _layer,
    "sequential": _sequential,
    "module_list": _module_list,
    "input": _input,
    "model": _model,
    "function": _function,
    "weight_call": _weight_call,
    "tensor_factory": _tensor_factory,
    "parameter": _parameter,
    "reparametrization": _reparametrization,
    "config": _config,
    "helper": _helper,
    "activation": _activation,
    "tf_function": _tf_function,
    "tf_gather": _tf_gather,
    "tf_shape": lambda interp, call: ShapeOf(call.args[0]) if call.args and isinstance(
        call.args[0], Tensor) else NOT_HANDLED,
    **TF_CALLS,
}
