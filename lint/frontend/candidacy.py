"""Why a model candidate gave no tensor to follow, and whether it was a model at all.

Check mode analyses every class and builder function of a file that no other one uses.
In a model package many of those are not models: transform presets and anchor
generators are nn.Modules without a layer or weight, and heads, poolers and wrappers are
building blocks that take the parts they are built from (`RPNHead(in_channels,
num_anchors)`, `IntermediateLayerGetter(model, return_layers)`). When one of those cannot
be followed, check mode says nothing; a model that cannot be followed is reported with
its cause. Naming a building block with its arguments (`PATH::NAME(ARGS)`) checks it.
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from . import hf_config
from .modules import framework_kind, module_tree
from .values import (Class, Function, Instance, KerasModel, Layer, ModelOutput, Sequential,
                     Unknown, Weight)

MODEL, NO_WEIGHTS, BUILDING_BLOCK = "model", "no layer or weight", "building block"


class NotFollowed(InputError):
    """A candidate that gave no tensor; `kind` is MODEL (a limitation of portlint, with
    its cause), NO_WEIGHTS or BUILDING_BLOCK (not a model check mode can build)."""

    def __init__(self, interp: Any, chosen: Any, ref: Any, value: Any, result: Any) -> None:
        name = f"`{chosen.name}`"
        missing = required_arguments(interp, chosen.value) if ref.call is None else []
        if isinstance(value, (Instance, Sequential)) and not holds_weights(value):
            self.kind = NO_WEIGHTS
            message = f"{name} holds no layer or weight: it is not a model"
        elif missing:
            self.kind = BUILDING_BLOCK
            listed = ", ".join(f"`{p}`" for p in missing)
            message = (f"{name} needs arguments to be built ({listed}): a building block, "
                       f"not a model; give them as `{ref.path}::{chosen.name}(...)` to check it")
        else:
            self.kind = MODEL
            message = (f"{name} does not produce a model portlint can follow "
                       f"({cause(result)}); {what_to_do(ref, chosen.name)}")
        super().__init__(f"{ref}: {message}")


def holds_weights(value: Any) -> bool:
    """Whether a constructed module holds a framework layer or a weight anywhere in its
    tree (a model always does; a transform or an anchor generator does not)."""
    for module in module_tree(value):
        if isinstance(module, (Layer, KerasModel)):
            return True
        if isinstance(module, Sequential) and module.items:
            return True
        if isinstance(module, Instance) and (
                module.own_weights or module.base_layer is not None
                or any(isinstance(v, Weight) for v in module.attrs.values())):
            return True
    return False


def required_arguments(interp: Any, candidate: Any) -> list[str]:
    """The parameters a class's `__init__` or a builder function has no value for when
    called without arguments (a configuration parameter is built from its class's
    defaults, as the interpreter does: frontend/hf_config.py)."""
    receiver = None
    if isinstance(candidate, Class):
        function, receiver = candidate.lookup("__init__"), candidate
        skip = 1  # self
    else:
        function, skip = candidate, 0
    if not isinstance(function, Function) or type(function.node).__name__ == "Lambda":
        return []
    params = function.node.params
    named = [*params.posonly_params, *params.params][skip:] + list(params.kwonly_params)
    return [p.name.value for p in named if p.name.value not in function.defaults
            and hf_config.config_class_for(interp, function, p, receiver) is None]


def cause(result: Any) -> str:
    """What the model gave instead of a tensor, for the warning."""
    if isinstance(result, Unknown):
        return located(result)
    if result is None:
        return "its forward returns nothing portlint can see"
    if isinstance(result, ModelOutput):
        # Its first field is the model's output: say why that one is not a tensor.
        name, first = next(iter(result.fields.items()), ("", None))
        if isinstance(first, Unknown) or first is None:
            why = cause(first) if first is not None else "never set"
            return f"its forward returns a `{result.type_name}` whose `{name}` is not a tensor ({why})"
        return f"its forward returns a `{result.type_name}` without a tensor portlint can follow"
    if isinstance(result, KerasModel) and not result.outputs:
        why = f" ({cause(result.missing)})" if isinstance(result.missing, Unknown) else ""
        return f"its `Model(...)`{where(result.site)} has no output portlint can follow{why}"
    if isinstance(result, (list, tuple)):
        # Its first item is the model's output: say why that one is not a tensor.
        first = next((item for item in result if isinstance(item, Unknown)), None)
        why = f" (its first: {cause(first)})" if first is not None else ""
        return f"its forward returns a {type(result).__name__} without a tensor portlint can follow{why}"
    if isinstance(result, dict):
        return f"its forward returns a {type(result).__name__} without a tensor portlint can follow"
    return f"its forward returns a {type(result).__name__}"


def what_to_do(ref: Any, name: str) -> str:
    """What the user can do about a model that cannot be built or followed."""
    return (f"give its arguments as `{ref.path}::{name}(...)` or its configuration with "
            f"--keras-config/--torch-config, or report the construct as a portlint issue")


def located(unknown: Unknown) -> str:
    """`A.call -> B.call -> file.py:880 `code`: reason` where the call chain and the place
    are known, else the reason and the place."""
    span = unknown.site.source.span(unknown.site.node) if unknown.site is not None else None
    if not unknown.chain or span is None:
        return unknown.reason + where(unknown.site)
    from .calls import code_text

    place = f"{span.path}:{span.line}"
    if not unknown.raised:  # a raise's reason quotes the statement already
        place += f" `{code_text(unknown.site, 60)}`"
    return f"{' -> '.join((*unknown.chain, place))}: {unknown.reason}"


def where(site: Any) -> str:
    span = site.source.span(site.node) if site is not None and site.source is not None else None
    return f" at {span.path}:{span.line}" if span is not None else ""
