"""Configuration through the real CLI (SPEC "Configuration"): discovery (closest file wins,
`--config` overrides, `portlint.toml` vs `pyproject.toml`), one exit-2 line naming the file
and the key for every bad configuration, select/ignore, per-file-ignores, exclude,
severity overrides and keras-version."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import (
    BN_LINE,
    FC1_LINE,
    FC2_LINE,
    FLATTEN_LINE,
    SEED_CODES,
    assert_input_error,
    codes,
    located,
    portlint,
    seed_pair,
    shown,
    write,
)
from portlint.config import Config, Settings, glob_matches, load_config, rule_for, unknown_selectors

PAIR = '[{keras = "keras/keras_model.py::build_model", torch = "torch/torch_model.py"}]'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with the seed pair (keras/, torch/) and no configuration yet."""
    seed_pair(tmp_path)
    return tmp_path


def pyproject(directory: Path, body: str) -> Path:
    return write(directory / "pyproject.toml", "[project]\nname = \"x\"\n\n[tool.portlint]\n" + body)


def check_json(cwd: Path, *args) -> set[tuple[str, int]]:
    return located(portlint("check", *args, "--format", "json", cwd=cwd))


# --------------------------------------------------------------------------- discovery


def test_closest_configuration_wins_and_config_option_overrides(project: Path):
    pyproject(project, f"pairs = {PAIR}\nignore = [\"PTL4\"]\n")
    sub = project / "torch"
    write(sub / "portlint.toml", 'pairs = [{keras = "../keras/keras_model.py::build_model", '
                                 'torch = "torch_model.py"}]\nignore = ["PTL1"]\n')
    root_view = {c for c in SEED_CODES if not c[0].startswith("PTL4")}
    sub_view = {c for c in SEED_CODES if not c[0].startswith("PTL1")}
    # Discovery starts at the first path given: torch/portlint.toml is closest to it.
    assert check_json(project, "torch/torch_model.py") == sub_view
    assert check_json(sub, "torch_model.py") == sub_view
    # keras/ has no configuration of its own: the project's applies.
    assert check_json(project, "keras/keras_model.py") == root_view
    # With no path, discovery starts in the current directory.
    assert check_json(project) == root_view
    assert check_json(sub) == sub_view
    # --config replaces discovery.
    assert check_json(sub, "torch_model.py", "--config", project / "pyproject.toml") == root_view
    assert check_json(project, "--config", "torch/portlint.toml") == sub_view


def test_portlint_toml_wins_over_pyproject_in_the_same_directory(project: Path):
    pyproject(project, f"pairs = {PAIR}\nignore = [\"PTL4\"]\n")
    write(project / "portlint.toml", f"pairs = {PAIR}\nignore = [\"PTL1\"]\n")
    assert check_json(project) == {c for c in SEED_CODES if not c[0].startswith("PTL1")}


def test_pyproject_without_a_portlint_table_is_skipped(project: Path):
    write(project / "portlint.toml", f"pairs = {PAIR}\nselect = [\"PTL101\"]\n")
    sub = project / "torch"
    write(sub / "pyproject.toml", '[project]\nname = "torch-port"\n\n[tool.ruff]\nline-length = 99\n')
    assert check_json(sub, "torch_model.py") == {("PTL101", BN_LINE)}


def test_config_paths_and_globs_are_relative_to_the_config_file(project: Path):
    pyproject(project, f"pairs = {PAIR}\nper-file-ignores = {{\"torch/*.py\" = [\"PTL1\"]}}\n")
    elsewhere = project / "keras"
    found = check_json(elsewhere, "../torch/torch_model.py")
    assert found == {c for c in SEED_CODES if not c[0].startswith("PTL1")}


def test_compare_honours_the_configuration_and_config_option(project: Path):
    pyproject(project, 'severity = {PTL404 = "off", flatten-layout-mismatch = "error"}\n')
    result = portlint("compare", "keras/keras_model.py", "torch/torch_model.py", "--format",
                      "json", cwd=project)
    by_code = {f["code"]: f for f in __import__("json").loads(result.stdout)["findings"]}
    assert "PTL404" not in by_code and by_code["PTL201"]["severity"] == "error", shown(result)
    other = write(project / "other.toml", 'ignore = ["PTL2"]\n')
    result = portlint("compare", "keras/keras_model.py", "torch/torch_model.py", "--config",
                      other, "--format", "json", cwd=project)
    assert codes(result) == {c for c, _ in SEED_CODES} - {"PTL201"}


