"""`portlint verify`: both models built for real (TensorFlow/Keras and torch) in worker
subprocesses, counted per layer and reconciled with the static extraction (PTL704) and
across frameworks; every way building can fail ends with exit 2 and one line."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from functools import lru_cache
from pathlib import Path

import pytest

from support import ROOT, SEED_KERAS, SEED_TORCH, assert_input_error, cli_env, portlint, write

pytestmark = pytest.mark.slow  # verify builds real TensorFlow/Keras and torch models


def seed_port_with(path: Path, *, header: str = "", init: str = "") -> Path:
    """The seed torch port with extra module-level lines and extra lines in __init__."""
    text = SEED_TORCH.read_text(encoding="utf-8")
    anchor = "        self.fc2 = nn.Linear(in_features=100, out_features=10)\n"
    assert anchor in text
    if header:
        text = text.replace("import torch.nn as nn\n", f"import torch.nn as nn\n{header}\n")
    if init:
        text = text.replace(anchor, anchor + textwrap.indent(init, " " * 8) + "\n")
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


# --------------------------------------------------------------------------- the seed


@lru_cache(maxsize=None)
def seed_json() -> tuple[int, str, str]:
    result = portlint("verify", "examples/seed/keras_model.py", "examples/seed/torch_model.py",
                      "--format", "json")
    return result.returncode, result.stdout, result.stderr


def test_seed_dynamic_counts_match_the_founding_question():
    code, stdout, stderr = seed_json()
    assert code == 1, stderr  # the seed port has static errors
    assert stderr == ""
    document = json.loads(stdout)
    assert document["schema"] == "portlint/1"
    [pair] = document["pairs"]
    dynamic = pair["dynamic"]
    assert dynamic["keras"]["trainable"] == 13_108_694
    assert dynamic["keras"]["non_trainable"] == 64
    assert dynamic["keras"]["trainable"] + dynamic["keras"]["non_trainable"] == 13_108_758
    assert dynamic["torch"]["parameters"] == 13_108_694
    assert dynamic["torch"]["buffers"] == 65
    assert (dynamic["torch"]["running_stats"], dynamic["torch"]["num_batches_tracked"]) == (64, 1)
    assert dynamic["reconciled"] is True
    # Reconciled with the static extraction: no PTL704, same totals as compare's.
    assert dynamic["keras"]["static_agrees"] and dynamic["torch"]["static_agrees"]
    assert not [f for f in document["findings"] if f["code"] == "PTL704"]
    assert pair["totals"]["keras"]["trainable"] == dynamic["keras"]["trainable"]
    assert pair["totals"]["torch"]["buffers"] == dynamic["torch"]["buffers"]
    # Nothing materialised: torch on the meta device, Keras in a stateless scope.
    assert dynamic["torch"]["build"]["mode"] == "meta"
    assert dynamic["keras"]["build"]["mode"] == "stateless"
    assert dynamic["keras"]["build"]["allocated_weights"] is False


def test_seed_dynamic_layers_follow_the_alignment():
    document = json.loads(seed_json()[1])
    [pair] = document["pairs"]
    rows = pair["dynamic"]["layers"]
    assert len(rows) == len(pair["layers"])
    for row in rows:
        assert set(row) >= {"keras", "torch", "keras_counts", "torch_counts"}
    by_keras = {r["keras"]: r for r in rows}
    bn = by_keras["batch_normalization"]
    assert bn["torch"] == "layer1.2"
    assert bn["keras_counts"] == {"trainable": 64, "non_trainable": 64}
    assert bn["torch_counts"]["parameters"] == 64 and bn["torch_counts"]["buffers"] == 65
    assert by_keras["dense"]["torch_counts"]["parameters"] == 13_107_300
    # An activation split from `activation=` is no built layer.
    assert by_keras["dense.activation"]["keras_counts"] is None


# --------------------------------------------------------------------------- PTL704

FROZEN_KERAS = '''\
from keras import Input, Model
from keras.layers import BatchNormalization, Conv2D, Dense, Flatten


def build_model():
    inputs = Input(shape=(64, 64, 1))
    conv = Conv2D(filters=32, kernel_size=(3, 3), padding="same", activation="relu")
    model = conv(inputs)
    conv.trainable = False  # frozen after construction: its weights become non-trainable
    model = BatchNormalization(momentum=0.15, axis=-1)(model)
    model = Flatten()(model)
    dense = Dense(100, activation="relu")(model)
    head = Dense(10, activation="softmax")(dense)
    return Model(inputs, head)
'''


def test_fooled_extraction_is_reported_in_the_right_file(tmp_path):
    """`register_parameter("bias", None)` and `trainable = False` after construction: the static
    extraction still counts a bias and trainable weights; the built models do not."""
    keras_file = write(tmp_path / "frozen_keras.py", FROZEN_KERAS)
    port = seed_port_with(tmp_path / "port.py", init="self.fc2.register_parameter(\"bias\", None)")
    result = portlint("verify", keras_file, port, "--format", "json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    found = [f for f in document["findings"] if f["code"] == "PTL704"]
    assert {f["rule"] for f in found} == {"static-dynamic-count-mismatch"}
    assert all(f["severity"] == "error" for f in found)
    by_path = {f["location"]["path"]: f for f in found}
    assert set(by_path) == {str(keras_file), str(port)}, found
    torch_finding = by_path[str(port)]
    assert torch_finding["location"]["line"] == line_of(port, "self.fc2 = nn.Linear")
    assert "fc2" in torch_finding["message"]
    assert "1,010" in torch_finding["message"] and "1,000" in torch_finding["message"]
    keras_finding = by_path[str(keras_file)]
    assert keras_finding["location"]["line"] == line_of(keras_file, "conv = Conv2D(")
    assert "320 non-trainable" in keras_finding["message"]
    dynamic = document["pairs"][0]["dynamic"]
    assert dynamic["torch"]["parameters"] == 13_108_684
    assert dynamic["keras"]["non_trainable"] == 64 + 320
    assert not dynamic["torch"]["static_agrees"] and not dynamic["keras"]["static_agrees"]
    # The rule is documented like every other.
    doc = portlint("rule", "static-dynamic-count-mismatch")
    assert doc.returncode == 0 and "## What it flags" in doc.stdout


def test_dynamic_rule_is_selectable():
    from portlint.dynamic.verify import VerifyOptions, check_selectors, selected
    from portlint.errors import InputError
    from portlint.findings import Finding

    ptl704 = Finding("PTL704", "static-dynamic-count-mismatch", "error", "m", None)
    ptl701 = Finding("PTL701", "param-count-mismatch", "error", "m", None)
    assert selected(ptl704, VerifyOptions())
    assert not selected(ptl704, VerifyOptions(ignore=("PTL704",)))
    assert selected(ptl704, VerifyOptions(select=("static-dynamic-count-mismatch",)))
    assert not selected(ptl701, VerifyOptions(select=("PTL704",)))
    assert selected(ptl701, VerifyOptions(select=("PTL7",), ignore=("PTL704",)))
    check_selectors(VerifyOptions(select=("PTL704",)))
    with pytest.raises(InputError):
        check_selectors(VerifyOptions(ignore=("PTL799",)))


# --------------------------------------------------------------------------- failures


def test_missing_framework(tmp_path):
    fake = write(tmp_path / "fake" / "torch" / "__init__.py",
                 'raise ImportError("No module named \'torch\' (simulated)")\n')
    result = portlint("verify", SEED_KERAS, SEED_TORCH, env={"PYTHONPATH": str(fake.parent.parent)})
    assert_input_error(result, r"PyTorch", r"import torch", r"simulated", r"pip install torch")


def test_user_file_raising_at_import(tmp_path):
    port = seed_port_with(tmp_path / "port.py", header=textwrap.dedent('''\
        import json

        CONFIG = json.loads(open("/nonexistent/portlint/config.json").read())'''))
    message = assert_input_error(portlint("verify", SEED_KERAS, port), r"import",
                                    r"FileNotFoundError", r"config\.json")
    assert f"{port}:{line_of(port, 'CONFIG = ')}" in message


def test_constructor_raising_in_a_sibling_module(tmp_path):
    """The constructor calls a function of a sibling file (the model's folder is on
    sys.path) that raises: the location is the innermost frame in the user's files."""
    write(tmp_path / "helpers.py", """\
        def make_head(width):
            raise ValueError(f"bad width {width}")
        """)
    port = seed_port_with(tmp_path / "port.py", header="from helpers import make_head",
                          init="make_head(7)")
    message = assert_input_error(portlint("verify", SEED_KERAS, port), r"building",
                                    r"constructor raised ValueError: bad width 7")
    assert f"{tmp_path / 'helpers.py'}:2)" in message, message


