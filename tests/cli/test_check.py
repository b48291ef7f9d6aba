"""`portlint check [PATHS...]` through the real CLI (SPEC "Commands"): configured pairs that
touch a given file (the other side read from disk), inline `# portlint: port-of` pairs,
single-file rules, no Python file at all, no paths, bad input, `--fix`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import (
    BN_LINE,
    SEED_CODES,
    SOFTMAX_LINE,
    SOFTMAX_NET,
    assert_input_error,
    findings,
    located,
    portlint,
    seed_pair,
    shown,
    write,
)

PAIR = '[{keras = "keras/keras_model.py::build_model", torch = "torch/torch_model.py"}]'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The seed pair in keras/ and torch/, declared in portlint.toml."""
    seed_pair(tmp_path)
    write(tmp_path / "portlint.toml", f"pairs = {PAIR}\n")
    return tmp_path


def paths_of(result) -> set[str]:
    return {f["location"]["path"] for f in findings(result)}


# --------------------------------------------------------------------------- pairs


@pytest.mark.parametrize("given", ["torch/torch_model.py", "keras/keras_model.py"])
def test_a_configured_pair_is_compared_when_one_side_is_given(project: Path, given: str):
    result = portlint("check", given, "--format", "json", cwd=project)
    assert result.returncode == 1, shown(result)
    assert located(result) == SEED_CODES
    assert paths_of(result) == {"torch/torch_model.py"}  # located in the port, read from disk
    document = json.loads(result.stdout)
    pair, = document["pairs"]
    assert pair["origin"] == "keras/keras_model.py::build_model"
    assert pair["port"] == "torch/torch_model.py"


def test_a_pair_not_touching_the_given_files_is_not_compared(project: Path):
    write(project / "nets" / "net.py", SOFTMAX_NET)
    result = portlint("check", "nets/net.py", "--format", "json", cwd=project)
    assert located(result) == {("PTL801", SOFTMAX_LINE)}
    assert json.loads(result.stdout)["pairs"] == []


def test_no_paths_compares_every_configured_pair(project: Path):
    seed_pair(project / "second")
    write(project / "portlint.toml", 'pairs = [\n'
          '  {keras = "keras/keras_model.py::build_model", torch = "torch/torch_model.py"},\n'
          '  {keras = "second/keras/keras_model.py", torch = "second/torch/torch_model.py"},\n'
          ']\n')
    result = portlint("check", "--format", "json", cwd=project)
    assert result.returncode == 1, shown(result)
    assert paths_of(result) == {"torch/torch_model.py", "second/torch/torch_model.py"}
    assert len(json.loads(result.stdout)["pairs"]) == 2
    assert len(findings(result)) == 2 * len(SEED_CODES)


def test_port_keras_locates_findings_in_the_keras_file(project: Path):
    write(project / "portlint.toml", 'pairs = [{keras = "keras/keras_model.py", '
                                     'torch = "torch/torch_model.py", port = "keras"}]\n')
    result = portlint("check", "torch/torch_model.py", "--format", "json", cwd=project)
    assert result.returncode == 1, shown(result)
    assert paths_of(result) == {"keras/keras_model.py"}


def test_a_pair_input_shape_is_used(tmp_path: Path):
    # Neither side declares its input: the configured shape lets the counts be inferred.
    write(tmp_path / "k.py", """\
        import keras
        from keras import layers

        def build():
            return keras.Sequential([layers.Conv2D(8, 3), layers.Flatten(), layers.Dense(4)])
        """)
    write(tmp_path / "t.py", """\
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.flatten = nn.Flatten()
                self.fc = nn.Linear(8 * 30 * 30, 4)

            def forward(self, x):
                return self.fc(self.flatten(self.conv(x)))
        """)
    write(tmp_path / "portlint.toml", 'pairs = [{keras = "k.py", torch = "t.py"}]\n')
    result = portlint("check", "--format", "json", cwd=tmp_path)
    pair, = json.loads(result.stdout)["pairs"]
    assert pair["totals"]["keras"]["partial"] is True, shown(result)  # unknown without a shape
    assert "reconciled" not in pair["totals"]
    write(tmp_path / "portlint.toml", 'pairs = [{keras = "k.py", torch = "t.py", '
                                      'input-shape = [32, 32, 3]}]\n')
    result = portlint("check", "--format", "json", cwd=tmp_path)
    pair, = json.loads(result.stdout)["pairs"]
    assert pair["totals"]["keras"]["trainable"] == pair["totals"]["torch"]["parameters"] == 29028
    assert "partial" not in pair["totals"]["keras"] and pair["totals"]["reconciled"] is True


