"""Turns layer applications seen by the interpreter into IR nodes.

Binding arguments to a layer's signature, reading canonical attributes from the knowledge
tables and splitting a fused `activation=` into its own node all happen here, the same
way for both frameworks.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from .. import ir
from ..knowledge import REQUIRED, ActivationSpec, LayerSpec, canonical_activation
from ..knowledge import keras as K
from ..knowledge.ops import Op
from ..shapes.inference import infer_node
from ..source import LazySpan
from .callee import computed_arguments
from .frameworks import resolve
from .values import FrameworkRef, Layer, Site, Tensor, Unknown, UnknownSize


@dataclass
class _Draft:
    node: ir.Node
    site: Site | None
    call_site: Site | None
    arg_sites: Mapping[str, Site] = field(default_factory=dict)


@dataclass
class GraphBuilder:
    keras_version: int = 3
    drafts: list[_Draft] = field(default_factory=list)
    unresolved: list[tuple[str, Site | None]] = field(default_factory=list)
    custom_init: bool = False
    input_shape: tuple | None = None  # for input nodes without a shape of their own
    owned: list[tuple[str, ir.Counts | None, Site | None]] = field(default_factory=list)
    _auto_names: dict[str, int] = field(default_factory=dict)

    # --- naming ------------------------------------------------------------------------

    def keras_auto_name(self, type_name: str) -> str:
        """Keras names layers `conv2d`, `conv2d_1`, ... by class (keras.src.utils.naming)."""
        base = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", type_name)
        base = re.sub("([a-z])([A-Z])", r"\1_\2", base).lower()
        count = self._auto_names.get(base, 0)
        self._auto_names[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    # --- nodes -------------------------------------------------------------------------

    def _add(self, node: ir.Node, site: Site | None, call_site: Site | None,
             arg_sites: Mapping[str, Site] | None = None) -> Tensor:
        node.id = len(self.drafts)
        # Shapes as far as known now, for code that asks (`x.shape[1]`, Keras's
        # correct_pad); shape inference proper runs again over the finished graph.
        infer_node(node, [self.drafts[i].node for i in node.inputs], node.framework,
                   self.input_shape if node.op == Op.INPUT else None)
        self.drafts.append(_Draft(node, site, call_site, arg_sites or {}))
        return Tensor(node.id)

    def note_unresolved(self, reason: str, site: Site | None) -> None:
        self.unresolved.append((reason, site))

    def add_input(self, framework: str, shape: Any, site: Site | None, name: str = "input",
                  layout: str | None = None) -> Tensor:
        if not isinstance(shape, (list, tuple)):
            shape = self.input_shape
        # A size the code computes in a way not followed is unknown, not an Unknown value.
        attrs = {"shape": tuple(d if type(d) is int or d is None else None for d in shape)
                 if isinstance(shape, (list, tuple)) else None}
        if layout is not None:
            attrs["layout"] = layout
        node = ir.Node(id=-1, op=Op.INPUT, framework=framework, layer_type="Input", name=name,
                       attrs=attrs)
        return self._add(node, site, None)

    def opaque(self, framework: str, reason: str, inputs: list[Tensor], site: Site | None,
               scope: str, functional: bool = False) -> Tensor:
        """A step the front end could not model. `functional` steps (tensor indexing, an
        unknown tensor method) hold no weights; others may (an unknown module)."""
        self.note_unresolved(reason, site)
        node = ir.Node(id=-1, op=Op.OPAQUE, framework=framework, layer_type="?",
                       name=scope or "?", attrs={"reason": reason},
                       inputs=[t.node_id for t in inputs], functional=functional)
        return self._add(node, None, site)

    def apply_layer(self, layer: Layer, inputs: list[Tensor], call_site: Site | None,
                    path: str) -> Any:
        """Apply a constructed layer to tensors: one node, plus one for a fused activation."""
        spec = layer.spec
        attrs, explicit = self.canonical_attrs(spec, layer.args, layer.arg_sites)
        attrs.update(layer.extra_attrs)
        activation = None
        if spec.op == Op.ACTIVATION and "kind" not in spec.fixed:
            # keras.layers.Activation(...): the kind comes from the argument.
            activation = self.activation_of(layer.args.get("activation"), layer.arg_sites.get("activation"))
            if activation is not None:
                attrs.update(kind=activation.kind, **activation.params)
                explicit = explicit | frozenset(activation.params)
        if spec.op == Op.ACTIVATION:
            attrs = canonical_activation(attrs)
        if spec.op == Op.SEPARABLE_CONV:
            inputs = [self._depthwise_half(layer, attrs, explicit, inputs, call_site, path)]
            attrs = separable_pointwise(attrs)
        node = ir.Node(id=-1, op=spec.op if spec.op != Op.SEPARABLE_CONV else Op.CONV,
                       framework=layer.framework, layer_type=layer.type_name, name=path,
                       attrs=attrs, explicit=explicit,
                       inputs=[t.node_id for t in inputs], layer_key=layer.key)
        layer.applied += 1
        out = self._add(node, layer.site, call_site, layer.arg_sites)
        if spec.op == Op.RNN:
            return self._rnn_outputs(node, out, call_site, path)
        if spec.outputs > 1:
            return (out, *[Unknown(f"output {i} of {layer.type_name}") for i in range(1, spec.outputs)])
        if spec.fused_activation:
            value = layer.args.get(spec.fused_activation, spec.default(spec.fused_activation))
            fused = self.activation_of(value, layer.arg_sites.get(spec.fused_activation))
            if fused is not None and fused.kind not in ("linear",):
                act = ir.Node(id=-1, op=Op.ACTIVATION, framework=layer.framework,
                              layer_type=f"{layer.type_name}(activation=)",
                              name=f"{path}.activation",
                              attrs={"kind": fused.kind, **fused.params},
                              inputs=[out.node_id], fused_into=node.id)
                site = layer.arg_sites.get(spec.fused_activation, layer.site)
                out = self._add(act, site, call_site)
        return out

    def _depthwise_half(self, layer: Layer, attrs: dict[str, Any], explicit: frozenset[str],
                        inputs: list[Tensor], call_site: Site | None, path: str) -> Tensor:
        """Keras SeparableConv2D is a depthwise convolution (no bias) followed by a 1x1
        convolution with the layer's one bias: two nodes, as a torch port writes it."""
        depthwise = {k: v for k, v in attrs.items() if k not in ("filters", "bias")}
        node = ir.Node(id=-1, op=Op.DEPTHWISE_CONV, framework=layer.framework,
                       layer_type=f"{layer.type_name}(depthwise)", name=path,
                       attrs={**depthwise, "bias": False}, explicit=explicit,
                       inputs=[t.node_id for t in inputs], layer_key=-layer.key)
        return self._add(node, layer.site, call_site, layer.arg_sites)

    def _rnn_outputs(self, rnn: ir.Node, out: Tensor, call_site: Site | None, path: str) -> Any:
        """torch: `(output, h_n)` or `(output, (h_n, c_n))`; Keras with return_state:
        `[output, h, c]`, per direction for Bidirectional."""
        states = ("h", "c") if rnn.attrs.get("cell") == "lstm" else ("h",)

        def state(which: str, direction: str = "") -> Tensor:
            node = ir.Node(id=-1, op=Op.RNN_STATE, framework=rnn.framework,
                           layer_type=f"{rnn.layer_type} state {which}",
                           name=f"{path}.{direction}{which}",
                           attrs={"which": which, "direction": direction or None},
                           inputs=[out.node_id], functional=True)
            return self._add(node, None, call_site)

        if rnn.framework == ir.TORCH:
            made = tuple(state(which) for which in states)
            return (out, made[0] if len(made) == 1 else made)
        if not rnn.attrs.get("return_state"):
            return out
        directions = ("forward_", "backward_") if rnn.attrs.get("bidirectional") else ("",)
        return [out, *[state(which, d) for d in directions for which in states]]

    def apply_index(self, framework: str, tensor: Tensor, index: tuple, site: Site | None,
                    path: str) -> Tensor:
        node = ir.Node(id=-1, op=Op.INDEX, framework=framework, layer_type="x[...]", name=path,
                       attrs={"index": index}, inputs=[tensor.node_id], functional=True)
        return self._add(node, None, site)

    def apply_function(self, framework: str, type_name: str, spec: LayerSpec,
                       args: dict[str, Any], arg_sites: dict[str, Site],
                       inputs: list[Tensor], site: Site | None, path: str) -> Tensor:
        attrs, explicit = self.canonical_attrs(spec, args, arg_sites)
        node = ir.Node(id=-1, op=spec.op, framework=framework, layer_type=type_name,
                       name=path, attrs=attrs, explicit=explicit,
                       inputs=[t.node_id for t in inputs], functional=True)
        return self._add(node, None, site, arg_sites)

    def apply_activation(self, framework: str, type_name: str, activation: ActivationSpec,
                         inputs: list[Tensor], site: Site | None, path: str) -> Tensor:
        node = ir.Node(id=-1, op=Op.ACTIVATION, framework=framework, layer_type=type_name,
                       name=path, attrs={"kind": activation.kind, **activation.params},
                       inputs=[t.node_id for t in inputs])
        return self._add(node, None, site)

    # --- attributes --------------------------------------------------------------------

    def canonical_attrs(self, spec: LayerSpec, args: Mapping[str, Any],
                        arg_sites: Mapping[str, Site]) -> tuple[dict[str, Any], frozenset[str]]:
        full: dict[str, Any] = {}
        for param in set(spec.params) | set(spec.defaults) | set(args):
            value = args[param] if param in args else spec.default(param, self.keras_version)
            full[param] = self._plain(value, param, arg_sites.get(param))
        attrs: dict[str, Any] = dict(spec.fixed)
        explicit = set()
        for name, attr in spec.attrs.items():
            value = full.get(attr.source, REQUIRED)
            if value is REQUIRED:
                attrs[name] = ir.UNKNOWN
                continue
            if ir.is_known(value):
                try:
                    value = attr.convert(value, full)
                except Exception:  # a converter met a value shape it does not know
                    value = ir.UNKNOWN
            attrs[name] = value
            if attr.source in args:
                explicit.add(name)
        return attrs, frozenset(explicit)

    def _plain(self, value: Any, param: str, site: Site | None) -> Any:
        """Layer arguments become plain data; anything else is UNKNOWN and reported."""
        if value is REQUIRED:
            return REQUIRED
        if isinstance(value, (bool, int, float, str)) or value is None:
            return value
        if isinstance(value, (tuple, list)):
            return tuple(self._plain(v, param, site) for v in value)
        if isinstance(value, UnknownSize):
            return ir.UNKNOWN  # a dimension not known: not a construct to report
        if isinstance(value, Unknown):
            self.note_unresolved(f"argument `{param}`: {value.reason}", value.site or site)
            return ir.UNKNOWN
        if isinstance(value, FrameworkRef):
            return value.path.rsplit(".", 1)[-1]
        return ir.UNKNOWN

    def activation_of(self, value: Any, site: Site | None) -> ActivationSpec | None:
        """The activation a Keras `activation=` argument names, or None for none."""
        if value is None:
            return None
        if isinstance(value, FrameworkRef):
            resolved = resolve(value.path)  # keras.ops.gelu is not activations.gelu
            if resolved.kind == "activation" and resolved.activation is not None:
                return resolved.activation
            value = value.path.rsplit(".", 1)[-1]
        if isinstance(value, str):
            by_version = K.VERSION_ACTIVATIONS.get(self.keras_version, {})
            spec = by_version.get(value.lower()) or K.ACTIVATIONS.get(value.lower())
            if spec is None:
                self.note_unresolved(f"unknown activation {value!r}", site)
                return ActivationSpec(value.lower())
            return spec
        reason = value.reason if isinstance(value, Unknown) else f"activation given as {type(value).__name__}"
        self.note_unresolved(f"activation: {reason}", site)
        return ActivationSpec("?")

    # --- extraction --------------------------------------------------------------------

    def extract(self, framework: str, path: str, model: str, outputs: list[Tensor],
                model_site: Site | None) -> ir.Graph:
        """The subgraph that computes `outputs`, renumbered in evaluation order."""
        needed: set[int] = set()
        stack = [t.node_id for t in outputs]
        while stack:
            nid = stack.pop()
            if nid in needed:
                continue
            needed.add(nid)
            stack.extend(self.drafts[nid].node.inputs)
        renumber = {old: new for new, old in enumerate(sorted(needed))}
        graph = ir.Graph(framework=framework, path=path, model=model)
        for old in sorted(needed):
            draft = self.drafts[old]
            node = dataclasses.replace(draft.node, inputs=list(draft.node.inputs))
            node.id = renumber[old]
            node.inputs = [renumber[i] for i in node.inputs]
            if node.fused_into is not None:
                node.fused_into = renumber.get(node.fused_into)
            node.span = _span(draft.site)
            node.call_span = _span(draft.call_site)
            node.arg_spans = {p: s for p, site in draft.arg_sites.items() if (s := _span(site))}
            construction = draft.site if node.fused_into is None else None
            if construction is None and node.span is None:
                construction = draft.call_site  # functional calls: the call is the construction
            node.insert_at, node.insert_prefix = _insertion_point(construction)
            node.indirect = construction.indirect if construction is not None else None
            node.computed_args = computed_arguments(draft.arg_sites)
            graph.nodes.append(node)
            if node.op == Op.INPUT:
                graph.inputs.append(node.id)
        graph.outputs = [renumber[t.node_id] for t in outputs]
        graph.span = _span(model_site)
        graph.custom_init = self.custom_init
        graph.owned = [ir.OwnedWeights(name, counts, _span(site)) for name, counts, site in self.owned]
        if framework == ir.TORCH:
            kept = {n.layer_key for n in graph.nodes if n.layer_key is not None}
            graph.owned += self._dropped_weights(needed, kept)
        for reason, site in self.unresolved:
            graph.unresolved.append(ir.Unresolved(reason, _span(site)))
        return graph

    def _dropped_weights(self, needed: set[int], kept_keys: set[int]) -> list[ir.OwnedWeights]:
        """torch: a module applied in forward whose result does not reach the outputs
        (ConvBERT's and MPNet's q/k/v when a later step of the attention is not followed)
        still holds its parameters: counted as owned weights, once per layer."""
        from ..shapes.counting import count

        out: list[ir.OwnedWeights] = []
        seen = set(kept_keys)
        for index, draft in enumerate(self.drafts):
            node = draft.node
            if index in needed or node.functional or node.layer_key is None \
                    or node.layer_key in seen or node.op in (Op.INPUT, Op.OPAQUE):
                continue
            seen.add(node.layer_key)
            counts = count(node, ir.TORCH)
            if counts is None or counts.trainable or counts.state:
                out.append(ir.OwnedWeights(node.name, counts, _span(draft.site)))
        return out


