"""Constructs of Hugging Face model files that stopped whole pairs (issue 16), on small
models of our own in HF's style: a sinusoidal position table built in a nested
comprehension (Marian, Pegasus, RoFormer), `config: PretrainedConfig` with the model's
`config_class` (DistilBERT), `x.view(*shape)` with a shape not known statically (OpenAI
GPT), `if batch_size != 1: raise` (GPT-J's and Mistral's classifiers). Each model is
followed, the construct at most one opaque step with its reason."""

from __future__ import annotations

import textwrap

from portlint.frontend import ModelRef, extract
from portlint.ir import Op
from portlint.shapes import infer


def _graph(tmp_path, text: str, name: str, input_shape=None):
    path = tmp_path / "modeling_small.py"
    path.write_text(textwrap.dedent(text))
    graph = extract(ModelRef.parse(f"{path}::{name}"))
    infer(graph, input_shape or graph.input_shape)
    return graph


def _opaque(graph) -> list[str]:
    return [n.attrs.get("reason", "") for n in graph.nodes if n.op == Op.OPAQUE]


SINUSOIDAL = '''
    import numpy as np
    import torch
    from torch import nn


    class SinusoidalPositions(nn.Embedding):
        def __init__(self, num_positions, embedding_dim):
            super().__init__(num_positions, embedding_dim)
            self.weight = self._init_weight(self.weight)

        @staticmethod
        def _init_weight(out):
            n_pos, dim = out.shape
            table = np.array(
                [[pos / np.power(10000, 2 * (j // 2) / dim) for j in range(dim)] for pos in range(n_pos)]
            )
            out.requires_grad = False
            out[:, 0 : dim // 2] = torch.FloatTensor(np.sin(table[:, 0::2]))
            out[:, dim // 2 :] = torch.FloatTensor(np.cos(table[:, 1::2]))
            return out


    class Encoder(nn.Module):
        def __init__(self, vocab=1000, positions=1024, width=512):
            super().__init__()
            self.tokens = nn.Embedding(vocab, width)
            self.positions = SinusoidalPositions(positions, width)
            self.out = nn.Linear(width, width)

        def forward(self, input_ids):
            return self.out(self.tokens(input_ids) + self.positions(input_ids))
'''


def test_a_sinusoidal_table_in_a_nested_comprehension_is_not_computed(tmp_path):
    # 1024 x 512 iterations took the whole step budget; the table is a constant and
    # tells nothing about the structure: it is skipped, the weights still counted.
    graph = _graph(tmp_path, SINUSOIDAL, "Encoder")
    assert [n.op for n in graph.nodes if n.op == Op.DENSE] == [Op.DENSE]
    assert graph.total_counts().trainable + graph.total_counts().state == \
        1000 * 512 + 1024 * 512 + 512 * 512 + 512


def test_small_comprehensions_are_still_computed(tmp_path):
    graph = _graph(tmp_path, '''
        from torch import nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                sizes = [[i * j for j in range(1, 4)] for i in range(1, 4)]
                self.fc = nn.Linear(sizes[2][2], sum(len(row) for row in sizes))

            def forward(self, x):
                return self.fc(x)
    ''', "Net", input_shape=(9,))
    dense = next(n for n in graph.nodes if n.op == Op.DENSE)
    assert dense.counts.trainable == 9 * 9 + 9


def test_the_comprehension_limit_is_per_call(tmp_path):
    # 24 blocks built in a comprehension, each with a 1,000-item comprehension of its
    # own: 24,000 iterations in all, but each call's own stays small, so it is computed.
    graph = _graph(tmp_path, '''
        from torch import nn


        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                widths = [w % 7 for w in range(1000)]
                self.fc = nn.Linear(4, max(widths) - 2)

            def forward(self, x):
                return self.fc(x)


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = nn.ModuleList([Block() for _ in range(24)])
                self.head = nn.Linear(4, 2)

            def forward(self, x):
                for block in self.blocks:
                    x = block(x)
                return self.head(x)
    ''', "Net", input_shape=(4,))
    assert sum(1 for n in graph.nodes if n.op == Op.DENSE) == 25
    assert not _opaque(graph)


