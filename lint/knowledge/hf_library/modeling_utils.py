# A model of transformers.modeling_utils (4.46): PreTrainedModel as the structure of a
# model sees it. Read by portlint's interpreter, never imported.
# The real class loads, saves, prunes and initialises weights; none of that changes which
# layers a model has. `post_init()` only initialises weights (custom initialisation is
# not followed), and the mask helpers pass the mask through: they reshape it and turn it
# into additive form, which adds no layer and no weight.
import torch
from torch import nn


class ModuleUtilsMixin:
    def get_extended_attention_mask(self, attention_mask, input_shape=None, device=None, dtype=None):
        return attention_mask

    def invert_attention_mask(self, encoder_attention_mask):
        return encoder_attention_mask

    def get_head_mask(self, head_mask, num_hidden_layers, is_attention_chunked=False):
        if head_mask is None:
            return [None] * num_hidden_layers
        return head_mask

    def warn_if_padding_and_no_attention_mask(self, input_ids, attention_mask):
        return None

    @property
    def dtype(self):
        return torch.float32

    @property
    def device(self):
        return "cpu"


class PreTrainedModel(nn.Module, ModuleUtilsMixin):
    config_class = None
    base_model_prefix = ""
    main_input_name = "input_ids"
    supports_gradient_checkpointing = False
    _no_split_modules = None
    _keys_to_ignore_on_load_missing = None
    _tied_weights_keys = None
    _supports_sdpa = False
    _supports_flash_attn_2 = False
    is_parallelizable = False

    def __init__(self, config, *inputs, **kwargs):
        super().__init__()
        self.config = config
        self.name_or_path = ""
        self.warnings_issued = {}
        self.generation_config = None
        self.gradient_checkpointing = False

    @classmethod
    def _from_config(cls, config, torch_dtype=None, attn_implementation=None,
                     use_flash_attention_2=False, **kwargs):
        # The real one copies the config and picks the attention implementation and
        # dtype; the model is `cls(config, **kwargs)` (CLIPModel builds its towers so).
        return cls(config, **kwargs)

    def post_init(self):
        return None

    def init_weights(self):
        return None

    def tie_weights(self):
        return None

    def _backward_compatibility_gradient_checkpointing(self):
        return None

    @property
    def base_model(self):
        return getattr(self, self.base_model_prefix, self)


class PoolerStartLogits(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, 1)

    def forward(self, hidden_states, p_mask=None):
        return self.dense(hidden_states).squeeze(-1)


class SequenceSummary(nn.Module):
    # transformers' SequenceSummary in its default form ("last" token, projection to the
    # labels or to hidden_size, activation, dropouts).
    def __init__(self, config):
        super().__init__()
        self.summary_type = getattr(config, "summary_type", "last")
        self.summary = nn.Identity()
        if getattr(config, "summary_use_proj", False) and config.summary_use_proj:
            if getattr(config, "summary_proj_to_labels", False) and config.summary_proj_to_labels and config.num_labels > 0:
                num_classes = config.num_labels
            else:
                num_classes = config.hidden_size
            self.summary = nn.Linear(config.hidden_size, num_classes)
        activation_string = getattr(config, "summary_activation", None)
        self.activation = nn.Tanh() if activation_string == "tanh" else nn.Identity()
        self.first_dropout = nn.Identity()
        self.last_dropout = nn.Identity()

    def forward(self, hidden_states, cls_index=None):
        output = hidden_states[:, -1]
        output = self.first_dropout(output)
        output = self.summary(output)
        output = self.activation(output)
        output = self.last_dropout(output)
        return output