def test_timeout(tmp_path):
    port = seed_port_with(tmp_path / "port.py", header="import time", init="time.sleep(60)")
    assert_input_error(portlint("verify", SEED_KERAS, port, "--timeout", "2"),
                          r"did not finish within 2 s", r"--timeout")


def test_memory_limit(tmp_path):
    # 1 GB on the CPU, explicitly off the meta device.
    port = seed_port_with(tmp_path / "port.py", header="import torch",
                          init="self.table = torch.empty(250_000_000, device='cpu')")
    message = assert_input_error(portlint("verify", SEED_KERAS, port, "--memory-limit", "512"),
                                    r"memory limit of 512 MB", r"--memory-limit")
    assert f"{port}:{line_of(port, 'self.table')}" in message


# --------------------------------------------------------------------------- isolation

PARENT = """\
import contextlib, io, json, sys

import portlint.cli  # the command line module, as the console script loads it

out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        # As portlint.cli.main does: without standalone mode, the exit code is returned.
        code = portlint.cli.app(["verify", *sys.argv[1:]], prog_name="portlint",
                                standalone_mode=False)
    except SystemExit as exc:
        code = exc.code
    except Exception as exc:  # typer.Exit is a click exception here
        code = getattr(exc, "exit_code", repr(exc))
print(json.dumps({
    "code": code, "report": out.getvalue(),
    "frameworks": sorted(m for m in ("torch", "keras", "tensorflow") if m in sys.modules),
    "user_code": sorted(m for m in sys.modules if m.startswith("portlint_verify_model")
                        or m in ("keras_model", "torch_model")),
}))
"""


