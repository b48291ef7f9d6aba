# A model of transformers.modeling_attn_mask_utils (4.46). Read by portlint's
# interpreter, never imported. Masks are reshaped and made additive: no layer, no weight.


def _prepare_4d_attention_mask(mask, dtype, tgt_len=None):
    return mask


def _prepare_4d_attention_mask_for_sdpa(mask, dtype, tgt_len=None):
    return mask


def _prepare_4d_causal_attention_mask(attention_mask, input_shape, inputs_embeds, past_key_values_length, sliding_window=None):
    return attention_mask


def _prepare_4d_causal_attention_mask_for_sdpa(attention_mask, input_shape, inputs_embeds, past_key_values_length, sliding_window=None):
    return attention_mask


def _create_4d_causal_attention_mask(input_shape, dtype, device, past_key_values_length=0, sliding_window=None):
    return None


class AttentionMaskConverter:
    def __init__(self, is_causal, sliding_window=None):
        self.is_causal = is_causal
        self.sliding_window = sliding_window

    def to_4d(self, attention_mask_2d, query_length, dtype, key_value_length=None):
        return attention_mask_2d

    @staticmethod
    def _ignore_causal_mask_sdpa(attention_mask, inputs_embeds, past_key_values_length, sliding_window=None, is_training=False):
        return True

    @staticmethod
    def _unmask_unattended(expanded_mask, min_dtype):
        return expanded_mask
