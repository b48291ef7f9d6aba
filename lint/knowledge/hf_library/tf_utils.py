# A model of transformers.tf_utils (4.46): the tensor helpers TensorFlow model files
# import. Read by portlint's interpreter, never imported. A name this model lacks is
# read from the real module.
import tensorflow as tf


def shape_list(tensor):
    # The size of each dimension: the static one where it is known, else the dynamic
    # one, `tf.shape(tensor)[i]`. The interpreter reads `tf.shape(tensor)` so: indexed,
    # it gives the static size where inference knows it.
    return tf.shape(tensor)


def stable_softmax(logits, axis=None, name=None):
    # tf.nn.softmax with 1e-9 added to the logits (a workaround for XLA on CPU): the
    # same function.
    return tf.nn.softmax(logits=logits + 1e-9, axis=axis, name=name)


def check_embeddings_within_bounds(tensor, embed_dim, tensor_name="input_ids"):
    # A run-time assertion on the token ids: no layer, no value.
    return None


def invert_attention_mask(encoder_attention_mask):
    # Reshaped and made additive: no layer, no weight.
    return encoder_attention_mask