def test_text_report_and_only_the_worker_imports_frameworks_and_user_code():
    """verify run in-process through portlint.cli, the models in swapped order (the Keras
    model is the port): the parent never imports a framework nor the user's files."""
    result = subprocess.run([sys.executable, "-c", PARENT, str(SEED_TORCH), str(SEED_KERAS)],
                            cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["frameworks"] == [] and report["user_code"] == []
    assert report["code"] == 1, report
    text = report["report"]
    section = text[text.index("Dynamic counts"):]
    assert ("Keras    total 13,108,758 = 13,108,694 trainable + 64 non-trainable  "
            "[static: same]") in section
    assert "PyTorch  13,108,694 parameters + 65 buffer elements" in section
    assert "Reconciled: Keras trainable 13,108,694 = torch parameters 13,108,694" in section
    assert "without allocating weights" in section and "meta device" in section
    assert text.rstrip().splitlines()[-1].startswith("Found ")


def test_worker_imports_siblings_and_packages_and_keeps_stdout_clean(tmp_path):
    """Through the worker protocol directly: a model in a package using a relative import
    and printing while it is built; the protocol channel stays JSON."""
    from portlint.dynamic import protocol
    from portlint.dynamic.runner import run_worker

    package = tmp_path / "proj" / "models"
    write(package / "__init__.py", "")
    write(package / "blocks.py", '''\
        import torch.nn as nn


        def head(width):
            print("building the head")  # user output must not corrupt the channel
            return nn.Linear(width, 3)
        ''')
    model = write(package / "net.py", '''\
        import torch.nn as nn

        from .blocks import head


        class Net(nn.Module):
            def __init__(self, width=8):
                super().__init__()
                self.body = nn.Sequential(nn.Linear(4, width), nn.BatchNorm1d(width))
                self.head = head(width)

            def forward(self, x):
                return self.head(self.body(x))
        ''')
    request = protocol.request([protocol.model_spec("torch", str(model), "Net", call="width=16")],
                               memory_limit_mb=2048)
    record = run_worker(request, timeout=60)
    assert record["ok"], record.get("error")
    counts = record["steps"]["count"]["models"][0]
    assert counts["total"]["parameters"] == (4 * 16 + 16) + 2 * 16 + (16 * 3 + 3)
    assert counts["total"]["buffers"] == 2 * 16 + 1
    layers = {layer["name"]: layer for layer in counts["layers"]}
    # Created in the helper, called from the model file: both frames are kept.
    sites = [(Path(site["path"]).name, site["line"]) for site in layers["head"]["sites"]]
    assert sites[:2] == [("blocks.py", 6), ("net.py", 10)], sites
    assert record["models"][0]["mode"] == "meta"
    assert any("building the head" in line for line in record["stderr_tail"])
    assert record["peak_rss_kb"] and record["exit_code"] == 0


def test_worker_runs_a_notebook_and_locates_cells(tmp_path):
    """A notebook's code cells run as one module (magics commented out, as the static
    analysis reads them); locations name the cell and the line in it."""
    from portlint.dynamic import protocol
    from portlint.dynamic.runner import run_worker

    def cell(kind: str, source: str) -> dict:
        extra = {"outputs": [], "execution_count": None} if kind == "code" else {}
        return {"cell_type": kind, "metadata": {}, "source": source, **extra}

    notebook = tmp_path / "port.ipynb"
    notebook.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        cell("markdown", "# A port"),
        cell("code", "%matplotlib inline\nimport torch.nn as nn"),
        cell("code", "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                     "        self.fc = nn.Linear(4, 2)\n\n    def forward(self, x):\n"
                     "        return self.fc(x)"),
    ]}), encoding="utf-8")
    request = protocol.request([protocol.model_spec("torch", str(notebook), "Net")])
    record = run_worker(request, timeout=60)
    assert record["ok"], record.get("error")
    layers = {layer["name"]: layer for layer in record["steps"]["count"]["models"][0]["layers"]}
    assert layers["fc"]["counts"]["parameters"] == 10
    site = layers["fc"]["sites"][0]
    assert (site["cell"], site["cell_line"]) == (3, 4), site