def _insertion_point(site: Site | None) -> tuple[ir.Span | None, str]:
    """Where a keyword argument can be added to the call at `site` (computed lazily: it
    is read only when a fix is made)."""
    if site is None or type(site.node).__name__ != "Call":
        return None, ", "
    call, source = site.node, site.source

    def point() -> ir.Span | None:
        if call.args:
            last = source.span(call.args[-1].value)
            return last and ir.Span(source.path, last.end_line, last.end_column,
                                    last.end_line, last.end_column)
        whole = source.span(call)  # just before ")"
        return whole and ir.Span(source.path, whole.end_line, whole.end_column - 1,
                                 whole.end_line, whole.end_column - 1)

    return LazySpan(resolve=point), ", " if call.args else ""


def _span(site: Site | None) -> ir.Span | None:
    if site is None or site.node is None:
        return None
    return site.source.lazy_span(site.node)


def separable_pointwise(attrs: dict[str, Any]) -> dict[str, Any]:
    """The 1x1 half of a separable convolution: filters and bias, unit kernel and stride."""
    rank = attrs.get("rank", 2)
    return {**{k: v for k, v in attrs.items() if k not in ("depth_multiplier",)},
            "kernel": (1,) * rank, "stride": (1,) * rank, "dilation": (1,) * rank,
            "padding": "valid", "groups": 1}
