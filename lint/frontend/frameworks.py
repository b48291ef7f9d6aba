"""Classify a name reached through a framework import, using the knowledge tables."""

from __future__ import annotations

from dataclasses import dataclass

from ..ir import KERAS, TORCH
from ..knowledge import ActivationSpec, LayerSpec
from ..knowledge import keras as K
from ..knowledge import tensorflow as TF
from ..knowledge import torch as T

FRAMEWORK_MODULES = ("torch", "keras", "tensorflow", "tf_keras")


@dataclass(frozen=True)
class Resolved:
    framework: str
    kind: str  # layer | function | activation | input | model | sequential | base | module_list | helper | namespace
    name: str
    spec: LayerSpec | None = None
    activation: ActivationSpec | None = None


def is_framework_module(module: str) -> bool:
    return module.split(".")[0] in FRAMEWORK_MODULES


def _strip(path: str, roots: tuple[str, ...]) -> str | None:
    for root in roots:
        if path == root:
            return ""
        if path.startswith(root + "."):
            return path[len(root) + 1:]
    return None


def resolve(path: str) -> Resolved:
    torch_rest = _strip(path, T.ROOTS)
    if torch_rest is not None:
        return _resolve_torch(torch_rest)
    keras_rest = _strip(path, K.ROOTS)
    if keras_rest is not None:
        return _resolve_keras(keras_rest)
    if path.startswith("tensorflow.nn.") or path.startswith("tensorflow.math."):
        leaf = path.rsplit(".", 1)[1]
        if leaf in K.ACTIVATIONS:
            return Resolved(KERAS, "activation", leaf, activation=K.ACTIVATIONS[leaf])
    tf_rest = _strip(path, ("tensorflow",))
    if tf_rest is not None:
        namespace, _, leaf = tf_rest.rpartition(".")
        if namespace in TF.CALL_NAMESPACES and leaf in TF.CALL_KINDS:
            return Resolved(KERAS, TF.CALL_KINDS[leaf], leaf)
        if namespace in TF.NO_OP_NAMESPACES:
            return Resolved(KERAS, "tf_no_op", leaf)
        if namespace in TF.NAMESPACES and leaf in TF.FUNCTIONS:
            return Resolved(KERAS, "tf_function", leaf, spec=TF.FUNCTIONS[leaf])
        if namespace == "" and leaf == TF.SHAPE:
            return Resolved(KERAS, "tf_shape", leaf)
        if namespace == "" and leaf == TF.GATHER:
            return Resolved(KERAS, "tf_gather", leaf, spec=TF.EMBEDDING_LOOKUP)
    return Resolved("", "namespace", path)


# The classes of a framework's layer namespace, by kind, looked up in this order; a
# layer's table gives its spec.
_KERAS_CLASSES = (("layer", K.LAYERS), ("input", K.INPUT_FUNCTIONS), ("model", K.MODEL_CLASSES),
                  ("sequential", K.SEQUENTIAL_CLASSES), ("base", K.LAYER_BASES))
_TORCH_CLASSES = (("layer", T.MODULES), ("sequential", T.CONTAINERS),
                  ("module_list", T.MODULE_LISTS), ("base", T.MODULE_BASES))


def _first_class(framework: str, leaf: str, tables: tuple) -> Resolved | None:
    for kind, names in tables:
        if leaf in names:
            return Resolved(framework, kind, leaf, spec=names[leaf] if kind == "layer" else None)
    return None


def _resolve_keras(rest: str) -> Resolved:
    if rest in K.HELPERS:
        return Resolved(KERAS, "helper", rest)
    namespace, _, leaf = rest.rpartition(".")
    leaf = K.CLASS_ALIASES.get(leaf, leaf)
    # keras.src.layers.core.dense.Dense and friends: only the leaf matters.
    top = namespace.split(".")[0] if namespace else ""
    if top in ("layers", "models", "") or namespace.startswith("layers."):
        found = _first_class(KERAS, leaf, _KERAS_CLASSES)
        if found is not None:
            return found
    if (top == "layers" or namespace.startswith("layers.")) and leaf in K.FUNCTIONS:
        return Resolved(KERAS, "function", leaf, spec=K.FUNCTIONS[leaf])
    if top in ("initializers", "regularizers", "constraints"):
        return Resolved(KERAS, "config", leaf)
    if top == "ops" and leaf in K.OPS_ACTIVATIONS:
        return Resolved(KERAS, "activation", leaf, activation=K.OPS_ACTIVATIONS[leaf])
    if top in K.ACTIVATION_NAMESPACES and leaf in K.ACTIVATIONS:
        return Resolved(KERAS, "activation", leaf, activation=K.ACTIVATIONS[leaf])
    return Resolved(KERAS, "namespace", rest)


def _resolve_torch(rest: str) -> Resolved:
    namespace, _, leaf = rest.rpartition(".")
    if rest.startswith("nn.") and rest[len("nn."):] in T.REPARAMETRIZATIONS:
        return Resolved(TORCH, "reparametrization", rest[len("nn."):])
    if namespace == "nn" or namespace.startswith("nn.modules"):
        found = _first_class(TORCH, leaf, _TORCH_CLASSES)
        if found is not None:
            return found
    if leaf in T.PARAMETER_CLASSES and namespace in ("nn", "nn.parameter"):
        return Resolved(TORCH, "parameter", leaf)
    if namespace == "" and leaf in T.CONSTANT_FUNCTIONS:
        return Resolved(TORCH, "constant_function", leaf)
    if namespace == "" and (leaf in T.TENSOR_FACTORIES or leaf in T.SIZE_OR_DATA_FACTORIES):
        return Resolved(TORCH, "tensor_factory", leaf)
    if namespace in ("nn.functional", "") and leaf in T.FUNCTIONS:
        return Resolved(TORCH, "function", leaf, spec=T.FUNCTIONS[leaf])
    if namespace in ("nn.functional", "") and leaf in T.WEIGHT_CALLS:
        return Resolved(TORCH, "weight_call", leaf)
    return Resolved(TORCH, "namespace", rest)
