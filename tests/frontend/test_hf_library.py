"""transformers' library modules answered from portlint's models (knowledge/hf_library),
on our own small package tests/fixtures/hf/transformers: the TensorFlow side's
modeling_tf_utils, tf_utils, utils and onnx are not read; a name a model lacks is read
from the package's own module, and the model's relative imports resolve from there;
the analysed file's imports are resolved only when a name is used."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from portlint import source as source_module
from portlint.frontend import ModelRef, extract, loader
from portlint.knowledge import hf_library
from portlint.shapes import infer
from tests.support import FIXTURES

HF = FIXTURES / "hf"
TINYGPT = HF / "transformers" / "models" / "tinygpt"


def _record_parses(monkeypatch, root: Path) -> list[str]:
    """The files parsed from now on: relative to `root`, or `model:NAME` for a file of
    knowledge/hf_library."""
    parsed: list[str] = []
    parse = source_module.parse_text
    # Parsed files and shared module scopes of earlier tests would not be parsed again.
    monkeypatch.setattr(source_module, "_PARSED", type(source_module._PARSED)())
    monkeypatch.setattr(loader, "_SHARED_MODULES", {})

    def recording_parse(path: str, text: str, cells=None):
        file = Path(path).resolve()
        if file.parent == hf_library.FOLDER:
            parsed.append(f"model:{file.name}")
        else:
            parsed.append(file.relative_to(root.resolve()).as_posix())
        return parse(path, text, cells)

    monkeypatch.setattr(source_module, "parse_text", recording_parse)
    return parsed


def _graph(ref: str):
    graph = extract(ModelRef.parse(str(TINYGPT / ref)))
    infer(graph, None)
    return graph


def _weights(graph) -> int:
    owned = sum(w.counts.trainable for w in graph.owned if w.counts is not None)
    layers = sum(n.counts.trainable for n in graph.nodes if n.counts is not None)
    return owned + layers


def test_tf_library_imports_are_answered_from_portlint_models(monkeypatch):
    parsed = _record_parses(monkeypatch, HF)
    graph = _graph("modeling_tf_tinygpt.py::TFTinyGPTModel")
    # Nothing of the package's modeling_tf_utils.py, tf_utils.py or activations_tf.py
    # is read: every name the model file takes from them is modelled.
    library = [p for p in parsed if p.startswith("transformers/") and "/models/" not in p]
    assert library == [], parsed
    assert "transformers/models/tinygpt/modeling_tf_tinygpt.py" in parsed
    assert {"model:modeling_tf_utils.py", "model:tf_utils.py", "model:utils.py",
            "model:logging.py"} <= set(parsed)
    # TFSharedEmbeddings (50 x 8), then per block a LayerNorm (16), TFConv1D(24, 8)
    # with its (8, 24) kernel and (1, 24) bias, and TFConv1D(8, 8); then ln_f.
    assert _weights(graph) == 50 * 8 + 2 * (16 + (8 * 24 + 24) + (8 * 8 + 8)) + 16


def test_tf_conv1d_keeps_gpt2_sizes_in_the_lm_head(monkeypatch):
    graph = _graph("modeling_tf_tinygpt.py::TFTinyGPTLMHeadModel")
    # The head multiplies by the shared embedding table: no weight of its own.
    assert _weights(graph) == 50 * 8 + 2 * (16 + (8 * 24 + 24) + (8 * 8 + 8)) + 16
    conv = [w for w in graph.owned if w.counts is not None and w.counts.trainable == 8 * 24 + 24]
    assert len(conv) == 2  # c_attn of each block, owned by the layer (add_weight in build)


def test_a_name_the_model_lacks_is_read_from_the_library_module(monkeypatch):
    parsed = _record_parses(monkeypatch, HF)
    graph = _graph("modeling_tf_gated.py::TFGatedModel")
    # TFGatedUnit is not in portlint's model of modeling_tf_utils: the package's own
    # file is read for it, and that file's relative import of activations_tf with it.
    assert "transformers/modeling_tf_utils.py" in parsed
    assert "transformers/activations_tf.py" in parsed
    ops = [(n.name, n.op) for n in graph.nodes if n.op != "input"]
    assert ("value", "dense") in ops and ("gate", "dense") in ops
    assert any(n.op == "activation" and n.attrs.get("kind") == "sigmoid" for n in graph.nodes)
    assert _weights(graph) == 50 * 8 + 2 * (8 * 8 + 8)


def test_relative_imports_of_a_model_resolve_from_the_library_module(monkeypatch):
    parsed = _record_parses(monkeypatch, HF)
    graph = _graph("modeling_tf_gated.py::TFSummaryModel")
    # TFSequenceSummary is modelled; its `from .activations_tf import get_tf_activation`
    # reaches this package's activations_tf.py (the real module's neighbour), which
    # maps "tanh" to Keras' tanh.
    assert "transformers/activations_tf.py" in parsed
    assert "transformers/modeling_tf_utils.py" not in parsed
    assert any(n.op == "activation" and n.attrs.get("kind") == "tanh" for n in graph.nodes)
    summary = [n for n in graph.nodes if n.name == "summary"]
    assert summary and summary[0].attrs.get("units") == 8  # config.hidden_size -> n_embd


def test_models_without_the_library_on_disk_import_each_other(tmp_path):
    # A user's file importing from an installed transformers (not analysed): the models
    # still reach one another (modeling_tf_utils -> tf_utils, configuration_utils).
    (tmp_path / "m.py").write_text(textwrap.dedent("""\
        from transformers.modeling_tf_utils import TFConv1D, TFPreTrainedModel, keras


        class Net(TFPreTrainedModel):
            def __init__(self, config=None, **kwargs):
                super().__init__(config, **kwargs)
                self.proj = TFConv1D(12, 4, name="proj")

            def call(self, inputs):
                return self.proj(inputs)


        model = Net()
        model(keras.Input(shape=(3, 4)))
        """))
    graph = extract(ModelRef.parse(f"{tmp_path / 'm.py'}::model"))
    infer(graph, None)
    assert _weights(graph) == 4 * 12 + 12


def test_the_analysed_files_imports_are_read_only_when_used(tmp_path, monkeypatch):
    # Names that only reach decorators, annotations or a TYPE_CHECKING block cost nothing.
    files = {
        "docs.py": "def add_docstring(text):\n    return lambda fn: fn\n",
        "shapes.py": "class Shape:\n    pass\n",
        "heavy.py": "class Tokenizer:\n    pass\n",
        "blocks.py": "from torch import nn\n\n\nclass Block(nn.Linear):\n"
                     "    def __init__(self):\n        super().__init__(4, 4)\n",
        "model.py": textwrap.dedent("""\
            from typing import TYPE_CHECKING

            from torch import nn

            from blocks import Block
            from docs import add_docstring
            from shapes import Shape

            if TYPE_CHECKING:
                from heavy import Tokenizer


            @add_docstring("A block.")
            class Net(nn.Module):
                def __init__(self, tokenizer: "Tokenizer" = None):
                    super().__init__()
                    self.block = Block()

                def forward(self, x: Shape) -> Shape:
                    return self.block(x)
            """),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    parsed = _record_parses(monkeypatch, tmp_path)
    graph = extract(ModelRef.parse(f"{tmp_path / 'model.py'}::Net"))
    infer(graph, (4,))
    assert [n.op for n in graph.nodes if n.op != "input"] == ["dense"]
    assert sorted(parsed) == ["blocks.py", "model.py"]


@pytest.mark.parametrize("module", sorted(hf_library.MODULES))
def test_every_library_model_is_a_file_of_the_folder(module):
    path = Path(hf_library.model_of(module))
    assert path.is_file() and path.parent == hf_library.FOLDER
