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
    "identity": LayerSpec(op=Op.IDENTITY, params=("input", "name"), defaults={"name": None},
                          reference=DOCS + "identity"),
    "add": LayerSpec(op=Op.ADD, params=("x", "y", "name"), defaults={"name": None}),
    "multiply": LayerSpec(op=Op.MULTIPLY, params=("x", "y", "name"), defaults={"name": None}),
}
# The namespaces under `tensorflow.` the functions above are exported from.
NAMESPACES = ("", "math", "linalg")
# The parameters a TF function takes its tensor data by, first found first.
DATA_PARAMS = ("tensor", "a", "values", "input", "x", "y")
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
