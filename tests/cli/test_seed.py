"""The founding question, end to end through the real console script: the full answer,
in both argument orders."""

from __future__ import annotations

import json

from support import ROOT, portlint

KERAS = "examples/seed/keras_model.py"
TORCH = "examples/seed/torch_model.py"

EXPECTED_RULES = {
    "batchnorm-momentum-mismatch", "norm-epsilon-mismatch", "activation-mismatch",
    "output-activation-mismatch", "flatten-layout-mismatch", "buffer-accounting",
    "initializer-mismatch",
}


def findings_by_rule(stdout: str) -> dict:
    document = json.loads(stdout)
    out: dict = {}
    for finding in document["findings"]:
        out.setdefault(finding["rule"], []).append(finding)
    return out


def test_text_answers_the_founding_question():
    result = portlint("compare", KERAS, TORCH)
    assert result.returncode == 1, result.stderr
    text = result.stdout
    # The count difference is a convention, and the totals reconcile.
    assert "Keras total 13,108,758 = 13,108,694 trainable + 64 non-trainable" in text
    assert "PyTorch 13,108,694 parameters + 65 buffer elements" in text
    assert "shows 128 in Keras" in text and "64 parameters + 65 buffer elements" in text
    assert "num_batches_tracked" in text
    # But the port is not equivalent:
    assert "momentum=0.1 (default) is not Keras momentum=0.15" in text
    assert "equivalent is momentum=0.85" in text
    assert "eps=1e-05 (default) differs from Keras epsilon=0.001" in text
    assert "missing activation after Linear `fc1`" in text
    assert "Keras ends in softmax" in text and "returns logits" in text
    assert "fc1.weight = K.reshape(64, 64, 32, out).permute(3, 2, 0, 1).reshape(out, -1)" in text
    # The aligned table and the totals follow the findings.
    assert "Aligned layers:" in text and "Totals" in text
    assert "13,107,300" in text
    assert text.rstrip().endswith("Found 3 errors, 2 warnings, 2 infos.")


def test_json_locations_point_at_the_port_and_name_the_original():
    result = portlint("compare", KERAS, TORCH, "--format", "json")
    assert result.returncode == 1
    by_rule = findings_by_rule(result.stdout)
    assert set(by_rule) == EXPECTED_RULES
    momentum = by_rule["batchnorm-momentum-mismatch"][0]
    assert momentum["location"]["path"] == TORCH and momentum["location"]["line"] == 16
    assert momentum["related"][0]["path"] == KERAS and momentum["related"][0]["line"] == 15
    edit = momentum["fix"]["edits"][0]
    assert edit["content"] == ", momentum=0.85" and edit["line"] == 16
    relu = by_rule["activation-mismatch"][0]
    assert relu["location"]["line"] == 25  # output = self.fc1(output): add the ReLU here
    assert relu["related"][0]["line"] == 17
    assert by_rule["flatten-layout-mismatch"][0]["location"]["line"] == 24
    pair = json.loads(result.stdout)["pairs"][0]
    assert pair["totals"]["keras"] == {"total": 13108758, "trainable": 13108694,
                                       "non_trainable": 64}
    assert pair["totals"]["torch"]["parameters"] == 13108694
    assert pair["totals"]["torch"]["buffers"] == 65
    assert pair["totals"]["reconciled"] is True


def test_swapped_arguments_locate_findings_in_the_keras_file():
    result = portlint("compare", TORCH, KERAS, "--format", "json")
    assert result.returncode == 1
    by_rule = findings_by_rule(result.stdout)
    assert set(by_rule) == EXPECTED_RULES
    momentum = by_rule["batchnorm-momentum-mismatch"][0]
    assert momentum["location"]["path"] == KERAS and momentum["location"]["line"] == 15
    assert "equivalent is momentum=0.9" in momentum["message"]
    assert momentum["fix"]["edits"][0]["content"] == "0.9"
    assert "extra activation" in by_rule["activation-mismatch"][0]["message"]
    assert "W.reshape(out, 32, 64, 64).permute(2, 3, 1, 0)" in by_rule["flatten-layout-mismatch"][0]["message"]


def test_fixed_port_is_clean(tmp_path):
    port = (ROOT / TORCH).read_text()
    port = port.replace("nn.BatchNorm2d(num_features=32)",
                        "nn.BatchNorm2d(num_features=32, eps=1e-3, momentum=0.85)")
    port = port.replace("output = self.flatten(output)",
                        "output = self.flatten(output.permute(0, 2, 3, 1))")
    port = port.replace("output = self.fc1(output)", "output = torch.relu(self.fc1(output))")
    port = port.replace("output = self.fc2(output)", "output = torch.softmax(self.fc2(output), dim=1)")
    port = port.replace("import torch.nn as nn", "import torch\nimport torch.nn as nn")
    fixed = tmp_path / "torch_model.py"
    fixed.write_text(port)
    result = portlint("compare", KERAS, str(fixed), "--format", "json")
    assert result.returncode == 0, result.stdout
    assert set(findings_by_rule(result.stdout)) == {"buffer-accounting", "initializer-mismatch"}


def test_select_and_ignore_filter_rules():
    result = portlint("compare", KERAS, TORCH, "--format", "json", "--select", "PTL1")
    assert set(findings_by_rule(result.stdout)) == {"batchnorm-momentum-mismatch",
                                                   "norm-epsilon-mismatch"}
    result = portlint("compare", KERAS, TORCH, "--format", "json",
                      "--ignore", "activation-mismatch,PTL1,PTL2,PTL4")
    assert result.returncode == 0
    assert set(findings_by_rule(result.stdout)) == {"buffer-accounting", "initializer-mismatch"}


def test_rule_command_prints_documentation():
    listing = portlint("rule")
    assert listing.returncode == 0
    assert "PTL101  batchnorm-momentum-mismatch" in listing.stdout
    doc = portlint("rule", "PTL101")
    assert doc.returncode == 0
    assert "## Why it matters" in doc.stdout and "momentum=0.85" in doc.stdout