# --------------------------------------------------------------------------- bad config


BAD = [
    ('pairz = []\n', r"pairz: unknown key"),
    ('select = "PTL1"\n', r"select: expected an array"),
    ('select = ["PTL1", 3]\n', r"select\[1\]: expected a non-empty string"),
    ('select = ["no-such-rule"]\n', r"select\[0\]: unknown rule 'no-such-rule'"),
    ('ignore = ["XYZ"]\n', r"ignore\[0\]: unknown rule"),
    ('severity = {PTL999 = "error"}\n', r"severity\.PTL999: unknown rule"),
    ('severity = {PTL101 = "fatal"}\n', r"severity\.PTL101: expected one of"),
    ('severity = "error"\n', r"severity: expected a table"),
    ('per-file-ignores = ["x.py"]\n', r"per-file-ignores: expected a table"),
    ('per-file-ignores = {"tests/*.py" = ["PTL9999x"]}\n', r'per-file-ignores\."tests/\*\.py"\[0\]: unknown rule'),
    ('exclude = "build"\n', r"exclude: expected an array"),
    ('keras-version = 4\n', r"keras-version: expected 2 or 3"),
    ('keras-version = "3"\n', r"keras-version: expected 2 or 3"),
    ('report-unused-suppressions = "yes"\n', r"report-unused-suppressions: expected true or false"),
    ('pairs = {keras = "a.py"}\n', r"pairs: expected an array of tables"),
    ('pairs = [{keras = "keras/keras_model.py"}]\n', r"pairs\[0\]\.torch: missing"),
    ('pairs = [{keras = "keras/missing.py", torch = "torch/torch_model.py"}]\n',
     r"pairs\[0\]\.keras: no such file: keras/missing\.py"),
    ('pairs = [{keras = "keras/keras_model.py", torch = "torch/torch_model.py", model = "x"}]\n',
     r"pairs\[0\]\.model: unknown key"),
    ('pairs = [{keras = "keras/keras_model.py", torch = "torch/torch_model.py", port = "jax"}]\n',
     r"pairs\[0\]\.port: expected"),
    ('pairs = [{keras = "keras/keras_model.py", torch = "torch/torch_model.py", input-shape = [64, -1]}]\n',
     r"pairs\[0\]\.input-shape: expected an array of positive integers"),
    ('pairs = [{keras = "keras/keras_model.py::1x", torch = "torch/torch_model.py"}]\n',
     r"pairs\[0\]\.keras: .*not a Python name"),
    ('select = [\n', r"invalid TOML"),
]


@pytest.mark.parametrize("body, needle", BAD, ids=[b[1][:40] for b in BAD])
@pytest.mark.parametrize("name", ["pyproject.toml", "portlint.toml"])
def test_bad_configuration_is_one_line_naming_file_and_key(project: Path, name: str, body: str,
                                                           needle: str):
    if name == "pyproject.toml":
        pyproject(project, body)
        prefix = r"pyproject\.toml: " + (r"\[tool\.portlint\] " if "TOML" not in needle else "")
    else:
        write(project / name, body)
        prefix = r"portlint\.toml: "
    assert_input_error(portlint("check", "torch/torch_model.py", cwd=project), prefix + needle)
    assert_input_error(portlint("compare", "keras/keras_model.py", "torch/torch_model.py",
                                cwd=project), prefix + needle)


def test_the_documented_example_message(project: Path):
    pyproject(project, 'severity = {PTL999 = "error"}\n')
    message = assert_input_error(portlint("check", cwd=project))
    assert message == "portlint: pyproject.toml: [tool.portlint] severity.PTL999: unknown rule " \
                      "(a rule name, code or code prefix; `portlint rule` lists them)"


def test_config_option_errors(project: Path):
    assert_input_error(portlint("check", "--config", "nope.toml", cwd=project),
                       r"--config nope\.toml: no such file")
    write(project / "sub" / "pyproject.toml", '[project]\nname = "x"\n')
    assert_input_error(portlint("check", "--config", "sub/pyproject.toml", cwd=project),
                       r"sub/pyproject\.toml: no \[tool\.portlint\] table")
    write(project / "portlint.toml", 'select = ["PTL1"]\n')
    assert_input_error(portlint("check", "--select", "PTL7777", cwd=project),
                       r"unknown rule selector: PTL7777")


