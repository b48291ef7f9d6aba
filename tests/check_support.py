"""Helpers for the `check` / configuration / suppression tests: the real CLI in a
subprocess, real files in a temporary directory, the seed pair copied there."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed"

# Lines of the seed port (examples/seed/torch_model.py) and what compare finds there.
CLASS_LINE, BN_LINE, FLATTEN_LINE, FC1_LINE, FC2_LINE = 10, 16, 24, 25, 26
SEED_CODES = {("PTL702", CLASS_LINE), ("PTL703", CLASS_LINE), ("PTL101", BN_LINE),
              ("PTL102", BN_LINE), ("PTL201", FLATTEN_LINE), ("PTL401", FC1_LINE),
              ("PTL404", FC2_LINE)}

# A torch file without a partner: PTL801 (softmax without dim, a single-file rule) at 8:24.
SOFTMAX_NET = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 8)
        self.softmax = nn.Softmax()

    def forward(self, x):
        return self.softmax(self.fc(x))
"""
SOFTMAX_LINE = 8


def _env() -> dict:
    env = dict(os.environ)
    env.pop("PORTLINT_DEBUG", None)
    return env


def portlint(*args, cwd: Path | str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "portlint", *map(str, args)], check=False, cwd=cwd,
                          env=_env(), capture_output=True, encoding="utf-8", errors="replace",
                          timeout=180)


def shown(result: subprocess.CompletedProcess) -> str:
    return (f"rc={result.returncode}\nstdout={result.stdout[-3000:]!r}\n"
            f"stderr={result.stderr[-2000:]!r}")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def seed_pair(directory: Path, keras_dir: str = "keras", torch_dir: str = "torch") -> tuple[Path, Path]:
    """Copy the seed pair: (directory/keras/keras_model.py, directory/torch/torch_model.py)."""
    keras = directory / keras_dir / "keras_model.py"
    torch = directory / torch_dir / "torch_model.py"
    for src, dst in ((SEED / "keras_model.py", keras), (SEED / "torch_model.py", torch)):
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    return keras, torch


def edit_line(path: Path, number: int, transform) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    body = lines[number - 1].rstrip("\n")
    lines[number - 1] = transform(body) + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def append_comment(path: Path, number: int, comment: str) -> None:
    edit_line(path, number, lambda body: f"{body}  {comment}")


def findings(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.returncode in (0, 1), shown(result)
    assert "Traceback" not in result.stderr, shown(result)
    return json.loads(result.stdout)["findings"]


def located(result: subprocess.CompletedProcess) -> set[tuple[str, int]]:
    """(code, line) of every finding."""
    return {(f["code"], f["location"]["line"]) for f in findings(result)}


def codes(result: subprocess.CompletedProcess) -> set[str]:
    return {f["code"] for f in findings(result)}


def assert_input_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit 2, nothing on stdout, one stderr line containing every needle (regex)."""
    assert "Traceback" not in result.stdout + result.stderr, shown(result)
    assert result.returncode == 2, shown(result)
    assert result.stdout == "", shown(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("portlint: "), shown(result)
    for needle in needles:
        assert re.search(needle, lines[0], re.IGNORECASE), f"{needle!r} not in {lines[0]!r}"
    return lines[0]
