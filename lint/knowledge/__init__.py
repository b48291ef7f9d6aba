"""Framework knowledge as data.

Each framework module holds tables that map a layer class (or a function, or a tensor
method) to a `LayerSpec`: its canonical op, its signature (positional order and defaults,
per Keras version where they differ) and how its arguments become canonical attributes.
The front ends and the shape/count pass read these tables; nothing else in the engine
knows a framework's spelling. Facts come from ../shared/reference/port-mismatches.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .ops import Op

REQUIRED = object()  # marks a parameter without a default


def _ident(value: Any, args: Mapping[str, Any]) -> Any:
    return value


@dataclass(frozen=True)
class Attr:
    """How one canonical attribute is read from the bound source arguments."""

    source: str
    convert: Callable[[Any, Mapping[str, Any]], Any] = _ident
    # From a canonical value back to the source argument (for fixes); None: not invertible.
    inverse: Callable[[Any], Any] | None = lambda value: value


@dataclass(frozen=True)
class LayerSpec:
    op: str
    params: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    attrs: Mapping[str, Attr] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)  # attrs implied by the class
    fused_activation: str | None = None  # parameter holding a fused activation
    version_defaults: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    takes_varargs: bool = False  # `view(*shape)`: positional arguments form one tuple
    outputs: int = 1  # >1: returns a tuple whose first item is the result (MultiheadAttention)
    reference: str = ""

    def default(self, param: str, keras_version: int = 3) -> Any:
        overrides = self.version_defaults.get(keras_version, {})
        if param in overrides:
            return overrides[param]
        return self.defaults.get(param, REQUIRED)


# --- converters shared by both tables -------------------------------------------------

def ntuple(rank: int) -> Callable[[Any, Mapping[str, Any]], Any]:
    def convert(value: Any, args: Mapping[str, Any]) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (value,) * rank
        if isinstance(value, list):
            return tuple(value)
        return value

    return convert


def lower(value: Any, args: Mapping[str, Any]) -> Any:
    return value.lower() if isinstance(value, str) else value


def one_minus(value: Any, args: Mapping[str, Any]) -> Any:
    """Keras momentum is the weight of the old statistic; canonical is the new one's."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return round(1.0 - value, 12)
    return value


# --- activations ----------------------------------------------------------------------

@dataclass(frozen=True)
class ActivationSpec:
    """A canonical activation and its effective parameters."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)


# Python operators applied to tensors: (op with two tensors, op with a constant, symbol).
OPERATORS: dict[str, tuple[str, str, str]] = {
    "Add": (Op.ADD, Op.ELEMENTWISE, "+"),
    "Multiply": (Op.MULTIPLY, Op.ELEMENTWISE, "*"),
    "Subtract": (Op.ELEMENTWISE, Op.ELEMENTWISE, "-"),
    "Divide": (Op.ELEMENTWISE, Op.ELEMENTWISE, "/"),
    "Power": (Op.ELEMENTWISE, Op.ELEMENTWISE, "**"),
}

# Output heads: activations that turn logits into probabilities.
PROBABILITY_HEADS = frozenset({"softmax", "sigmoid", "log_softmax"})
# Activations that are the identity.
IDENTITY_ACTIVATIONS = frozenset({"linear", "identity"})


def spec_of(framework: str, layer_type: str) -> LayerSpec | None:
    """The table entry a node came from, by its framework and source spelling."""
    from . import keras, torch

    if framework == "keras":
        return keras.LAYERS.get(layer_type)
    if layer_type in torch.MODULES:
        return torch.MODULES[layer_type]
    name = layer_type.removeprefix("F.").removeprefix("torch.").strip(".()")
    return torch.FUNCTIONS.get(name) or torch.TENSOR_METHODS.get(name)


def source_param(framework: str, layer_type: str, canonical: str) -> str | None:
    """The framework's own parameter name for a canonical attribute (e.g. `eps`)."""
    spec = spec_of(framework, layer_type)
    if spec is None or canonical not in spec.attrs:
        return None
    return spec.attrs[canonical].source


# Parameterised activations that are another canonical activation: Keras
# `ReLU(max_value=6)` is torch's ReLU6. (kind, parameter values, canonical kind)
ACTIVATION_ALIASES: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("relu", {"max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0}, "relu6"),
    ("relu", {"max_value": None, "negative_slope": 0.0, "threshold": 0.0}, "relu"),
)


def canonical_activation(attrs: dict[str, Any]) -> dict[str, Any]:
    """Rewrite an activation's attrs to its canonical kind, dropping the parameters that
    the alias fixes (so Keras ReLU(6.0) and nn.ReLU6() carry the same attrs)."""
    for kind, params, canonical in ACTIVATION_ALIASES:
        if attrs.get("kind") == kind and all(
                name in attrs and attrs[name] == value for name, value in params.items()):
            rest = {k: v for k, v in attrs.items() if k not in params}
            rest["kind"] = canonical
            return rest
    return attrs