# --------------------------------------------------------------------------- selection


@pytest.mark.parametrize("config, expected", [
    ('select = ["PTL1"]', {("PTL101", BN_LINE), ("PTL102", BN_LINE)}),
    ('select = ["batchnorm-momentum-mismatch", "PTL404"]', {("PTL101", BN_LINE), ("PTL404", FC2_LINE)}),
    ('ignore = ["PTL7", "activation-mismatch", "PTL102"]',
     {("PTL101", BN_LINE), ("PTL201", FLATTEN_LINE), ("PTL404", FC2_LINE)}),
    ('select = ["PTL4"]\nignore = ["PTL404"]', {("PTL401", FC1_LINE)}),
])
def test_select_and_ignore_by_name_code_and_prefix(project: Path, config: str, expected: set):
    pyproject(project, f"pairs = {PAIR}\n{config}\n")
    assert check_json(project, "torch/torch_model.py") == expected


def test_command_line_select_replaces_and_ignore_adds(project: Path):
    pyproject(project, f"pairs = {PAIR}\nselect = [\"PTL1\"]\nignore = [\"PTL102\"]\n")
    assert check_json(project) == {("PTL101", BN_LINE)}
    assert check_json(project, "--select", "PTL4") == {("PTL401", FC1_LINE), ("PTL404", FC2_LINE)}
    assert check_json(project, "--select", "PTL4,PTL1", "--ignore", "PTL401") == {
        ("PTL101", BN_LINE), ("PTL404", FC2_LINE)}


def test_rules_are_found_by_code_static_and_verify_only():
    assert rule_for("PTL101").name == "batchnorm-momentum-mismatch"
    assert rule_for("PTL704").name == "static-dynamic-count-mismatch"  # verify only
    assert rule_for("PTL999") is None
    assert unknown_selectors([]) == []
    assert unknown_selectors(["PTL704", "PTL9", "no-such-rule"]) == ["no-such-rule"]


def test_per_file_ignores(project: Path):
    pyproject(project, f"pairs = {PAIR}\n[tool.portlint.per-file-ignores]\n"
                       f"\"torch_model.py\" = [\"PTL7\"]\n\"torch/**\" = [\"flatten-layout-mismatch\"]\n"
                       f"\"keras/*.py\" = [\"PTL1\"]\n")
    found = check_json(project, "torch/torch_model.py")
    assert found == {c for c in SEED_CODES if c[0] not in ("PTL702", "PTL703", "PTL201")}


def test_exclude_skips_walked_and_given_files(project: Path, tmp_path: Path):
    from support import SOFTMAX_NET

    write(project / "nets" / "net.py", SOFTMAX_NET)
    write(project / "generated" / "net.py", SOFTMAX_NET)
    write(project / ".venv" / "lib" / "net.py", SOFTMAX_NET)  # never walked
    pyproject(project, 'exclude = ["generated", "keras/*.py"]\n')
    result = portlint("check", ".", "--format", "json", cwd=project)
    paths = {f["location"]["path"] for f in __import__("json").loads(result.stdout)["findings"]}
    assert paths == {"nets/net.py"}, shown(result)
    # An excluded file given explicitly (as pre-commit does) is skipped too: no Python file.
    result = portlint("check", "generated/net.py", cwd=project)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), shown(result)


# --------------------------------------------------------------------------- severity


