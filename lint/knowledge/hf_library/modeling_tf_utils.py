# A model of transformers.modeling_tf_utils (4.46): the base classes and helpers a
# TensorFlow model file imports, as the structure of a model built statically sees them.
# Read by portlint's interpreter, never imported.
# The real module (3,500 lines, and through its imports another 20,000 of hub, loading
# and serialisation code) loads, saves, converts, compiles and trains; none of that
# changes which layers a model has. The decorators only rearrange arguments
# (`unpack_inputs`) or register the class with Keras (`keras_serializable`); the loss
# mixins add methods used in training. A name this model lacks is read from the real
# module. Relative imports resolve from the real module's place.
import tensorflow as tf

from .activations_tf import get_tf_activation
from .configuration_utils import PretrainedConfig
from .generation import TFGenerationMixin
from .tf_utils import shape_list

try:
    import tf_keras as keras
except (ModuleNotFoundError, ImportError):
    import keras

# A type alias: tensors, arrays, or lists and dicts of them (annotations only).
TFModelInputType = None


def keras_serializable(cls):
    return cls


def unpack_inputs(func):
    return func


def get_initializer(initializer_range=0.02):
    return keras.initializers.TruncatedNormal(stddev=initializer_range)


class TFModelUtilsMixin:
    def num_parameters(self, only_trainable=False):
        return self.count_params()


class TFCausalLanguageModelingLoss:
    pass


class TFQuestionAnsweringLoss:
    pass


class TFTokenClassificationLoss:
    pass


class TFSequenceClassificationLoss:
    pass


class TFMultipleChoiceLoss:
    pass


class TFMaskedLanguageModelingLoss(TFCausalLanguageModelingLoss):
    pass


class TFNextSentencePredictionLoss:
    pass


class TFPreTrainedModel(keras.Model, TFModelUtilsMixin, TFGenerationMixin):
    config_class = None
    base_model_prefix = ""
    main_input_name = "input_ids"
    _auto_class = None
    _keys_to_ignore_on_load_missing = None
    _keys_to_ignore_on_load_unexpected = None
    _requires_load_weight_prefix = False

    def __init__(self, config, *inputs, **kwargs):
        super().__init__(*inputs, **kwargs)
        self.config = config
        self.name_or_path = ""
        self.generation_config = None

    @property
    def framework(self):
        return "tf"

    def build(self, input_shape=None):
        pass

    def get_head_mask(self, head_mask, num_hidden_layers):
        if head_mask is None:
            return [None] * num_hidden_layers
        return head_mask

    def get_input_embeddings(self):
        main_layer = getattr(self, self.base_model_prefix, self)
        if main_layer is not self:
            return main_layer.get_input_embeddings()
        return None

    def set_input_embeddings(self, value):
        main_layer = getattr(self, self.base_model_prefix)
        main_layer.set_input_embeddings(value)

    def get_lm_head(self):
        return None

    def get_output_embeddings(self):
        lm_head = self.get_lm_head()
        if lm_head is not None:
            return lm_head.get_output_embeddings()
        return None

    def set_output_embeddings(self, value):
        lm_head = self.get_lm_head()
        if lm_head is not None:
            lm_head.set_output_embeddings(value)

    def get_bias(self):
        return None

    def prune_heads(self, heads_to_prune):
        return None


class TFConv1D(keras.layers.Layer):
    # GPT's Conv1D: a dense layer from nx to nf features whose kernel is stored (nx, nf)
    # and whose bias is (1, nf), applied to the flattened positions.
    def __init__(self, nf, nx, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.nf = nf
        self.nx = nx
        self.initializer_range = initializer_range

    def build(self, input_shape):
        if self.built:
            return
        self.built = True
        self.weight = self.add_weight(
            "weight", shape=[self.nx, self.nf], initializer=get_initializer(self.initializer_range))
        self.bias = self.add_weight("bias", shape=[1, self.nf], initializer=tf.zeros_initializer())

    def call(self, x):
        bz, sl = shape_list(x)[:2]
        x = tf.reshape(x, [-1, self.nx])
        x = tf.matmul(x, self.weight) + self.bias
        return tf.reshape(x, [bz, sl, self.nf])


class TFSharedEmbeddings(keras.layers.Layer):
    # A (vocab_size, hidden_size) table: looked up in "embedding" mode, multiplied with
    # the hidden states (transposed) in "linear" mode.
    def __init__(self, vocab_size, hidden_size, initializer_range=None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        if initializer_range is None:
            initializer_range = hidden_size ** -0.5
        self.initializer_range = initializer_range

    def build(self, input_shape):
        self.weight = self.add_weight(
            "weight", shape=[self.vocab_size, self.hidden_size],
            initializer=get_initializer(self.initializer_range))
        super().build(input_shape)

    def call(self, inputs, mode="embedding"):
        if mode == "linear":
            first_dims = shape_list(inputs)[:-1]
            x = tf.reshape(inputs, [-1, self.hidden_size])
            logits = tf.matmul(x, self.weight, transpose_b=True)
            return tf.reshape(logits, first_dims + [self.vocab_size])
        return tf.gather(self.weight, inputs)


class TFSequenceSummary(keras.layers.Layer):
    # One vector per sequence (the last, first or mean position), then an optional
    # projection, activation and dropouts, each present when the configuration asks.
    def __init__(self, config, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.summary_type = config.summary_type if hasattr(config, "summary_use_proj") else "last"
        self.has_summary = hasattr(config, "summary_use_proj") and config.summary_use_proj
        if self.has_summary:
            if hasattr(config, "summary_proj_to_labels") and config.summary_proj_to_labels and config.num_labels > 0:
                num_classes = config.num_labels
            else:
                num_classes = config.hidden_size
            self.summary = keras.layers.Dense(
                num_classes, kernel_initializer=get_initializer(initializer_range), name="summary")
        self.has_activation = False
        activation_string = getattr(config, "summary_activation", None)
        if activation_string is not None:
            self.has_activation = True
            self.activation = get_tf_activation(activation_string)
        self.has_first_dropout = hasattr(config, "summary_first_dropout") and config.summary_first_dropout > 0
        if self.has_first_dropout:
            self.first_dropout = keras.layers.Dropout(config.summary_first_dropout)
        self.has_last_dropout = hasattr(config, "summary_last_dropout") and config.summary_last_dropout > 0
        if self.has_last_dropout:
            self.last_dropout = keras.layers.Dropout(config.summary_last_dropout)
        self.hidden_size = config.hidden_size

    def call(self, inputs, cls_index=None, training=False):
        hidden_states = inputs
        if self.summary_type == "first":
            output = hidden_states[:, 0]
        elif self.summary_type == "mean":
            output = tf.reduce_mean(hidden_states, axis=1)
        else:  # "last"; "cls_index" gathers one position per sequence, the same size
            output = hidden_states[:, -1]
        if self.has_first_dropout:
            output = self.first_dropout(output, training=training)
        if self.has_summary:
            output = self.summary(output)
        if self.has_activation:
            output = self.activation(output)
        if self.has_last_dropout:
            output = self.last_dropout(output, training=training)
        return output

    def build(self, input_shape):
        if self.built:
            return
        self.built = True
        if getattr(self, "summary", None) is not None:
            with tf.name_scope("summary"):
                self.summary.build(self.hidden_size)
