"""Bad input through the real console script: exit code 2, one line on stderr that names the
problem, nothing on stdout, never a traceback (SPEC "Exit codes"). Also: unsupported code is
reported, not fatal; analysed code is never executed; `--output-file` writes atomically."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from support import FIXTURES, ROOT, SCRIPT, SEED_KERAS, SEED_TORCH, assert_input_error, portlint, write

BAD = FIXTURES / "bad_input"


# --------------------------------------------------------------------------- the script


def test_console_script_is_installed_next_to_the_interpreter():
    assert SCRIPT.is_file(), f"no console script at {SCRIPT}"
    assert os.access(SCRIPT, os.X_OK)
    result = portlint("--version", script=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "portlint 0.1.0"


def test_console_script_reports_input_errors_like_the_module():
    missing = ROOT / "no" / "such" / "model.py"
    via_script = assert_input_error(portlint("compare", SEED_KERAS, missing, script=True),
                                    re.escape(str(missing)))
    via_module = assert_input_error(portlint("compare", SEED_KERAS, missing), re.escape(str(missing)))
    assert via_script == via_module


# --------------------------------------------------------------------------- bad files

NOT_FOUND = r"no such file|not found|does not exist|cannot (open|read)"


@pytest.fixture
def bad_files(tmp_path: Path) -> dict[str, Path]:
    binary = tmp_path / "binary_model.py"
    binary.write_bytes(b"import torch.nn as nn\x00\x01\x02\xff\xfe\x00\nclass Net(nn.Module): pass\n")
    latin1 = tmp_path / "latin1_model.py"
    latin1.write_bytes("# Modell f\u00fcr M\u00fcnchen\nimport torch.nn as nn\n".encode("latin-1"))
    directory = tmp_path / "a_directory.py"
    directory.mkdir()
    return {"binary": binary, "latin1": latin1, "directory": directory}


@pytest.mark.parametrize("position", ["origin", "port"])
@pytest.mark.parametrize("case", [
    "missing", "directory", "binary", "latin1", "empty", "no_model",
])
def test_bad_model_file(case, position, bad_files, tmp_path):
    path = {
        "missing": tmp_path / "missing_model.py",
        "directory": bad_files["directory"],
        "binary": bad_files["binary"],
        "latin1": bad_files["latin1"],
        "empty": BAD / "empty.py",
        "no_model": BAD / "no_model.py",
    }[case]
    needles = {
        "missing": [NOT_FOUND],
        "directory": [r"directory"],
        "binary": [r"binary|NUL|null byte"],
        "latin1": [r"UTF-?8|decode|encoding"],
        "empty": [r"no (keras or pytorch )?model|empty"],
        "no_model": [r"no (keras or pytorch )?model"],
    }[case]
    good = SEED_TORCH if position == "origin" else SEED_KERAS
    args = (path, good) if position == "origin" else (good, path)
    assert_input_error(portlint("compare", *args), re.escape(str(path)), *needles)


def test_syntax_error_names_path_and_line():
    path = BAD / "syntax_error.py"
    message = assert_input_error(portlint("compare", SEED_KERAS, path), r"syntax")
    assert re.search(re.escape(str(path)) + r":\d+\b", message), message


# Where Python itself places the error (ast/compile only parse, they execute nothing). A user
# jumps to path:line, so the line must be the offending one.
SYNTAX_ERRORS = {
    "bad_indent": "import torch.nn as nn\n\nclass Net(nn.Module):\n    x = 1\n      y = 2\n",
    "stray_token": "import torch.nn as nn\nx = 1\nx = 2 3\nz = 4\n",
    "double_equals": "import torch.nn as nn\nb = 2\nc = = 3\nd = 4\n",
    "missing_operand": "import torch.nn as nn\n\nx = 1 +\ny = 2\n",
    "missing_colon": "import torch.nn as nn\n\nclass Net(nn.Module)\n    pass\n",
    "bad_def": "import torch.nn as nn\n\n\ndef f(:\n    pass\n",
}
@pytest.mark.parametrize("name", [
    "bad_indent",
    "stray_token",
    "double_equals",
    "missing_operand",
    "missing_colon",
    "bad_def",
])
def test_syntax_error_line_is_the_offending_line(name, tmp_path):
    text = SYNTAX_ERRORS[name]
    with pytest.raises(SyntaxError) as info:
        compile(text, name, "exec")
    expected_line = info.value.lineno
    path = tmp_path / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    message = assert_input_error(portlint("compare", SEED_KERAS, path), r"syntax")
    assert f"{path}:{expected_line}:" in message, f"expected {path}:{expected_line} in {message!r}"


# --------------------------------------------------------------------------- choosing models


def test_two_models_without_selector_lists_the_choices():
    path = BAD / "two_torch_models.py"
    message = assert_input_error(portlint("compare", SEED_KERAS, path), re.escape(str(path)))
    assert "PortA" in message and "PortB" in message, message
    assert re.search(r"several|more than one|ambiguous|choose|multiple", message, re.I), message


def test_selector_picks_one_of_two_models():
    result = portlint("compare", SEED_KERAS, f"{BAD / 'two_torch_models.py'}::PortB")
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_model_name():
    ref = f"{BAD / 'two_torch_models.py'}::NoSuchModel"
    message = assert_input_error(portlint("compare", SEED_KERAS, ref), r"NoSuchModel")
    assert "PortA" in message and "PortB" in message, "the message should list the models found"


def test_empty_model_name():
    ref = f"{SEED_TORCH}::"
    assert_input_error(portlint("compare", SEED_KERAS, ref), r"empty|model name|missing")


@pytest.mark.parametrize("pair", ["keras_keras", "same_file_twice", "torch_torch"])
def test_same_framework_twice(pair):
    args = {
        "keras_keras": (SEED_KERAS, BAD / "second_keras_model.py"),
        "same_file_twice": (SEED_KERAS, SEED_KERAS),
        "torch_torch": (SEED_TORCH, f"{BAD / 'two_torch_models.py'}::PortA"),
    }[pair]
    kind = "torch|pytorch" if pair == "torch_torch" else "keras"
    assert_input_error(portlint("compare", *args), kind, r"one keras and one pytorch|same framework|both")


# --------------------------------------------------------------------------- bad options


@pytest.mark.parametrize("args, needles", [
    (["--input-shape", "abc"], [r"--input-shape", r"abc"]),
    (["--input-shape", "0,64,1"], [r"--input-shape", r"0,64,1"]),
    (["--input-shape", "64,-1,1"], [r"--input-shape"]),
    (["--keras-version", "4"], [r"--keras-version", r"\b4\b"]),
    (["--select", "no-such-rule"], [r"no-such-rule"]),
    (["--ignore", "PTL999"], [r"PTL999"]),
    (["--select", "batchnorm-momentum-mismatch,no-such-rule"], [r"no-such-rule"]),
], ids=["shape-abc", "shape-zero", "shape-negative", "keras-version-4", "select-unknown",
        "ignore-unknown-code", "select-list-with-unknown"])
def test_bad_option_value(args, needles):
    assert_input_error(portlint("compare", SEED_KERAS, SEED_TORCH, *args), *needles)


def test_unknown_rule_documentation():
    assert_input_error(portlint("rule", "no-such-rule"), r"no-such-rule")


@pytest.mark.parametrize("args, needle", [
    pytest.param(["compare", str(SEED_KERAS)], r"port|argument", id="missing-argument"),
    pytest.param(["compare", str(SEED_KERAS), str(SEED_TORCH), "--format", "xml"], r"xml", id="unknown-format"),
    pytest.param(["compare", str(SEED_KERAS), str(SEED_TORCH), "--keras-version", "abc"],
                 r"keras-version", id="keras-version-not-int"),
    pytest.param(["compare", str(SEED_KERAS), str(SEED_TORCH), "--no-such-option"],
                 r"no-such-option", id="unknown-option"),
    pytest.param(["no-such-command"], r"no-such-command", id="unknown-command"),
])
def test_usage_errors_are_one_line(args, needle):
    assert_input_error(portlint(*args), needle)


# --------------------------------------------------------------------------- unsupported code


def _unresolved(result: subprocess.CompletedProcess) -> list[dict]:
    shown = f"rc={result.returncode}\nstderr={result.stderr!r}"
    assert "Traceback" not in result.stdout + result.stderr, shown
    assert result.returncode in (0, 1), shown
    document = json.loads(result.stdout)
    return [f for f in document["findings"] if f["rule"] == "unresolved-construct"]


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


# The finding may sit where the unknown block is built or where it is applied.
@pytest.mark.parametrize("args, constructs", [
    ((SEED_KERAS, BAD / "torch_unknown_factory.py"), ("make_block(", "self.block(")),
    ((BAD / "keras_unknown_factory.py", SEED_TORCH), ("make_block(",)),
    ((SEED_TORCH, BAD / "keras_unknown_factory.py"), ("make_block(",)),
], ids=["torch-port", "keras-origin", "keras-port"])
def test_unknown_package_factory_is_reported_not_fatal(args, constructs):
    path = next(Path(a) for a in args if "unknown" in str(a))
    unresolved = _unresolved(portlint("compare", *args, "--format", "json"))
    assert unresolved, "expected an unresolved-construct finding"
    for finding in unresolved:
        assert finding["code"] == "PTL901" and finding["severity"] == "info"
    lines = {_line_of(path, construct) for construct in constructs}
    assert any(f["location"] and f["location"]["path"] == str(path) and f["location"]["line"] in lines
               for f in unresolved), f"no unresolved-construct at {path}:{sorted(lines)}: {unresolved}"


SEED_FORWARD_LINE = "        output = self.fc1(output)\n"


def _seed_port_with(tmp_path: Path, statement: str, header: str = "") -> Path:
    text = SEED_TORCH.read_text(encoding="utf-8")
    assert SEED_FORWARD_LINE in text
    text = text.replace(SEED_FORWARD_LINE, f"        {statement}\n{SEED_FORWARD_LINE}")
    if header:
        text = text.replace("import torch.nn as nn\n", f"import torch.nn as nn\n{header}\n")
    return write(tmp_path / "port.py", text)


@pytest.mark.parametrize("statement, header", [
    ("output = unknown_helper(output)", ""),
    ("output = fancy.ops.mix(output, 0.5)", "import fancy.ops"),
    ("output = output.frobnicate().twiddle()", ""),
    ("output = output @ output", ""),
    ("match output:\n            case _:\n                pass", ""),
    ("output = output[output > 0]", ""),
    ("output = output[:, unknown_index]", ""),
], ids=["unknown-global", "unknown-module-function", "unknown-tensor-method", "matmul", "match",
        "tensor-mask", "tensor-unknown-index"])
def test_unknown_construct_in_forward_is_reported_not_fatal(statement, header, tmp_path):
    port = _seed_port_with(tmp_path, statement, header)
    unresolved = _unresolved(portlint("compare", SEED_KERAS, port, "--format", "json"))
    assert unresolved, "expected an unresolved-construct finding"
    assert all(f["location"]["path"] == str(port) for f in unresolved if f["location"])


def test_keras_tensor_slice_is_reported_not_fatal(tmp_path):
    text = SEED_KERAS.read_text(encoding="utf-8")
    anchor = '    dense = Dense(100, activation="relu")(model)\n'
    assert anchor in text
    origin = write(tmp_path / "origin.py", text.replace(anchor, "    model = model[:, unknown_index]\n" + anchor))
    unresolved = _unresolved(portlint("compare", origin, SEED_TORCH, "--format", "json"))
    assert unresolved


# --------------------------------------------------------------------------- never executed

EXECUTING_KERAS = '''\
import os
import pathlib
import subprocess

from keras import Input, Model
from keras.layers import Conv2D, Dense, Flatten

from helper_blocks import extra  # a sibling module that would also leave a marker

MARKERS = pathlib.Path({markers!r})
MARKERS.mkdir(exist_ok=True)
(MARKERS / "keras_top_level").write_text("executed")
open(os.path.join({markers!r}, "keras_top_level_open"), "w").write("executed")
os.system("touch " + os.path.join({markers!r}, "keras_top_level_system"))
exec("open({markers!r} + '/keras_top_level_exec', 'w').write('x')")


def touch(name):
    (MARKERS / name).write_text("executed")
    return name


def build_model(tag=touch("keras_default_argument")):
    (MARKERS / "keras_builder").write_text("executed")
    subprocess.run(["touch", str(MARKERS / "keras_builder_subprocess")])
    eval("open({markers!r} + '/keras_builder_eval', 'w')")
    inputs = Input(shape=(8, 8, 1))
    x = Conv2D(4, 3, padding="same")(inputs)
    x = Flatten()(x)
    outputs = Dense(2)(x)
    return Model(inputs, outputs)


if __name__ == "__main__":
    touch("keras_main")
'''

EXECUTING_TORCH = '''\
import os
import pathlib

import torch.nn as nn

MARKERS = pathlib.Path({markers!r})
MARKERS.mkdir(exist_ok=True)
(MARKERS / "torch_top_level").write_text("executed")


def touch(name):
    (MARKERS / name).write_text("executed")
    return name


def decorate(cls):
    touch("torch_decorator")
    return cls


@decorate
class Net(nn.Module):
    touch("torch_class_body")

    def __init__(self):
        super().__init__()
        os.system("touch " + os.path.join({markers!r}, "torch_init"))
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(256, 2)

    def forward(self, x):
        touch("torch_forward")
        return self.fc(self.flatten(self.conv(x)))
'''

HELPER = '''\
import pathlib

pathlib.Path({markers!r}, "helper_imported").parent.mkdir(exist_ok=True)
pathlib.Path({markers!r}, "helper_imported").write_text("executed")


def extra():
    return None
'''


def test_analysed_code_is_never_executed(tmp_path):
    models = tmp_path / "models"
    markers = tmp_path / "markers"
    keras_file = write(models / "keras_model.py", EXECUTING_KERAS.format(markers=str(markers)))
    torch_file = write(models / "torch_model.py", EXECUTING_TORCH.format(markers=str(markers)))
    write(models / "helper_blocks.py", HELPER.format(markers=str(markers)))
    before = sorted(p.name for p in models.iterdir())
    for args in [(keras_file, torch_file), (torch_file, keras_file)]:
        for extra in ([], ["--format", "json"]):
            # cwd = the models' folder: a stray import would find helper_blocks there.
            result = portlint("compare", *args, *extra, cwd=models)
            assert "Traceback" not in result.stdout + result.stderr, result.stderr
            assert result.returncode in (0, 1), result.stderr
    assert not markers.exists(), f"analysed code ran: {sorted(os.listdir(markers))}"
    assert sorted(p.name for p in models.iterdir()) == before, "no __pycache__, no new files"


# --------------------------------------------------------------------------- --output-file


def test_output_file_text_matches_stdout_and_stdout_stays_empty(tmp_path):
    expected = portlint("compare", SEED_KERAS, SEED_TORCH)
    assert expected.returncode == 1 and expected.stdout
    target = tmp_path / "report.txt"
    result = portlint("compare", SEED_KERAS, SEED_TORCH, "--output-file", target)
    assert result.returncode == 1, result.stderr
    assert result.stdout == "" and result.stderr == ""
    assert target.read_text(encoding="utf-8") == expected.stdout
    assert sorted(os.listdir(tmp_path)) == ["report.txt"], "no temporary file left behind"


def test_output_file_replaces_an_existing_report_atomically(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old report\n", encoding="utf-8")
    old_inode = target.stat().st_ino
    # Something else holds the old file open: an atomic replace leaves its view intact.
    with open(target, encoding="utf-8") as reader:
        result = portlint("compare", SEED_KERAS, SEED_TORCH, "--format", "json",
                          "--output-file", target)
        assert reader.read() == "old report\n", "the old file was rewritten in place"
    assert result.returncode == 1, result.stderr
    assert result.stdout == "" and result.stderr == ""
    assert json.loads(target.read_text(encoding="utf-8"))["schema"] == "portlint/1"
    assert target.stat().st_ino != old_inode, "written in place, not via rename"
    assert sorted(os.listdir(tmp_path)) == ["report.json"]


def test_output_file_untouched_on_input_error(tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("previous\n", encoding="utf-8")
    result = portlint("compare", SEED_KERAS, tmp_path / "missing.py", "--output-file", target)
    assert_input_error(result, NOT_FOUND)
    assert target.read_text(encoding="utf-8") == "previous\n"
    assert sorted(os.listdir(tmp_path)) == ["report.txt"]


def test_output_file_in_missing_directory(tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "report.txt"
    assert_input_error(portlint("compare", SEED_KERAS, SEED_TORCH, "--output-file", target),
                       r"--output-file", r"no such file or directory|does not exist|not found")
    assert not (tmp_path / "no").exists()


def test_output_file_that_is_a_directory_leaves_nothing_behind(tmp_path):
    target = tmp_path / "reports"
    target.mkdir()
    assert_input_error(portlint("compare", SEED_KERAS, SEED_TORCH, "--output-file", target),
                       r"--output-file", r"directory")
    assert sorted(os.listdir(tmp_path)) == ["reports"]
    assert list(target.iterdir()) == []
