"""`portlint verify --numeric` on real Hugging Face pairs (transformers 4.46.3's own
`modeling_tf_<f>.py` / `modeling_<f>.py`, read from the installed package, never copied).

Slow lane: needs transformers, torch, TensorFlow and tf_keras in the interpreter that runs
the tests (e.g. `pip install transformers==4.46.3 tf_keras`); skipped, with the reason,
otherwise. Each pair is built from a small configuration given to both sides; the
one-argument change gives the torch side another `layer_norm_eps`.
"""

from __future__ import annotations

import importlib.util
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from support import portlint

pytestmark = pytest.mark.slow

NEEDED = ("transformers", "torch", "tensorflow", "tf_keras")
_missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
if _missing:
    pytest.skip(f"verify --numeric on HF pairs needs {', '.join(NEEDED)}; missing here: "
                f"{', '.join(_missing)} (pip install transformers==4.46.3 tf_keras)",
                allow_module_level=True)

PACKAGE = Path(importlib.util.find_spec("transformers").submodule_search_locations[0])
ROOT = PACKAGE.parent

BERT = {"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4,
        "intermediate_size": 96, "vocab_size": 500, "max_position_embeddings": 64}
GPT2 = {"n_layer": 2, "n_embd": 64, "n_head": 4, "vocab_size": 500, "n_positions": 64}
RESNET = {"depths": [1, 1], "hidden_sizes": [16, 32], "embedding_size": 16}

RUNS = {  # name -> (family, TF class, torch class, keras config, torch config)
    "bert": ("bert", "TFBertModel", "BertModel", BERT, BERT),
    "bert-eps": ("bert", "TFBertModel", "BertModel", BERT, {**BERT, "layer_norm_eps": 1e-3}),
    "gpt2": ("gpt2", "TFGPT2Model", "GPT2Model", GPT2, GPT2),
    "resnet": ("resnet", "TFResNetModel", "ResNetModel", RESNET, RESNET),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hf")

    def one(name):
        family, tf_class, torch_class, keras_cfg, torch_cfg = RUNS[name]
        (tmp / f"{name}-k.json").write_text(json.dumps(keras_cfg))
        (tmp / f"{name}-t.json").write_text(json.dumps(torch_cfg))
        models = f"transformers/models/{family}"
        return portlint("verify", f"{models}/modeling_tf_{family}.py::{tf_class}",
                        f"{models}/modeling_{family}.py::{torch_class}", "--numeric",
                        "--format", "json", "--keras-config", tmp / f"{name}-k.json",
                        "--torch-config", tmp / f"{name}-t.json", cwd=ROOT, timeout=900)

    with ThreadPoolExecutor(2) as pool:
        return dict(zip(RUNS, pool.map(one, RUNS)))


def numeric(run):
    assert run.returncode in (0, 1), run.stderr
    pair = json.loads(run.stdout)["pairs"][0]
    return pair["numeric"], pair["dynamic"]


@pytest.mark.parametrize("name, tensors", [("bert", 39), ("gpt2", 28), ("resnet", 40)])
def test_pair_is_proven_equivalent_with_portlints_mapping(runs, name, tensors):
    result, dynamic = numeric(runs[name])
    assert result["mapped_by"] == "names"
    assert result["unmapped"] == []
    assert result["transferred"] == tensors
    assert result["equivalent"] is True, result
    assert result["max_abs_error"] < 1e-4
    assert result["first_divergence"] is None
    # the counts of the built models reconcile (non-persistent buffers are no weights)
    assert dynamic["reconciled"] is True


def test_one_argument_change_is_caught(runs):
    result, _ = numeric(runs["bert-eps"])
    assert result["equivalent"] is False
    assert result["max_abs_error"] > 1e-3
    # found where it starts: the first LayerNorm, where the static check reports the eps
    first = result["first_divergence"]
    assert (first["keras"], first["torch"]) == ("tf_bert_model/bert/embeddings/LayerNorm",
                                                "embeddings.LayerNorm")
    assert any(f.startswith("PTL102 norm-epsilon-mismatch") for f in first["static_findings"])
    assert {c["keras"] for c in result["layers"]} == {"last_hidden_state", "pooler_output"}
    assert result["modules"] and all(c["status"] != "agrees" for c in result["modules"])


def test_layers_agree_one_by_one_when_equivalent(runs):
    result, _ = numeric(runs["bert"])
    pairs = {c["torch"]: c for c in result["modules"]}
    # query pairs with query (a positional pairing of the three projections would not)
    assert pairs["encoder.layer.0.attention.self.query"]["keras"] == \
        "tf_bert_model/bert/encoder/layer_._0/attention/self/query"
    assert all(c["status"] == "agrees" for c in result["modules"]), result["modules"]
    assert "tanh" in pairs["pooler.dense"]["note"]  # the Keras Dense fuses the activation
    resnet, _ = numeric(runs["resnet"])
    moved = [c for c in resnet["modules"] if "channels moved last" in (c.get("note") or "")]
    assert moved and all(c["status"] == "agrees" for c in resnet["modules"])


def test_text_report_names_the_mapping_and_tf_keras(runs, tmp_path):
    family, tf_class, torch_class, keras_cfg, _ = RUNS["gpt2"]
    cfg = tmp_path / "gpt2.json"
    cfg.write_text(json.dumps(keras_cfg))
    models = f"transformers/models/{family}"
    run = portlint("verify", f"{models}/modeling_tf_{family}.py::{tf_class}",
                   f"{models}/modeling_{family}.py::{torch_class}", "--numeric",
                   "--keras-config", cfg, "--torch-config", cfg, cwd=ROOT, timeout=900)
    assert run.returncode in (0, 1), run.stderr
    assert "by Hugging Face's weight names" in run.stdout
    assert "built with tf_keras" in run.stdout
    assert "Equivalent: the final outputs agree" in run.stdout
