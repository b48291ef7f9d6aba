"""What the tests share: the repository's paths, the one way to run the real CLI in a
subprocess, and helpers for real files in a temporary directory (the seed pair copied there).

The test folders mirror the pipeline (frontend/, rules/, report/, cli/, dynamic/,
integrations/); this module sits above them, so paths are built from ROOT, never from a
test file's own location."""

from __future__ import annotations

import json
import math
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
FIXTURES = TESTS / "fixtures"
SNAPSHOTS = TESTS / "snapshots"
SEED = ROOT / "examples" / "seed"
SEED_KERAS = SEED / "keras_model.py"
SEED_TORCH = SEED / "torch_model.py"
# The console script pip installed next to the interpreter (what users run).
SCRIPT = Path(sys.executable).parent / ("portlint.exe" if os.name == "nt" else "portlint")
TIMEOUT = 180.0  # seconds; the subprocess is killed after this: a hang fails, it does not block


# --------------------------------------------------------------------------- running the CLI


def cli_env(**extra: str) -> dict:
    """The environment a user runs in: no PORTLINT_DEBUG (it re-raises internal errors;
    users never set it), plus `extra`."""
    env = dict(os.environ)
    env.pop("PORTLINT_DEBUG", None)
    env.update(extra)
    return env


@dataclass(frozen=True)
class Bounds:
    """What a run on hostile input may take: `elapsed` and `cpu` seconds, and
    `address_space` bytes. The CPU bound is also the child's RLIMIT_CPU (so a runaway
    analysis is stopped there, by SIGXCPU, rather than at the timeout) and the address space
    its RLIMIT_AS (so an input that blows up memory fails fast instead of taking the machine
    down). Elapsed time varies with other jobs on the machine; CPU time hardly does."""

    elapsed: float
    cpu: float
    address_space: int


@dataclass
class Run:
    """A finished CLI run: what subprocess.CompletedProcess holds, plus its wall and CPU time."""

    args: list
    returncode: int
    stdout: str | bytes
    stderr: str | bytes
    elapsed: float
    cpu: float  # user + system seconds of the process and the workers it waited for

    def shown(self) -> str:
        return f"{shown(self)}\nelapsed={self.elapsed:.1f}s cpu={self.cpu:.1f}s"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def portlint(*args, cwd: Path | str = ROOT, env: dict | None = None, script: bool = False,
             timeout: float = TIMEOUT, text: bool = True, bounds: Bounds | None = None,
             stdin: bytes | str | None = None) -> Run:
    """Run `python -m portlint ARGS` (or the console script, `script=True`) in `cwd` with
    the user's environment plus `env`, `stdin` written to its standard input through a
    pipe (None: the stdin of the tests). Output is decoded as UTF-8 (undecodable bytes
    replaced) unless `text=False`. A run still going at `timeout` is killed with every
    worker it started and fails the test; with `bounds`, so does a run over them."""

    def limits() -> None:  # in the child, before exec
        resource.setrlimit(resource.RLIMIT_AS, (bounds.address_space, bounds.address_space))
        cpu = math.ceil(bounds.cpu)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))

    command = [str(SCRIPT)] if script else [sys.executable, "-m", "portlint"]
    command += map(str, args)
    cpu_before = _children_cpu()
    start = time.monotonic()
    # A session of its own, so that a hang is killed together with check's worker processes.
    proc = subprocess.Popen(command, cwd=cwd, env=cli_env(**(env or {})), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True,
                            stdin=None if stdin is None else subprocess.PIPE,
                            preexec_fn=limits if bounds else None)
    if isinstance(stdin, str):
        stdin = stdin.encode("utf-8")
    try:
        out, err = proc.communicate(input=stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"{' '.join(command)}: no answer within {timeout:g} s (hang)")
    if text:
        out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    run = Run(command, proc.returncode, out, err, time.monotonic() - start,
              _children_cpu() - cpu_before)
    if bounds:
        assert run.returncode != -signal.SIGXCPU, f"over {bounds.cpu:g} s of CPU\n{run.shown()}"
        assert run.elapsed < bounds.elapsed, \
            f"took {run.elapsed:.1f} s, bound {bounds.elapsed:g} s\n{run.shown()}"
        assert run.cpu < bounds.cpu, \
            f"{run.cpu:.1f} s of CPU, bound {bounds.cpu:g} s\n{run.shown()}"
    return run


def shown(result) -> str:
    """A run (or any CompletedProcess) for an assertion message: the command, the exit code
    and the ends of both streams."""
    return (f"{' '.join(map(str, result.args))}\nrc={result.returncode}\n"
            f"stdout={result.stdout[-3000:]!r}\nstderr={result.stderr[-2000:]!r}")


# --------------------------------------------------------------------------- the seed pair, files

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


def findings(result: Run) -> list[dict]:
    assert result.returncode in (0, 1), shown(result)
    assert "Traceback" not in result.stderr, shown(result)
    return json.loads(result.stdout)["findings"]


def located(result: Run) -> set[tuple[str, int]]:
    """(code, line) of every finding."""
    return {(f["code"], f["location"]["line"]) for f in findings(result)}


def codes(result: Run) -> set[str]:
    return {f["code"] for f in findings(result)}


def assert_input_error(result: Run, *needles: str) -> str:
    """Exit 2, nothing on stdout, one stderr line containing every needle (regex)."""
    assert "Traceback" not in result.stdout + result.stderr, shown(result)
    assert result.returncode == 2, shown(result)
    assert result.stdout == "", shown(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("portlint: "), shown(result)
    for needle in needles:
        assert re.search(needle, lines[0], re.IGNORECASE), f"{needle!r} not in {lines[0]!r}"
    return lines[0]
