# A model of transformers.pytorch_utils (4.46). Read by portlint's interpreter, never
# imported.
import torch
from torch import nn

ALL_LAYERNORM_LAYERS = [nn.LayerNorm]

is_torch_greater_or_equal_than_2_4 = True
is_torch_greater_or_equal_than_2_3 = True
is_torch_greater_or_equal_than_2_2 = True
is_torch_greater_or_equal_than_2_1 = True
is_torch_greater_or_equal_than_2_0 = True
is_torch_greater_or_equal_than_1_13 = True
is_torch_greater_or_equal_than_1_12 = True


class Conv1D(nn.Linear):
    # GPT-2's Conv1D(nf, nx) is a Linear from nx to nf features whose weight is stored
    # transposed (nx, nf): the same layer and the same number of weights.
    def __init__(self, nf, nx):
        super().__init__(nx, nf)
        self.nf = nf
        self.nx = nx


def apply_chunking_to_forward(forward_fn, chunk_size, chunk_dim, *input_tensors):
    # Chunking splits the work, not the function: the result is forward_fn's.
    return forward_fn(*input_tensors)


def find_pruneable_heads_and_indices(heads, n_heads, head_size, already_pruned_heads):
    return set(), None


def prune_linear_layer(layer, index, dim=0):
    return layer


def prune_conv1d_layer(layer, index, dim=1):
    return layer


def meshgrid(*tensors, indexing=None):
    return torch.meshgrid(*tensors, indexing=indexing)
