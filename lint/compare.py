"""`compare`: the whole pipeline for one pair of model references.

source -> front end -> IR -> shapes/counts -> alignment -> rules -> findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from . import ir
from .align import Alignment, align
from .errors import InputError
from .findings import Finding
from .frontend import ModelRef, extract
from .frontend.hf_config import overrides_of
from .layout import to_layout
from .source import read_for_models, read_source
from .rule import FileContext, FileRule, PairContext, Rule
from .shapes import infer
from .shapes.inference import FEATURES_LAST_OPS, first_layer_op
from .source_facts import attach_source_facts


@dataclass(frozen=True)
class Options:
    keras_version: int = 3
    input_shape: tuple | None = None  # one sample, in the layout of the model lacking one
    select: tuple[str, ...] = ()  # rule names, codes or code prefixes; empty: all
    ignore: tuple[str, ...] = ()
    # Configuration values per side (`--keras-config`, `--torch-config`), canonical JSON:
    # a model built from a default configuration takes them (frontend/hf_config.py).
    keras_config: str | None = None
    torch_config: str | None = None


@dataclass
class PairResult:
    origin: ModelRef
    port: ModelRef
    alignment: Alignment
    port_framework: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def origin_framework(self) -> str:
        return ir.TORCH if self.port_framework == ir.KERAS else ir.KERAS

    def to_json(self) -> dict[str, Any]:
        a = self.alignment
        return {
            "origin": str(self.origin),
            "port": str(self.port),
            "keras": _graph_json(a.keras),
            "torch": _graph_json(a.torch),
            "layers": [row.to_json() for row in a.rows],
            "totals": totals(a),
        }


def compare(origin: str | ModelRef, port: str | ModelRef,
            options: Options = Options()) -> PairResult:
    """Compare two model references (`PATH[::MODEL]` text, or parsed: a path is not text
    to parse); the second is the port findings are located in."""
    refs = [ref if isinstance(ref, ModelRef) else ModelRef.parse(ref) for ref in (origin, port)]
    sources = [_read(ref, refs) for ref in refs]
    overrides = overrides_of(options.keras_config, options.torch_config)
    graphs = [extract(ref, options.keras_version, source, config_overrides=overrides)
              for ref, source in zip(refs, sources)]
    frameworks = {g.framework for g in graphs}
    if frameworks != {ir.KERAS, ir.TORCH}:
        kind = graphs[0].framework
        raise InputError(f"both {refs[0]} and {refs[1]} are {kind} models; "
                         f"compare needs one Keras and one PyTorch model")
    keras_index = 0 if graphs[0].framework == ir.KERAS else 1
    keras, torch = graphs[keras_index], graphs[1 - keras_index]
    infer_shapes(keras, torch, options.input_shape)
    if not torch.input_shape and torch.inputs and torch.nodes[torch.inputs[0]].out_shape:
        # Now that the input is known, interpret the torch model again so that code which
        # asks for sizes (`x.size(1)`, `x.shape[-1]`) can be followed. Parsed only once.
        # When that reading fails (a budget, a size check that now raises), the first
        # one stands: it was a model, only with fewer sizes known.
        shape = torch.nodes[torch.inputs[0]].out_shape
        try:
            again = extract(refs[1 - keras_index], options.keras_version,
                            sources[1 - keras_index], input_shape=shape,
                            config_overrides=overrides)
        except InputError:
            again = None
        if again is not None:
            torch = again
            infer_shapes(keras, torch, options.input_shape)
            graphs[1 - keras_index] = torch
    for graph, ref in ((keras, refs[keras_index]), (torch, refs[1 - keras_index])):
        refuse_unusable(graph, ref)
    alignment = align(keras, torch)
    ctx = PairContext(alignment, port=graphs[1].framework, keras_version=options.keras_version)
    rules = selected_rules(options)
    for graph, source in zip(graphs, sources):
        attach_source_facts(graph, source)
    file_contexts = [FileContext(graph, source, options.keras_version)
                     for graph, source in zip(graphs, sources)]
    findings = run_rules(ctx, rules, file_contexts)
    return PairResult(refs[0], refs[1], alignment, ctx.port, findings)


def _read(ref: ModelRef, refs: list[ModelRef]) -> Any:
    """The file of `ref`, parsed for the models of `refs` in it (both sides may be in
    one file), when each is named by a plain name."""
    models = tuple(sorted({r.model for r in refs if r.path == ref.path and r.model}))
    if any(r.path == ref.path and (not r.model or r.call is not None) for r in refs):
        return read_source(ref.path)
    return read_for_models(ref.path, models)


def refuse_unusable(graph: ir.Graph, ref: ModelRef) -> None:
    """A model of which nothing with weights was extracted, because a step was not
    followed, has nothing to check: an InputError saying what stopped it and where
    (a model with no weights that was followed entirely is checked as usual)."""
    if any(n.counts is not None and (n.counts.trainable or n.counts.state)
           for n in graph.nodes if n.op != ir.Op.OPAQUE):
        return
    opaque = [n for n in graph.nodes if n.op == ir.Op.OPAQUE]
    if not opaque:
        return
    first, where = opaque[0], opaque[0].where
    place = f" at {where.path}:{where.line}" if where is not None else ""
    from .frontend.candidacy import what_to_do

    raise InputError(f"{ref}: nothing with weights was extracted from `{graph.model}`: "
                     f"{first.attrs.get('reason', 'a step was not followed')}{place}; "
                     f"{what_to_do(ref, graph.model)}")


def infer_shapes(keras: ir.Graph, torch: ir.Graph, input_shape: tuple | None) -> None:
    """Give each model an input shape and propagate it.

    Keras's comes from its Input (or the option); torch's from the option, else from the
    Keras input moved to channels-first. When neither source says, the torch model's
    first layer (`in_features`, `in_channels`) still tells part of it.
    """
    keras_shape = keras.input_shape or input_shape
    if keras_shape is None:
        keras_shape = to_layout(declared_input(torch), ir.CHANNELS_FIRST, ir.CHANNELS_LAST)
    infer(keras, keras_shape)
    if torch.input_shape:
        torch_shape = torch.input_shape
    elif input_shape is not None and keras.input_shape:
        torch_shape = input_shape  # the option is for the model that lacks a shape
    elif keras.inputs and keras.nodes[keras.inputs[0]].out_shape is not None:
        k_input = keras.nodes[keras.inputs[0]]
        torch_shape = k_input.out_shape
        if first_layer_op(torch) not in FEATURES_LAST_OPS:
            torch_shape = to_layout(k_input.out_shape, k_input.layout, ir.CHANNELS_FIRST)
    else:
        torch_shape = declared_input(torch)
    infer(torch, torch_shape)


def declared_input(graph: ir.Graph) -> tuple | None:
    """What a torch model's first layer says about its input: (in_features,) for a
    Linear, (in_channels, ?, ...) for a convolution."""
    for node in graph.layers():
        if node.op == "dense" and isinstance(node.attrs.get("in_features"), int):
            return (node.attrs["in_features"],)
        if node.op == "conv" and isinstance(node.attrs.get("in_channels"), int):
            return (node.attrs["in_channels"], *([None] * node.attrs.get("rank", 2)))
        if node.op not in ("activation", "dropout", "identity", "pad"):
            return None
    return None


def selected_rules(options: Options) -> list[Rule]:
    """Instances of the pair rules `options` selects (the registry's `pair_rules`)."""
    from .rules.registry import pair_rules, unknown_selectors

    rules = pair_rules()
    unknown = unknown_selectors((*options.select, *options.ignore), rules)
    if unknown:
        raise InputError(f"unknown rule selector: {', '.join(unknown)} (see `portlint rule`)")
    chosen = [r for r in rules if not options.select or _named(r, options.select)]
    return [r() for r in chosen if not _named(r, options.ignore)]


def _named(rule: type[Rule], selectors: Sequence[str]) -> bool:
    from .rules.registry import matches

    return any(matches(s, rule) for s in selectors)


def run_rules(ctx: PairContext, rules: list[Rule],
              files: Sequence[FileContext] = ()) -> list[Finding]:
    findings = [f for rule in rules for f in rule.check(ctx)]
    findings += [f for rule in rules if isinstance(rule, FileRule)
                 for file in files for f in rule.check_file(file)]
    return sorted(findings, key=Finding.sort_key)


def totals(alignment: Alignment) -> dict[str, Any]:
    """Each side's parameter totals over the layers with a count. A side where some layer
    or owned weight could not be counted (an opaque step, a size not inferred) has
    `"partial": true` and lists them in `"missing"` (a complete side has neither key, as
    before); `reconciled` is given for complete totals only."""
    k, t = alignment.keras, alignment.torch
    out: dict[str, Any] = {"keras": None, "torch": None}
    kc, tc = k.total_counts(), t.total_counts()
    out["keras"] = {"total": kc.trainable + kc.state, "trainable": kc.trainable,
                    "non_trainable": kc.state, **_completeness(k)}
    out["torch"] = {"parameters": tc.trainable, "buffers": tc.state + tc.torch_extra_buffers,
                    "running_stats": tc.state, "num_batches_tracked": tc.torch_extra_buffers,
                    "folded_bias": tc.folded_bias, **_completeness(t)}
    if not (out["keras"].get("partial") or out["torch"].get("partial")):
        out["reconciled"] = (out["keras"]["trainable"] == out["torch"]["parameters"] - tc.folded_bias
                             and out["keras"]["non_trainable"] == out["torch"]["running_stats"])
    return out


def _completeness(graph: ir.Graph) -> dict[str, Any]:
    """`partial` and `missing`: the layers and owned weights of `graph` without a count."""
    missing = []
    for node in graph.nodes:
        if node.counts is None and node.op != ir.Op.INPUT:
            entry = {"node": node.id, "name": node.name, "layer_type": node.layer_type,
                     "reason": node.attrs.get("reason") or "layer size not inferred"}
            where = node.where
            entry["location"] = where.to_json() if where is not None else None
            missing.append(entry)
    for owned in graph.owned:
        if owned.counts is None:
            missing.append({"node": None, "name": owned.name or "(root)",
                            "layer_type": "owned weights", "reason": "weight shape not known",
                            "location": owned.span.to_json() if owned.span else None})
    return {"partial": True, "missing": missing} if missing else {}


def _graph_json(graph: ir.Graph) -> dict[str, Any]:
    return {
        "path": graph.path,
        "model": graph.model,
        "input_shape": list(graph.input_shape) if graph.input_shape else None,
        "location": graph.span.to_json() if graph.span else None,
        "nodes": [n.to_json() for n in graph.nodes],
    }
