"""The models of transformers' library modules (knowledge/hf_library) on the real
transformers 4.46.3 source (slow lane): a TF/PyTorch pair reads the two model files,
their configuration and the small library modules, and none of the large ones
(modeling_tf_utils.py, utils/import_utils.py, utils/hub.py, onnx/config.py). Skips when
the source is absent: set PORTLINT_TRANSFORMERS_SOURCE to the folder that holds
`transformers/` (an unpacked transformers==4.46.3 wheel will do)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from portlint import source as source_module
from portlint.compare import Options, compare
from portlint.frontend import loader

ROOT = Path(os.environ.get("PORTLINT_TRANSFORMERS_SOURCE", "/work/corpora/transformers-4.46.3"))
MODELS = ROOT / "transformers" / "models"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (MODELS / "bert" / "modeling_tf_bert.py").is_file(),
                       reason=f"transformers 4.46.3 source not found at {ROOT} "
                              "(set PORTLINT_TRANSFORMERS_SOURCE)"),
]

LARGE = ("transformers/modeling_tf_utils.py", "transformers/utils/import_utils.py",
         "transformers/utils/hub.py", "transformers/onnx/config.py",
         "transformers/utils/generic.py", "transformers/utils/doc.py")


def _compare(monkeypatch, tf_ref: str, torch_ref: str) -> tuple[dict, list[str]]:
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(source_module, "_PARSED", type(source_module._PARSED)())
    monkeypatch.setattr(loader, "_SHARED_MODULES", {})
    parsed: list[str] = []
    parse = source_module.parse_text

    def recording_parse(path: str, text: str, cells=None):
        parsed.append(path)
        return parse(path, text, cells)

    monkeypatch.setattr(source_module, "parse_text", recording_parse)
    result = compare(tf_ref, torch_ref, Options())
    return result, parsed


@pytest.mark.parametrize("family,tf_class,torch_class,keras_total,torch_total", [
    # The library models must keep every size: both sides' totals are those of the models
    # transformers builds (TF complete since the tf.* tables, 207f035; at d85c9a9 the TF
    # totals were partial, 107,708,928 and 123,614,976).
    ("bert", "TFBertModel", "BertModel", 109_482_240, 109_482_240),
    ("gpt2", "TFGPT2Model", "GPT2Model", 124_439_808, 124_439_808),
])
def test_a_real_pair_reads_no_large_library_module(monkeypatch, family, tf_class, torch_class,
                                                   keras_total, torch_total):
    tf_ref = f"transformers/models/{family}/modeling_tf_{family}.py::{tf_class}"
    torch_ref = f"transformers/models/{family}/modeling_{family}.py::{torch_class}"
    result, parsed = _compare(monkeypatch, tf_ref, torch_ref)
    read = {Path(p).resolve().relative_to(ROOT.resolve()).as_posix() for p in parsed
            if Path(p).resolve().is_relative_to(ROOT.resolve())}
    assert f"transformers/models/{family}/modeling_tf_{family}.py" in read
    assert not read & set(LARGE), sorted(read & set(LARGE))
    pair = result.to_json()
    assert pair["totals"]["keras"]["total"] == keras_total
    assert pair["totals"]["torch"]["parameters"] == torch_total


@pytest.mark.parametrize("name", ["bert/modeling_tf_bert.py", "bert/modeling_bert.py",
                                  "t5/modeling_tf_t5.py", "whisper/modeling_whisper.py"])
def test_fast_positions_are_libcsts_on_real_files(name):
    import libcst

    from portlint.positions import _libcst_positions, node_positions

    module = libcst.parse_module((MODELS / name).read_text(encoding="utf-8"))
    assert node_positions(module) == _libcst_positions(module)
