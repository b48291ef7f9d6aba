"""Static parameter counts of Hugging Face-style PyTorch code (issue 16: the static totals
equal the instantiated ones), on our own models in tests/fixtures/hf/transformers/models/
counts: each uses one construct a real family's count depends on (T5's optional apex
import, wav2vec2's weight-normed convolution and `torch.Tensor(n)` parameter, ConvNeXt's
`torch.linspace(...).split(depths)` rates, Whisper's `bsz * num_heads` size checks on
inputs of unknown length, DeBERTa-v2's autograd Function, CLIP's `_from_config` tower and
scalar parameter, BART's tied scaled embeddings, DistilBERT's `config: PretrainedConfig`
and elementwise mask comparison). The Keras side only gives an input of any length."""

from __future__ import annotations

import pytest

from portlint.compare import compare
from tests.support import FIXTURES

HF = FIXTURES / "hf"
KERAS = f"{HF / 'keras_counts.py'}::build"
MODELS = HF / "transformers" / "models" / "counts" / "modeling_counts.py"

EMBEDDING = 100 * 16
LINEAR = 16 * 16 + 16
# Embedding, RMS norm weight (the module's own: the accelerator is not installed), Linear.
NORM_MODEL = EMBEDDING + 16 + LINEAR


def _torch_side(model: str):
    pair = compare(KERAS, f"{MODELS}::{model}")
    return pair.alignment.torch


def _total(model: str) -> int:
    graph = _torch_side(model)
    assert graph.counts_known(), [n.name for n in graph.nodes if n.counts is None]
    return graph.total_counts().trainable


@pytest.mark.parametrize("model, expected", [
    ("CountsNormModel", NORM_MODEL),
    # Conv1d(16, 16, kernel 8, groups 4): weight 16*4*8 + bias 16, and weight_norm(dim=2)
    # adds weight_g, one norm per kernel position (8); masked_spec_embed, torch.Tensor(16).
    ("CountsAudioModel", EMBEDDING + (16 * 4 * 8 + 16 + 8) + 16),
    # depths (1, 2): rates linspace(0, 0.1, 3) = 0, 0.05, 0.1; a layer scale where > 0.
    ("CountsStagesModel", EMBEDDING + 3 * LINEAR + 2 * 16),
    # q, k, v, out projections; the size checks pass on a length not known statically.
    ("CountsAttentionModel", EMBEDDING + 4 * LINEAR),
    # The text tower (_from_config), a projection without bias, the scalar logit scale.
    ("CountsDualModel", NORM_MODEL + 16 * 8 + 1),
    # The shared embedding once (encoder and decoder tie their weight to it); per coder
    # the learned positions (32 + 2 offset rows) and a Linear.
    ("CountsSharedModel", EMBEDDING + 2 * (34 * 16 + LINEAR)),
    # Built from CountsConfig, not PretrainedConfig: embedding, query and key.
    ("CountsMaskedModel", EMBEDDING + 2 * LINEAR),
    # `for x in torch.linspace(0, 0.1, 3)`: rates 0, 0.05, 0.1, a layer scale where > 0;
    # query and key count although the attention's output no longer depends on them.
    ("CountsDecayModel", EMBEDDING + 3 * LINEAR + 2 * 16 + 2 * LINEAR),
])
def test_static_totals_equal_the_built_models(model, expected):
    assert _total(model) == expected


def test_an_absent_optional_import_runs_its_except_handler():
    graph = _torch_side("CountsNormModel")
    norm = [n for n in graph.owned if n.name == "norm"]
    assert norm and norm[0].counts.trainable == 16
    assert not [u for u in graph.unresolved if "fused_norm_accelerator" in u.reason]


def test_weight_norm_keeps_the_convolution_a_layer():
    graph = _torch_side("CountsAudioModel")
    conv = next(n for n in graph.nodes if n.op == "conv")
    assert conv.name == "pos_conv_embed.conv"
    assert conv.attrs["weight_norm_dim"] == 2
    assert conv.counts.trainable == 16 * 4 * 8 + 16 + 8


def test_sizes_of_unknown_length_are_not_reported_as_constructs():
    graph = _torch_side("CountsAttentionModel")
    # bsz * num_heads and the size checks stay quiet; the views keep their known sizes.
    assert not [u for u in graph.unresolved if "size" in u.reason]
    views = [n.attrs["target_shape"] for n in graph.nodes if n.op == "reshape"]
    assert (None, -1, 4) in [tuple(None if not isinstance(d, int) else d for d in v)
                             for v in views]


def test_an_autograd_function_runs_its_forward():
    graph = _torch_side("CountsAttentionModel")
    assert [n.attrs.get("kind") for n in graph.nodes if n.op == "activation"] == ["softmax"]


def test_tied_embeddings_are_one_weight_applied_where_the_coders_use_it():
    graph = _torch_side("CountsSharedModel")
    embeddings = [n for n in graph.nodes if n.op == "embedding" and n.name.endswith("embed_tokens")]
    # super().forward(input_ids) in the subclass: the embedding is a node of each coder,
    # sharing one weight, so only the first counts; the unused `shared` adds nothing.
    assert [n.name for n in embeddings] == ["decoder.embed_tokens", "encoder.embed_tokens"]
    assert [n.counts.trainable for n in embeddings] == [EMBEDDING, 0]
    assert not [o for o in graph.owned if o.name == "shared"]
    assert not [u for u in graph.unresolved if "set after construction" in u.reason]


def test_layers_whose_result_is_lost_still_count_as_owned_weights():
    graph = _torch_side("CountsDecayModel")
    assert "attention.query" not in [n.name for n in graph.nodes]
    lost = {o.name: o.counts.trainable for o in graph.owned if o.name.startswith("attention.")}
    assert lost == {"attention.query": LINEAR, "attention.key": LINEAR}
