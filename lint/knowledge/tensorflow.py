"""TensorFlow tensor functions (`tf.reshape`, `tf.transpose`, `tf.concat`, `tf.gather`,
...) that Keras model code written against TF calls, as Hugging Face's TF models do.

Their shapes and axes count the batch dimension (as torch's do, unlike Keras layers'):
the specs say so with `with_batch`. Reference: https://www.tensorflow.org/api_docs/python/tf
"""

from __future__ import annotations

from . import Attr, LayerSpec
from .ops import Op

DOCS = "https://www.tensorflow.org/api_docs/python/tf/"


def _tuple(value, args):
    return tuple(value) if isinstance(value, list) else value


def _inserted(axis, args):
    """tf.expand_dims(x, axis): as the index `x[:, None]` (axes count the batch)."""
    if not isinstance(axis, int) or isinstance(axis, bool):
        return None
    return (*(slice(None),) * axis, None) if axis >= 0 else (Ellipsis, None, *(slice(None),) * (-axis - 1))


def _removed(axis, args):
    """tf.squeeze(x, axis) of a size-1 axis: as the index `x[:, 0]`."""
    if isinstance(axis, (list, tuple)) and len(axis) == 1:
        axis = axis[0]
    if not isinstance(axis, int) or isinstance(axis, bool):
        return None
    return (*(slice(None),) * axis, 0) if axis >= 0 else (Ellipsis, 0, *(slice(None),) * (-axis - 1))


def _spatial_pads(paddings, args):
    """tf.pad's paddings cover every axis, batch first and channels last (NHWC, NLC):
    the spatial pairs ((top, bottom), (left, right)) that ZeroPadding2D would take."""
    if not isinstance(paddings, (list, tuple)) or len(paddings) < 3:
        return None
    pairs = [tuple(p) if isinstance(p, (list, tuple)) and len(p) == 2 else None for p in paddings]
    if any(p is None for p in pairs):
        return None
    return tuple(pairs[1:-1])


def _reduce(kind: str, canonical: str) -> LayerSpec:
    def dims(axis, args):
        return (axis,) if isinstance(axis, int) else tuple(axis) if isinstance(axis, list) else axis

    return LayerSpec(op=Op.REDUCE, params=("input_tensor", "axis", "keepdims", "name"),
                     defaults={"axis": None, "keepdims": False, "name": None},
                     attrs={"dims": Attr("axis", dims), "keepdim": Attr("keepdims")},
                     fixed={"kind": canonical}, reference=DOCS + f"math/reduce_{kind}")


FUNCTIONS: dict[str, LayerSpec] = {
    "reshape": LayerSpec(op=Op.RESHAPE, params=("tensor", "shape", "name"),
                         defaults={"name": None}, attrs={"target_shape": Attr("shape", _tuple)},
                         fixed={"with_batch": True}, reference=DOCS + "reshape"),
    "transpose": LayerSpec(op=Op.PERMUTE, params=("a", "perm", "conjugate", "name"),
                           defaults={"perm": None, "conjugate": False, "name": None},
                           attrs={"dims": Attr("perm", _tuple)}, fixed={"with_batch": True},
                           reference=DOCS + "transpose"),
    "concat": LayerSpec(op=Op.CONCAT, params=("values", "axis", "name"),
                        defaults={"name": None}, attrs={"axis": Attr("axis")},
                        reference=DOCS + "concat"),
    "expand_dims": LayerSpec(op=Op.INDEX, params=("input", "axis", "name"),
                             defaults={"name": None}, attrs={"index": Attr("axis", _inserted)},
                             reference=DOCS + "expand_dims"),
    "squeeze": LayerSpec(op=Op.INDEX, params=("input", "axis", "name"),
                         defaults={"name": None}, attrs={"index": Attr("axis", _removed)},
                         reference=DOCS + "squeeze"),
    "pad": LayerSpec(op=Op.PAD, params=("tensor", "paddings", "mode", "constant_values", "name"),
                     defaults={"mode": "CONSTANT", "constant_values": 0, "name": None},
                     attrs={"explicit_pads": Attr("paddings", _spatial_pads),
                            "mode": Attr("mode", lambda v, a: v.lower() if isinstance(v, str) else v),
                            "value": Attr("constant_values")},
                     reference=DOCS + "pad"),
    **{f"reduce_{kind}": _reduce(kind, canonical) for kind, canonical in
       (("mean", "avg"), ("sum", "sum"), ("max", "max"), ("min", "min"), ("prod", "prod"))},
}
# The namespaces under `tensorflow.` the functions above are exported from.
NAMESPACES = ("", "math", "linalg")
# The parameters a TF function takes its tensor data by, first found first.
DATA_PARAMS = ("tensor", "a", "values", "input", "x", "y", "input_tensor")
# `tf.gather(params=w, indices=ids)` of a layer's own 2-D weight is an embedding lookup:
# a weight-free node (the weight is counted on the layer that made it).
GATHER = "gather"
# `tf.shape(x)`: the tensor's dimensions, batch first (as `x.shape`).
SHAPE = "shape"
EMBEDDING_LOOKUP = LayerSpec(op=Op.EMBEDDING, params=("num_embeddings", "embedding_dim"),
                             attrs={"num_embeddings": Attr("num_embeddings"),
                                    "embedding_dim": Attr("embedding_dim")},
                             reference=DOCS + "gather")
# Activation functions' data keywords (`tf.nn.softmax(logits=x)`, `tf.nn.relu(features=x)`).
ACTIVATION_DATA = ("x", "logits", "features", "inputs", "input")

# TF calls with a handler of their own (lint/frontend/tf_calls.py), by the kind their name
# resolves to: arithmetic goes through Python's operators, factories make constant
# tensors, products get a shape from both operands.
ARITHMETIC = {"add": "Add", "subtract": "Subtract", "multiply": "Multiply", "divide": "Divide",
              "truediv": "Divide", "pow": "Power", "floordiv": "FloorDivide"}
FACTORIES = ("range", "fill", "constant", "ones", "zeros")
# Elementwise functions of one tensor: the shape is kept.
ELEMENTWISE = ("sqrt", "rsqrt", "exp", "log", "abs", "square", "sin", "cos", "erf",
               "negative", "reciprocal", "clip_by_value", "bias_add", "round", "floor", "ceil", "roll")
CALL_KINDS: dict[str, str] = {
    **dict.fromkeys(ARITHMETIC, "tf_arithmetic"), **dict.fromkeys(FACTORIES, "tf_factory"),
    **dict.fromkeys(ELEMENTWISE, "tf_elementwise"),
    "matmul": "tf_matmul", "einsum": "tf_einsum", "linspace": "tf_linspace", "split": "tf_split",
    "resize": "tf_resize",
    **dict.fromkeys(("cast", "convert_to_tensor", "stop_gradient", "identity"), "tf_identity"),
}
# The namespaces under `tensorflow.` the calls above are exported from.
CALL_NAMESPACES = (*NAMESPACES, "nn", "image")
# Reductions of plain numbers (`tf.reduce_min(input_dimensions)` of a (height, width)).
NUMBER_REDUCTIONS = {"reduce_min": min, "reduce_max": max, "reduce_sum": sum}
# Namespaces whose calls have no effect on the model: `tf.debugging.assert_equal(...)`.
NO_OP_NAMESPACES = ("debugging",)
