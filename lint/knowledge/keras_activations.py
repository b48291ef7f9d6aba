"""Keras activations: `activation="..."` strings, `keras.activations.*` and `keras.ops.*`
functions, and where Keras versions differ, as canonical activations."""

from __future__ import annotations

from . import ActivationSpec

# `activation="..."` strings and `keras.activations.*` functions.
ACTIVATIONS: dict[str, ActivationSpec] = {
    "relu": ActivationSpec("relu"),
    "softmax": ActivationSpec("softmax", {"axis": -1}),
    "log_softmax": ActivationSpec("log_softmax", {"axis": -1}),
    "sigmoid": ActivationSpec("sigmoid"),
    "tanh": ActivationSpec("tanh"),
    "linear": ActivationSpec("linear"),
    "elu": ActivationSpec("elu", {"alpha": 1.0}),
    "selu": ActivationSpec("selu"),
    "gelu": ActivationSpec("gelu", {"approximate": False}),
    "swish": ActivationSpec("silu"),
    "silu": ActivationSpec("silu"),
    "softplus": ActivationSpec("softplus"),
    "softsign": ActivationSpec("softsign"),
    "relu6": ActivationSpec("relu6"),
    "leaky_relu": ActivationSpec("leaky_relu", {"negative_slope": 0.2}),
    "hard_sigmoid": ActivationSpec("hard_sigmoid"),
    "hard_silu": ActivationSpec("hard_swish"),
    "hard_swish": ActivationSpec("hard_swish"),
    "mish": ActivationSpec("mish"),
    "exponential": ActivationSpec("exp"),
}

# keras.ops functions whose defaults differ from the activation of the same name:
# ops.gelu approximates with tanh by default, activations.gelu does not (reference §6).
OPS_ACTIVATIONS: dict[str, ActivationSpec] = {
    "gelu": ActivationSpec("gelu", {"approximate": True}),
}

# Keras 2 (tf.keras) activations that compute something else than Keras 3's of the same
# name: hard_sigmoid was clip(0.2x + 0.5, 0, 1); Keras 3 and torch use relu6(x + 3) / 6
# (reference §6, tensorflow/tensorflow#65381).
VERSION_ACTIVATIONS: dict[int, dict[str, ActivationSpec]] = {
    2: {"hard_sigmoid": ActivationSpec("hard_sigmoid_0.2x+0.5")},
}

# Namespaces whose functions are activations (`keras.activations.relu`, `keras.ops.gelu`).
ACTIVATION_NAMESPACES = ("activations", "ops", "nn")
