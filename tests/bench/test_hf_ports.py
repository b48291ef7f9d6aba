"""bench/hf_ports.py, the Hugging Face corpus harness, on a tiny transformers-like tree of our
own: which file pairs count as families, which classes are paired, how a real portlint run
on them is described, and the generated section of the doc. No transformers needed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from support import ROOT, shown

HARNESS = ROOT / "bench" / "hf_ports.py"

TINY_TF = """\
import keras

from ...sizes import HIDDEN


class TFTinyPreTrainedModel(keras.Model):
    pass


class TFTinyModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(HIDDEN, activation="relu")
        self.out = keras.layers.Dense(4)

    def call(self, x):
        return self.out(self.dense(x))


class TFTinyForMaskedLM(keras.Model):
    pass


class TFTinyForSequenceClassification(keras.Model):
    pass
"""
TINY_TORCH = """\
from torch import nn

from ...sizes import HIDDEN


class TinyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(8, HIDDEN)
        self.act = nn.ReLU()
        self.out = nn.Linear(HIDDEN, 4)

    def forward(self, x):
        return self.out(self.act(self.dense(x)))


class TinyForMaskedLM(nn.Module):
    pass
"""

FILES = {
    "sizes.py": "HIDDEN = 16\n",
    "models/tiny/modeling_tf_tiny.py": TINY_TF,
    "models/tiny/modeling_tiny.py": TINY_TORCH,
    # "Former" is no head: the base class is TFMiniFormerModel
    "models/mini_former/modeling_tf_mini_former.py":
        "class TFMiniFormerModel:\n    pass\n\n\nclass TFMiniFormerForImageClassification:\n    pass\n",
    "models/mini_former/modeling_mini_former.py":
        "class MiniFormerModel:\n    pass\n\n\nclass MiniFormerForImageClassification:\n    pass\n",
    # no TF<X>Model: the first class derived from the family's own pretrained class
    "models/dual/modeling_tf_dual.py": textwrap.dedent("""\
        class TFDualPretrainedEncoder:
            pass


        class TFDualHelper(TFPreTrainedModel):
            pass


        class TFDualEncoder(TFDualPretrainedEncoder):
            pass
        """),
    "models/dual/modeling_dual.py":
        "class DualHelper:\n    pass\n\n\nclass DualEncoder:\n    pass\n",
    # a second pair in one folder counts on its own, named by its stem
    "models/tiny/modeling_tf_tiny_text.py": "class TFTinyTextModel:\n    pass\n",
    "models/tiny/modeling_tiny_text.py": "class TinyTextModel:\n    pass\n",
    # not families: TF only, the auto factories, a deprecated model (without --deprecated)
    "models/tf_only/modeling_tf_tf_only.py": "class TFTfOnlyModel:\n    pass\n",
    "models/auto/modeling_tf_auto.py": "class TFAutoModel:\n    pass\n",
    "models/auto/modeling_auto.py": "class AutoModel:\n    pass\n",
    "models/deprecated/old/modeling_tf_old.py": "class TFOldModel:\n    pass\n",
    "models/deprecated/old/modeling_old.py": "class OldModel:\n    pass\n",
    # a TF file that does not parse: a family without pairs, not a crash
    "models/bad/modeling_tf_bad.py": "class TFBadModel(:\n",
    "models/bad/modeling_bad.py": "class BadModel:\n    pass\n",
}


def fake_tree(tmp: Path) -> Path:
    package = tmp / "transformers"
    for name, text in FILES.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in [package, *package.rglob("*")]:
        if folder.is_dir():
            (folder / "__init__.py").touch()
    (package / "__init__.py").write_text('__version__ = "0.0.test"\n')
    return package


def harness(*args, cwd: Path = ROOT, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(HARNESS), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def test_list_counts_file_pairs_and_pairs_classes(tmp_path):
    package = fake_tree(tmp_path)
    run = harness("--source", package, "--list")
    assert run.returncode == 0, shown(run)
    rows = {line.split("\t")[0]: line for line in run.stdout.splitlines() if "\t" in line}
    assert sorted(rows) == ["bad", "dual", "mini_former", "tiny", "tiny_text"], shown(run)
    # the preference order: ForSequenceClassification needs a torch twin, ForMaskedLM has one
    assert "base: TFTinyModel / TinyModel\thead: TFTinyForMaskedLM / TinyForMaskedLM" in rows["tiny"]
    assert "base: TFMiniFormerModel / MiniFormerModel" in rows["mini_former"]
    assert "head: TFMiniFormerForImageClassification" in rows["mini_former"]
    assert "base: TFDualEncoder / DualEncoder" in rows["dual"]
    assert "no base pair" in rows["bad"] and "no head pair" in rows["bad"]
    assert run.stdout.strip().endswith("5 families, 4 base pairs, 2 head pairs"), shown(run)
    # the parent folder is accepted too, and --deprecated adds models/deprecated/*
    run = harness("--source", tmp_path, "--deprecated", "--list")
    assert "old\ttransformers/models/deprecated/old\tbase: TFOldModel / OldModel" in run.stdout, shown(run)


def test_runs_portlint_from_the_import_root_and_writes_the_doc(tmp_path):
    package = fake_tree(tmp_path)
    doc = tmp_path / "hf-ports.md"
    doc.write_text("# Hand-written intro\n\nkept\n")  # no markers yet: appended
    out = tmp_path / "results.json"
    run = harness("--source", package, "--families", "tiny,mini_former", "--json", out,
                  "--markdown", doc, "-j", "2", "--timeout", "120")
    assert run.returncode == 0, shown(run)
    rows = {(r["family"], r["kind"]): r for r in json.loads(out.read_text())["pairs"]}
    base = rows["tiny", "base"]
    # followed: the relative import `from ...sizes import HIDDEN` resolved (16 units)
    assert base["followed"] and base["exit"] == 0, base
    assert base["static"]["keras"] == {"value": 212, "partial": False}, base
    assert base["static"]["torch"] == {"value": 212, "partial": False}, base
    assert base["nodes"] == {"keras": 4, "torch": 4} and base["weighted"] == {"keras": 2, "torch": 2}
    # nothing with weights extracted: portlint refuses it (exit 2) and says where it stopped
    head = rows["tiny", "head"]
    assert head["exit"] == 2 and not head["followed"], head
    assert head["reason"].startswith("nothing with weights was extracted from `TFTinyForMaskedLM`")
    assert "has no forward/call at transformers/models/tiny/modeling_tf_tiny.py:20" in head["reason"]
    # exit 2: the first line of the error, without portlint's prefix and the reference
    broken = rows["mini_former", "base"]
    assert broken["exit"] == 2 and not broken["followed"]
    assert broken["reason"] == "`TFMiniFormerModel` is not a model, a model class or a function that builds one"
    summary = run.stdout.splitlines()[0]
    assert summary.startswith("base pairs followed 1/2, head pairs 0/2, time median "), shown(run)
    # both mini_former pairs stop on the TF side with one message pattern
    assert "  2  `<TF class>` is not a model, a model class or a function that builds one" \
        in run.stdout, shown(run)
    text = doc.read_text()
    assert text.startswith("# Hand-written intro\n\nkept\n\n<!-- hf-ports:begin")
    assert text.endswith("<!-- hf-ports:end -->\n")
    assert "| tiny | `TFTinyModel` / `TinyModel` | yes | 0 |" in text
    assert "| 212 | 212 |" in text


def test_from_json_replaces_only_the_generated_section(tmp_path):
    results = {"meta": {"date": "D", "portlint": "P", "transformers": "T", "jobs": 1,
                        "timeout": 5, "load": 0.0},
               "families_total": 3, "families": [], "no_base_pair": ["c"],
               "pairs": [
                   {"family": "a", "kind": "base", "tf_class": "TFAModel", "torch_class": "AModel",
                    "followed": False, "exit": 2, "seconds": 1.0,
                    "reason": "`TFAModel` does not produce a model portlint can follow"},
                   {"family": "b", "kind": "base", "tf_class": "TFBModel", "torch_class": "BModel",
                    "followed": False, "exit": None, "seconds": 9.0, "reason": "timed out after 5 s"},
                   {"family": "b", "kind": "head", "tf_class": "TFBForX", "torch_class": "BForX",
                    "followed": False, "exit": 2, "seconds": 3.0,
                    "reason": "`TFBForX` does not produce a model portlint can follow"},
                   {"family": "c", "kind": "head", "tf_class": "TFCForX", "torch_class": "CForX",
                    "followed": False, "exit": 2, "seconds": 3.0,
                    "reason": "`CForX` does not produce a model portlint can follow"}]}
    saved = tmp_path / "r.json"
    saved.write_text(json.dumps(results))
    doc = tmp_path / "doc.md"
    doc.write_text("before\n<!-- hf-ports:begin (generated by bench/hf_ports.py; do not edit "
                   "by hand) -->\nstale\n<!-- hf-ports:end -->\nafter\n")
    run = harness("--from-json", saved, "--markdown", doc)
    assert run.returncode == 0, shown(run)
    assert run.stdout.splitlines()[0] == ("base pairs followed 0/3, head pairs 0/2, "
                                          "time median 3.0 s, p90 9.0 s, max 9.0 s")
    text = doc.read_text()
    assert text.startswith("before\n") and text.endswith("<!-- hf-ports:end -->\nafter\n")
    assert "stale" not in text and "Families with no base-model pair: c." in text
    assert "| 2 | `<TF class>` does not produce a model portlint can follow | a:base, b:head |" in text
    assert "| 1 | `<torch class>` does not produce a model portlint can follow | c:head |" in text
    assert "| b | `TFBModel` / `BModel` | no | timeout | timed out after 5 s |" in text


def test_builds_from_checks_saved_built_counts_against_new_static_runs(tmp_path):
    package = fake_tree(tmp_path)
    saved = tmp_path / "built.json"
    built = {"torch": {"parameters": 212}, "keras": {"parameters": 200}, "seconds": 1.0}
    saved.write_text(json.dumps({"meta": {"instantiate": "1 base pairs in `venv`"},
                                 "pairs": [{"family": "tiny", "kind": "base",
                                            "instantiated": built}]}))
    out = tmp_path / "results.json"
    run = harness("--source", package, "--families", "tiny", "--kinds", "base",
                  "--builds-from", saved, "--json", out, "-j", "1")
    assert run.returncode == 0, shown(run)
    results = json.loads(out.read_text())
    row = results["pairs"][0]
    assert row["instantiated"] == built
    # the static totals are both 212: torch matches, Keras does not
    assert row["counts_match"] == {"keras": "mismatch", "torch": "match"}, row
    assert "1 pairs' counts from `built.json`" in results["meta"]["instantiate"]
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    run = harness("--source", package, "--families", "tiny", "--builds-from", broken)
    assert run.returncode != 0 and "--builds-from" in run.stderr and "Traceback" not in run.stderr