def test_severity_overrides_change_findings_and_exit_code(project: Path):
    pyproject(project, f"pairs = {PAIR}\nselect = [\"PTL2\", \"PTL404\", \"PTL702\"]\n")
    result = portlint("check", "--format", "json", cwd=project)
    assert result.returncode == 1
    assert {(f["code"], f["severity"]) for f in __import__("json").loads(result.stdout)["findings"]} == {
        ("PTL201", "warning"), ("PTL404", "warning"), ("PTL702", "info")}

    pyproject(project, f"pairs = {PAIR}\nselect = [\"PTL2\", \"PTL404\", \"PTL702\"]\n"
                       f"[tool.portlint.severity]\nPTL2 = \"info\"\noutput-activation-mismatch = \"off\"\n")
    result = portlint("check", "--format", "json", cwd=project)
    assert result.returncode == 0, shown(result)
    assert {(f["code"], f["severity"]) for f in __import__("json").loads(result.stdout)["findings"]} == {
        ("PTL201", "info"), ("PTL702", "info")}

    # The most specific selector wins: a code beats its family's prefix.
    pyproject(project, f"pairs = {PAIR}\nselect = [\"PTL7\"]\n"
                       f"severity = {{PTL7 = \"warning\", PTL703 = \"off\", buffer-accounting = \"error\"}}\n")
    result = portlint("check", "--format", "json", cwd=project)
    assert result.returncode == 1
    assert {(f["code"], f["severity"]) for f in __import__("json").loads(result.stdout)["findings"]} == {
        ("PTL702", "error")}


# --------------------------------------------------------------------------- keras-version

KERAS_HARD_SIGMOID = """\
import keras
from keras import layers


def build():
    inputs = keras.Input(shape=(16,))
    x = layers.Dense(8, activation="hard_sigmoid")(inputs)
    x = layers.Dense(4)(x)
    return keras.Model(inputs, x)
"""
TORCH_HARD_SIGMOID = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 8)
        self.fc2 = nn.Linear(8, 4)

    def forward(self, x):
        x = F.hardsigmoid(self.fc1(x))
        return self.fc2(x)
"""


def test_keras_version_from_the_configuration(tmp_path: Path):
    # Keras 2's hard_sigmoid is 0.2x+0.5, Keras 3's is torch's hardsigmoid (x/6+0.5).
    write(tmp_path / "k.py", KERAS_HARD_SIGMOID)
    write(tmp_path / "t.py", TORCH_HARD_SIGMOID)
    pair = 'pairs = [{keras = "k.py", torch = "t.py"}]\nselect = ["PTL4"]\n'
    write(tmp_path / "portlint.toml", pair)
    assert check_json(tmp_path) == set()
    write(tmp_path / "portlint.toml", pair + "keras-version = 2\n")
    assert check_json(tmp_path) == {("PTL401", 12)}
    assert check_json(tmp_path, "--keras-version", "3") == set()  # the command line wins
    result = portlint("compare", "k.py", "t.py", "--format", "json", cwd=tmp_path)
    assert ("PTL401", 12) in located(result)


# --------------------------------------------------------------------------- the module


def test_load_config_resolves_pairs_and_settings(project: Path):
    path = pyproject(project, "pairs = [{keras = \"keras/keras_model.py::build_model\", "
                              "torch = \"torch/torch_model.py\", input-shape = [64, 64, 1], "
                              "port = \"keras\"}]\nselect = [\"PTL1\"]\nkeras-version = 2\n")
    config = load_config(path)
    pair, = config.pairs
    assert pair.keras == f"{project}/keras/keras_model.py::build_model"
    assert pair.port_ref == pair.keras and pair.origin_ref == pair.torch
    assert pair.input_shape == (64, 64, 1) and config.root == project
    settings = Settings.make(config, ignore=["PTL102"])
    assert settings.keras_version == 2
    assert settings.options().select == ("PTL101", "PTL103", "PTL104", "PTL105")
    assert Settings.make(Config()).options().select == ()


@pytest.mark.parametrize("pattern, path, expected", [
    ("tests/*.py", "tests/a.py", True),
    ("tests/*.py", "tests/sub/a.py", False),
    ("tests/**/*.py", "tests/sub/deep/a.py", True),
    ("tests/**/*.py", "tests/a.py", True),
    ("tests", "tests/sub/a.py", True),
    ("tests/", "tests/sub/a.py", True),
    ("*_pb2.py", "pkg/sub/x_pb2.py", True),
    ("generated", "pkg/generated/x.py", True),
    ("pkg/gen", "other/pkg/gen/x.py", False),
    ("model_[ab].py", "model_a.py", True),
    ("model_[!ab].py", "model_a.py", False),
])
def test_globs(tmp_path: Path, pattern: str, path: str, expected: bool):
    assert glob_matches(pattern, tmp_path / path, tmp_path) is expected