def test_inline_port_of_pairs_the_port_with_its_origin(tmp_path: Path):
    _, torch = seed_pair(tmp_path)
    text = torch.read_text(encoding="utf-8")
    torch.write_text("# portlint: port-of ../keras/keras_model.py::build_model\n" + text,
                     encoding="utf-8")
    result = portlint("check", "torch/torch_model.py", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, shown(result)
    assert located(result) == {(code, line + 1) for code, line in SEED_CODES}
    # Run from inside the port's directory, the origin's path is still relative to the port.
    inside = portlint("check", "torch_model.py", "--format", "json", cwd=tmp_path / "torch")
    assert located(inside) == located(result)


def test_inline_port_of_with_a_missing_origin_is_an_input_error(tmp_path: Path):
    write(tmp_path / "t.py", "import torch.nn as nn  # portlint: port-of ../gone.py::build\n")
    assert_input_error(portlint("check", "t.py", cwd=tmp_path),
                       r"t\.py:1:24: portlint: port-of \.\./gone\.py::build: no such file")


def test_the_same_pair_declared_twice_reports_each_finding_once(project: Path):
    torch = project / "torch" / "torch_model.py"
    torch.write_text(torch.read_text(encoding="utf-8").rstrip("\n")
                     + "\n# portlint: port-of ../keras/keras_model.py::build_model\n",
                     encoding="utf-8")
    result = portlint("check", "torch/torch_model.py", "keras/keras_model.py", "--format",
                      "json", cwd=project)
    assert len(findings(result)) == len(SEED_CODES), shown(result)
    assert len(json.loads(result.stdout)["pairs"]) == 1


# --------------------------------------------------------------------------- single files


def test_single_file_rules_run_on_every_model_of_a_file(tmp_path: Path):
    write(tmp_path / "net.py", SOFTMAX_NET + """

class Other(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 8)
        self.act = nn.Softmax()

    def forward(self, x):
        return self.act(self.fc(x))
""")
    write(tmp_path / "plain.py", "def add(a, b):\n    return a + b\n")  # no model: fine
    result = portlint("check", ".", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, shown(result)
    assert located(result) == {("PTL801", SOFTMAX_LINE), ("PTL801", 18)}
    assert result.stderr == ""


def test_text_output_is_findings_and_summary_without_tables(project: Path):
    result = portlint("check", "torch/torch_model.py", cwd=project)
    assert result.returncode == 1, shown(result)
    assert "torch/torch_model.py:16:13: PTL101 error [batchnorm-momentum-mismatch]" in result.stdout
    assert "Aligned layers" not in result.stdout and "Totals" not in result.stdout
    assert result.stdout.rstrip().endswith("Found 3 errors, 2 warnings, 2 infos.")
    assert "[*] 2 fixable with --fix" in result.stdout


def test_a_clean_file_exits_zero(tmp_path: Path):
    write(tmp_path / "plain.py", "x = 1\n")
    result = portlint("check", "plain.py", cwd=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "No findings."), shown(result)


# --------------------------------------------------------------------------- nothing to do


def test_no_python_file_exits_zero_without_output(tmp_path: Path):
    write(tmp_path / "README.md", "# hello\n")
    write(tmp_path / "setup.cfg", "[metadata]\n")
    (tmp_path / "empty").mkdir()
    for args in (["README.md"], ["README.md", "setup.cfg"], ["empty"]):
        result = portlint("check", *args, cwd=tmp_path)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), shown(result)
    # Machine formats still get a well-formed, empty document.
    result = portlint("check", "README.md", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0 and json.loads(result.stdout)["findings"] == []


def test_no_paths_and_no_pairs_is_a_warning_not_an_error(tmp_path: Path):
    result = portlint("check", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == "", shown(result)
    assert "nothing to check" in result.stderr


def test_exit_zero_and_output_file(project: Path):
    out = project / "report.json"
    result = portlint("check", "torch/torch_model.py", "--exit-zero", "--format", "json",
                      "--output-file", out, cwd=project)
    assert (result.returncode, result.stdout) == (0, ""), shown(result)
    assert len(json.loads(out.read_text(encoding="utf-8"))["findings"]) == len(SEED_CODES)


# --------------------------------------------------------------------------- bad input


def test_a_syntax_error_in_a_given_file_is_an_input_error(tmp_path: Path):
    write(tmp_path / "broken.py", "import torch\n\ndef f(:\n    pass\n")
    assert_input_error(portlint("check", "broken.py", cwd=tmp_path), r"broken\.py:3:\d+: syntax error")


def test_a_missing_path_is_an_input_error(tmp_path: Path):
    assert_input_error(portlint("check", "nope.py", cwd=tmp_path), r"nope\.py: no such file")


def test_a_configured_pair_that_cannot_be_extracted_names_the_pair(project: Path):
    write(project / "portlint.toml", 'pairs = [{keras = "keras/keras_model.py::nothing", '
                                     'torch = "torch/torch_model.py"}]\n')
    assert_input_error(portlint("check", "torch/torch_model.py", cwd=project),
                       r"portlint\.toml: pairs\[0\]: .*no model named `nothing`")


def test_bad_keras_version_option(project: Path):
    assert_input_error(portlint("check", "--keras-version", "4", cwd=project), r"--keras-version 4")


# --------------------------------------------------------------------------- fixes


def test_fix_through_check_on_the_seed_pair(project: Path):
    keras = project / "keras" / "keras_model.py"
    torch = project / "torch" / "torch_model.py"
    keras_before = keras.read_bytes()
    result = portlint("check", "keras/keras_model.py", "--fix", "--format", "json", cwd=project)
    assert result.returncode == 1, shown(result)  # the activation findings remain errors
    assert "fixed 2 findings in 1 file" in result.stderr
    line = torch.read_text(encoding="utf-8").splitlines()[BN_LINE - 1]
    assert line == "            nn.BatchNorm2d(num_features=32, momentum=0.85, eps=0.001),"
    assert keras.read_bytes() == keras_before  # the origin is never changed
    remaining = {code for code, _ in located(result)}
    assert not {"PTL101", "PTL102"} & remaining and "PTL401" in remaining
    again = portlint("check", "torch/torch_model.py", "--fix", cwd=project)
    assert "no fixes applied" in again.stderr, shown(again)


def test_fix_applies_single_file_fixes(tmp_path: Path):
    net = write(tmp_path / "net.py", SOFTMAX_NET)
    result = portlint("check", "net.py", "--fix", cwd=tmp_path)
    assert result.returncode == 0, shown(result)
    assert "nn.Softmax(dim=1)" in net.read_text(encoding="utf-8")
