"""Front ends: from a model reference `PATH[::MODEL]` to an IR graph, without running code.

Both frameworks share one interpreter; what differs is how a model is found in a file
and how it is applied to a symbolic input (Keras: a functional graph, a Sequential or a
subclass's `call`; torch: a module's `forward`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import ir
from ..errors import InputError
from ..source import SourceFile, read_source
from . import hf_config
from .builder import GraphBuilder
from .candidacy import NotFollowed, required_arguments, what_to_do, where
from . import methods
from .conventions import convention_for
from .frameworks import resolve
from .interpreter import BudgetExceeded, Interpreter
from ..outline import Chain, Definition, calls_in, mentions, outline
from .values import (Class, FrameworkRef, Function, Instance, KerasModel, ModelOutput,
                     Sequential, Site, Tensor, Unknown)


@dataclass(frozen=True)
class ModelRef:
    """`PATH`, `PATH::NAME` or `PATH::NAME(ARGS)`.

    ARGS are Python call arguments, evaluated statically in the file's scope, so they may
    use the file's names: `resnet.py::resnet50(num_classes=10)`,
    `modeling.py::Model(config=Config(hidden_size=64))`.
    """

    path: str
    model: str | None = None
    call: str | None = None  # the argument text between the parentheses

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        path, sep, model = text.partition("::")
        if sep and not model:
            raise InputError(f"{text}: empty model name after '::'")
        call = None
        if "(" in model:
            name, _, rest = model.partition("(")
            if not rest.endswith(")") or not _is_dotted(name.strip()):
                raise InputError(f"{text}: expected PATH::NAME or PATH::NAME(ARGUMENTS)")
            model, call = name.strip(), rest[:-1]
        elif model and not _is_dotted(model):
            raise InputError(f"{text}: `{model}` is not a Python name (or `Class.method`)")
        return cls(path, model or None, call)

    def __str__(self) -> str:
        if not self.model:
            return self.path
        return f"{self.path}::{self.model}" + (f"({self.call})" if self.call is not None else "")


def _is_dotted(name: str) -> bool:
    """`name` or `Class.method`."""
    parts = name.split(".")
    return 1 <= len(parts) <= 2 and all(part.isidentifier() for part in parts)


@dataclass
class _Candidate:
    name: str
    value: Any
    framework: str
    node: Any  # defining libcst node (for mentions and the model's span)


def extract(ref: ModelRef, keras_version: int = 3, source: SourceFile | None = None,
            input_shape: tuple | None = None, deadline: float | None = None,
            config_overrides: dict[str, dict[str, Any]] | None = None) -> ir.Graph:
    """Statically extract the model `ref` names. Raises InputError on bad input.

    `input_shape` (one sample, the model's own layout) is used where the source does not
    give one, so that code asking for sizes (`x.shape[1]`) can be followed. After
    `deadline` (a `time.process_time()` value: CPU time, so that a busy machine does not
    change the result) the analysis stops with an InputError. `config_overrides`, per
    framework, are configuration values for models built from a default configuration
    (frontend/hf_config.py).
    """
    source = source or read_source(ref.path)
    builder = GraphBuilder(keras_version=keras_version, input_shape=input_shape)
    interp = Interpreter(builder)
    interp.deadline = deadline
    interp.config_overrides = config_overrides or {}
    interp.set_roots(source.path)
    try:
        scope = interp.load_module(source)
        candidates = _candidates(scope, source, interp)
        chosen = _choose(ref, candidates, scope, source, interp)
        outputs = _realise(interp, builder, chosen, source, ref)
    except BudgetExceeded as exc:
        raise InputError(f"{ref}: analysis budget exceeded ({exc})") from None
    graph = builder.extract(chosen.framework, ref.path, chosen.name, outputs,
                            Site(source, chosen.node))
    if graph.inputs:
        graph.input_shape = graph.nodes[graph.inputs[0]].attrs.get("shape")
    return graph


def _framework_of_class(cls: Class) -> str | None:
    for base in cls.framework_bases():
        resolved = resolve(base.path)
        if resolved.framework == ir.TORCH and resolved.kind in ("base", "sequential", "module_list"):
            return ir.TORCH
        if resolved.kind == "model" and resolved.framework == ir.KERAS:
            return ir.KERAS
    return None


def _outline(source: SourceFile) -> dict[str, Definition]:
    if source.memo.get("outline") is None:  # once per file, for all its extractions
        source.memo["outline"] = outline(source.text) or {}
    return source.memo["outline"]


def _candidates(scope: Any, source: SourceFile, interp: Any) -> list[_Candidate]:
    found: list[_Candidate] = []
    assigns = _module_assignments(source)
    for name, value in scope.vars.items():
        if isinstance(value, Class) and value.source is source:
            framework = _framework_of_class(value)
            if framework:
                found.append(_Candidate(name, value, framework, value.node))
            elif not value.framework_bases():  # a plain class: its methods may build models
                built_by = lambda fn: _framework_built_by(fn, scope, source, interp, method=True)
                for model, framework in methods.method_models(value, built_by):
                    found.append(_Candidate(model.name, model, framework, model.node))
        elif isinstance(value, Function) and value.source is source:
            framework = _framework_built_by(value, scope, source, interp)
            if framework:
                found.append(_Candidate(name, value, framework, value.node))
        elif isinstance(value, (KerasModel, Sequential, Instance)) and name in assigns:
            if isinstance(value, Instance):
                framework = _framework_of_class(value.cls)
                if framework is None:
                    continue
            else:
                framework = ir.KERAS if isinstance(value, KerasModel) else value.framework
            found.append(_Candidate(name, value, framework, assigns[name]))
    if not found:  # no model: a ported block, a Keras layer of this file (as torch modules are)
        found = [_Candidate(name, value, ir.KERAS, value.node) for name, value in scope.vars.items()
                 if isinstance(value, Class) and value.source is source and _keras_layer(value)]
    return found


def _keras_layer(cls: Class) -> bool:
    return any(resolve(base.path).framework == ir.KERAS and resolve(base.path).kind == "base"
               for base in cls.framework_bases())


def _framework_built_by(fn: Function, scope: Any, source: SourceFile, interp: Any,
                        method: bool = False) -> str | None:
    """The framework of the model a function builds: it calls a model or Sequential
    class, or a model class of this file (a cheap syntactic scan, resolved by scope)."""
    definition = None if method else _outline(source).get(fn.name)
    calls = definition.calls if definition is not None else calls_in(fn.node)
    for chain in calls:
        value = _static_value(chain, scope, interp)
        if isinstance(value, FrameworkRef):
            resolved = resolve(value.path)
            if resolved.kind in ("model", "sequential"):
                return resolved.framework
        elif isinstance(value, Class):
            framework = _framework_of_class(value)
            if framework:
                return framework
        elif convention_for(value) is not None:
            return ir.KERAS  # it receives its Keras modules from an injection helper
    return None


def _static_value(chain: Chain, scope: Any, interp: Any) -> Any:
    """What a dotted name refers to in the module scope, without evaluating."""
    value = scope.vars.get(chain[0])
    if len(chain) == 1:  # a class imported by name (`from .resnet import ResNet`)
        value = interp.resolved(value)
    if value is None:  # `from keras.layers import *`: the names the tables know
        value = next((star.child(chain[0]) for star in scope.stars
                      if isinstance(star, FrameworkRef)
                      and resolve(star.child(chain[0]).path).kind != "namespace"), None)
    for part in chain[1:]:
        if not isinstance(value, FrameworkRef):
            return None
        value = value.child(part)
    return value


def _imported_roots(scope: Any) -> set[str]:
    roots = set()
    for value in scope.vars.values():
        if isinstance(value, FrameworkRef):
            roots.add(value.path.split(".")[0])
    return roots


def _module_assignments(source: SourceFile) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for stmt in source.module.body:
        if type(stmt).__name__ != "SimpleStatementLine":
            continue
        for small in stmt.body:
            if type(small).__name__ == "Assign":
                for target in small.targets:
                    if type(target.target).__name__ == "Name":
                        out[target.target.value] = stmt
    return out


def _choose(ref: ModelRef, candidates: list[_Candidate], scope: Any,
            source: SourceFile, interp: Interpreter) -> _Candidate:
    if ref.model is not None:
        for candidate in candidates:
            if candidate.name == ref.model:
                return candidate
        if "." in ref.model:
            model = methods.find(scope, ref.model)
            if model is None:
                raise InputError(f"{ref}: no class method `{ref.model}` in this file")
            framework = (_framework_built_by(model.function, scope, source, interp, method=True)
                         or (ir.TORCH if "torch" in _imported_roots(scope) else ir.KERAS))
            return _Candidate(ref.model, model, framework, model.node)
        value = interp.resolved(scope.vars.get(ref.model))
        if value is None:
            names = ", ".join(c.name for c in candidates) or "none found"
            raise InputError(f"{ref}: no model named `{ref.model}` (models in this file: {names})")
        if isinstance(value, Function):
            framework = ir.TORCH if "torch" in _imported_roots(scope) else ir.KERAS
            return _Candidate(ref.model, value, framework, value.node)
        if isinstance(value, Class) and _framework_of_class(value):  # imported into the file
            return _Candidate(ref.model, value, _framework_of_class(value), value.node)
        if isinstance(value, Class) and _keras_layer(value):  # a ported block
            return _Candidate(ref.model, value, ir.KERAS, value.node)
        raise InputError(f"{ref}: `{ref.model}` is not a model, a model class or a function "
                         f"that builds one")
    # The file's model is the candidate no other candidate uses (a builder function
    # calling a model class, a model class holding blocks).
    definitions = _outline(source)
    used: set[str] = set()
    for other in candidates:
        definition = definitions.get(other.name)
        used.update((definition.names if definition else mentions(other.node)) - {other.name})
    roots = [c for c in candidates if c.name not in used]
    if len(roots) == 1:
        return roots[0]
    if not roots:
        raise InputError(f"{ref.path}: no Keras or PyTorch model found "
                         f"(looked for keras.Model/Sequential builders, model classes and "
                         f"torch nn.Module classes)")
    listed = ", ".join(f"{ref.path}::{c.name}" for c in roots)
    raise InputError(f"{ref.path}: several models; choose one of {listed}")


def _call_arguments(ref: ModelRef, source: SourceFile) -> Any:
    """The libcst Call node of `NAME(ARGS)`, parsed (never run)."""
    import libcst as cst

    from ..parsing import MAX_EXPRESSION_DEPTH
    from ..token_limits import refusal

    text = f"{ref.model}({ref.call})"
    too_deep = refusal(text, MAX_EXPRESSION_DEPTH)  # libcst's parser would crash on it
    if too_deep is not None:
        raise InputError(f"{ref.path}::{ref.model}: the arguments are not valid Python "
                         f"for portlint ({too_deep.message})")
    try:
        return cst.parse_expression(text)
    except cst.ParserSyntaxError:
        raise InputError(f"{ref}: the arguments are not valid Python") from None


def _realise(interp: Interpreter, builder: GraphBuilder, chosen: _Candidate,
             source: SourceFile, ref: ModelRef) -> list[Tensor]:
    """Apply the chosen model to a symbolic input; the output tensors."""
    site = Site(source, chosen.node)
    value = chosen.value
    if ref.call is not None and isinstance(value, (Function, Class, methods.MethodModel)):
        value = interp.eval(_call_arguments(ref, source), interp.module_scopes[source.path], source)
    elif isinstance(value, methods.MethodModel):
        value = methods.realise(interp, value, site)
    elif isinstance(value, Function):
        value = interp.call_function(value, [], {}, site)
    elif isinstance(value, Class):
        value = interp.instantiate(value, [], {}, site)
    if isinstance(value, Instance) and value.failed is not None:
        if ref.call is None and required_arguments(interp, chosen.value):
            raise NotFollowed(interp, chosen, ref, value, value)  # a building block
        raise InputError(f"{ref}: `{chosen.name}` cannot be built "
                         f"{'with these arguments' if ref.call is not None else 'without arguments'}"
                         f": {value.failed.reason}{where(value.failed.site)}; "
                         f"{what_to_do(ref, chosen.name)}")
    if isinstance(value, KerasModel):
        if not value.outputs:
            raise NotFollowed(interp, chosen, ref, value, value)
        return value.outputs
    if isinstance(value, Sequential):
        x = builder.add_input(value.framework, _shape(value.input_shape), value.site)
        result = interp.apply(value, [x], {}, site)
    elif isinstance(value, Instance):
        shape = None
        if value.called_on is not None:  # e.g. `model(keras.Input(shape=...))` in the file
            shape = builder.drafts[value.called_on.node_id].node.attrs.get("shape")
        layout = None
        if shape is None and builder.input_shape is None and chosen.framework == ir.KERAS:
            shape = hf_config.sample_input_shape(value)  # `pixel_values` from the config
            layout = ir.CHANNELS_FIRST if shape is not None else None
        x = builder.add_input(chosen.framework, shape, None, layout=layout)
        result = interp.apply(value, [x], {}, site)
        if chosen.framework == ir.TORCH:
            interp.count_unused(value, site)
    else:
        if ref.call is None and isinstance(chosen.value, (Function, Class)):
            raise NotFollowed(interp, chosen, ref, value, value)
        reason = value.reason if isinstance(value, Unknown) else type(value).__name__
        raise InputError(f"{source.path}::{chosen.name}: does not evaluate to a model ({reason})")
    outputs = _tensors(result)
    if not outputs:
        raise NotFollowed(interp, chosen, ref, value, result)
    return outputs


def _shape(value: Any) -> Any:
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) or v is None for v in value):
        return tuple(value)
    return None


def _tensors(value: Any) -> list[Tensor]:
    """A model's outputs: a tensor, the tensors of a tuple or list, or of a Hugging Face
    ModelOutput (its fields not None, in order: the first is the main output)."""
    if isinstance(value, ModelOutput):
        value = value.to_tuple()
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, Tensor)]
    return []