DISTIL = '''
    from torch import nn
    from transformers.configuration_utils import PretrainedConfig
    from transformers.modeling_utils import PreTrainedModel


    class SmallConfig(PretrainedConfig):
        def __init__(self, vocab_size=50, dim=8, n_layers=3, **kwargs):
            self.vocab_size = vocab_size
            self.dim = dim
            self.n_layers = n_layers
            super().__init__(**kwargs)


    class Block(nn.Module):
        def __init__(self, config: PretrainedConfig):
            super().__init__()
            self.lin = nn.Linear(config.dim, config.dim)

        def forward(self, x):
            return self.lin(x)


    class SmallPreTrainedModel(PreTrainedModel):
        config_class = SmallConfig


    class SmallModel(SmallPreTrainedModel):
        def __init__(self, config: PretrainedConfig):
            super().__init__(config)
            self.embeddings = nn.Embedding(config.vocab_size, config.dim)
            self.layers = nn.ModuleList([Block(config) for _ in range(config.n_layers)])

        def forward(self, input_ids):
            x = self.embeddings(input_ids)
            for layer in self.layers:
                x = layer(x)
            return x
'''


def test_a_config_annotated_with_the_base_class_is_built_from_config_class(tmp_path):
    graph = _graph(tmp_path, DISTIL, "SmallModel")
    assert sum(1 for n in graph.nodes if n.op == Op.DENSE) == 3
    assert graph.total_counts().trainable == 50 * 8 + 3 * (8 * 8 + 8)


def test_view_with_a_shape_not_known_statically_is_one_opaque_step(tmp_path):
    graph = _graph(tmp_path, '''
        from torch import nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)
                self.out = nn.Linear(4, 2)

            def forward(self, x):
                shape = x.size()[:-1] + (self.unknown_width,)
                h = self.fc(x).view(*shape)
                return self.out(h)
    ''', "Net", input_shape=(4,))
    assert sum(1 for n in graph.nodes if n.op == Op.DENSE) == 2
    reasons = _opaque(graph)
    assert len(reasons) == 1 and reasons[0].startswith("`view(*...)`: *args not known statically")


def test_a_raise_for_a_batch_size_other_than_one_is_an_argument_check(tmp_path):
    graph = _graph(tmp_path, '''
        from torch import nn


        class Classifier(nn.Module):
            def __init__(self, pad_token_id=None):
                super().__init__()
                self.pad_token_id = pad_token_id
                self.score = nn.Linear(4, 2)

            def forward(self, x):
                batch_size = x.shape[0]
                if self.pad_token_id is None and batch_size != 1:
                    raise ValueError("Cannot handle batch sizes > 1 if no padding token is defined.")
                return self.score(x)
    ''', "Classifier", input_shape=(4,))
    assert [n.op for n in graph.nodes if n.op == Op.DENSE] == [Op.DENSE]


def test_a_tuple_without_a_tensor_says_why_its_first_item_is_not_one(tmp_path):
    # As TFLongformerModel with return_dict=False: `(sequence_output, pooled) + rest`.
    import pytest

    from portlint.errors import InputError

    path = tmp_path / "modeling_small.py"
    path.write_text(textwrap.dedent('''
        from torch import nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)

            def forward(self, x):
                outputs = ()
                sequence_output = outputs[0]
                return (sequence_output, None)
    '''))
    with pytest.raises(InputError) as raised:
        extract(ModelRef.parse(f"{path}::Net"))
    message = str(raised.value)
    assert "returns a tuple without a tensor portlint can follow (its first: " in message
    assert "index out of range at " in message and "modeling_small.py:12" in message, message
