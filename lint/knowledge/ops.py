"""The op vocabulary of the IR: every `Node.op` is one `Op`, and the groups rules, shape
inference, the aligner and the dynamic check reason about are named here once.

`Op` is a `str` enum, so an op compares, hashes and prints (JSON, f-strings) as its value:
`Op.CONV == "conv"`. Code names ops through this module only; a new op is one member here
(and, where it has one, an entry in the groups below).
"""

from __future__ import annotations

from enum import Enum


class Op(str, Enum):
    # Weighted layers.
    CONV = "conv"
    DEPTHWISE_CONV = "depthwise_conv"
    SEPARABLE_CONV = "separable_conv"  # a Keras spec only: the IR holds depthwise + pointwise
    CONV_TRANSPOSE = "conv_transpose"
    DENSE = "dense"
    EMBEDDING = "embedding"
    RNN = "rnn"
    ATTENTION = "attention"
    # Normalizations.
    BATCH_NORM = "batch_norm"
    LAYER_NORM = "layer_norm"
    GROUP_NORM = "group_norm"
    RMS_NORM = "rms_norm"
    NORMALIZATION = "normalization"  # Keras Normalization: a fixed affine preprocessing
    # Activations and regularisation.
    ACTIVATION = "activation"
    DROPOUT = "dropout"
    # Pooling and resampling.
    POOL = "pool"
    ADAPTIVE_POOL = "adaptive_pool"
    GLOBAL_POOL = "global_pool"
    UPSAMPLE = "upsample"
    PAD = "pad"
    CROP = "crop"
    REDUCE = "reduce"
    RESCALE = "rescale"
    # Layout only: move or view elements without computing.
    FLATTEN = "flatten"
    RESHAPE = "reshape"
    PERMUTE = "permute"
    TRANSPOSE = "transpose"
    IDENTITY = "identity"
    INDEX = "index"
    RNN_STATE = "rnn_state"
    CHUNK = "chunk"
    # Joins and element-wise arithmetic.
    ADD = "add"
    MULTIPLY = "multiply"
    CONCAT = "concat"
    ELEMENTWISE = "elementwise"
    MATMUL = "matmul"  # a product of two tensors (attention scores): no weights
    # Graph structure and what the front end could not see into.
    INPUT = "input"
    WRAPPER = "wrapper"
    LAMBDA = "lambda"
    OPAQUE = "opaque"

    def __str__(self) -> str:
        return self.value


NORMALIZATIONS = frozenset({Op.BATCH_NORM, Op.LAYER_NORM, Op.GROUP_NORM, Op.RMS_NORM})
# Ops that only move or view elements; the aligner skips them cheaply.
LAYOUT_ONLY = frozenset({Op.FLATTEN, Op.RESHAPE, Op.PERMUTE, Op.IDENTITY, Op.PAD, Op.INDEX,
                         Op.RNN_STATE, Op.TRANSPOSE})
CONVOLUTIONS = frozenset({Op.CONV, Op.DEPTHWISE_CONV, Op.CONV_TRANSPOSE})
