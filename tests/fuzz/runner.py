"""The fuzz lane's parent side: a child process (child.py) that runs cases, restarted
when a case kills it or runs past the per-case bound, and the checks on each outcome.

An outcome is one of: `ok` (exit 0, 1 or 2, no traceback), `crash` (the child died: a
signal, or it exited), `hang` (no answer within `case_seconds`; the child is killed),
`traceback` (a traceback or "internal error" in the output, or an exit code SPEC.md does
not allow). Separately, an output with a raw control character (C0 but newline and tab,
DEL, C1: ESC and BEL among them) is counted as `control`, per format.
"""

from __future__ import annotations

import base64
import json
import os
import re
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

CHILD = Path(__file__).resolve().parent / "child.py"
CASE_SECONDS = 20.0  # per case; a small file takes well under a second
CASES_PER_CHILD = 400  # a fresh child now and then: caches keyed by path only grow
ADDRESS_SPACE = 4 * 1024 ** 3
# Raw in an output, these reach a terminal or a CI log as commands (ESC sequences, BEL,
# CR rewriting a line, C1 controls); JSON escapes them, text must not carry them raw.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|internal error")


@dataclass
class Case:
    """Files (name -> bytes) and a command line, where `{dir}` stands for the folder the
    files are written to."""

    files: dict[str, bytes]
    argv: list[str]
    label: str = ""

    def data(self) -> dict:
        return {"files": {name: base64.b64encode(data).decode() for name, data in self.files.items()},
                "argv": self.argv}

    def output_format(self) -> str:
        return self.argv[self.argv.index("--format") + 1] if "--format" in self.argv else "text"


@dataclass
class Stats:
    cases: int = 0
    seconds: float = 0.0  # wall time of the session (set by session.fuzz)
    outcomes: Counter = field(default_factory=Counter)
    control: Counter = field(default_factory=Counter)  # "format/stream" -> outputs with raw controls
    failures: list[tuple[str, Case, str]] = field(default_factory=list)  # kind, case, detail
    control_examples: list[tuple[Case, str]] = field(default_factory=list)

    def record(self, kind: str, case: Case, detail: str) -> None:
        self.outcomes[kind] += 1
        if kind != "ok" and len(self.failures) < 50:
            self.failures.append((kind, case, detail))

    def summary(self) -> str:
        rate = self.cases / self.seconds if self.seconds else 0.0
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        controls = ", ".join(f"{k} {v}" for k, v in sorted(self.control.items())) or "none"
        return (f"{self.cases} cases in {self.seconds:.0f} s ({rate:.1f}/s): {kinds}; "
                f"outputs with raw control characters: {controls}")


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


class Runner:
    """Runs cases in a child process, one at a time, within `case_seconds` each."""

    def __init__(self, stats: Stats, case_seconds: float = CASE_SECONDS) -> None:
        self.stats = stats
        self.case_seconds = case_seconds
        self.folder = tempfile.mkdtemp(prefix="portlint-fuzz-")
        self.child: subprocess.Popen | None = None
        self.served = 0

    def _start(self) -> subprocess.Popen:
        env = dict(os.environ)
        env.pop("PORTLINT_DEBUG", None)
        env["PYTHONHASHSEED"] = "0"
        return subprocess.Popen([sys.executable, str(CHILD)], cwd=self.folder, env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, preexec_fn=_limits,
                                start_new_session=True)

    def _stop(self) -> None:
        if self.child is not None:
            try:
                os.killpg(self.child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.child.wait()
            self.child = None

    def close(self) -> None:
        self._stop()
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)

    def run(self, case: Case) -> str:
        """The outcome of `case` (see the module docstring), recorded in `stats`."""
        if self.child is None or self.served >= CASES_PER_CHILD:
            self._stop()
            self.child = self._start()
            self.served = 0
        self.served += 1
        child = self.child
        assert child.stdin and child.stdout
        try:
            child.stdin.write((json.dumps(case.data()) + "\n").encode())
            child.stdin.flush()
            ready, _, _ = select.select([child.stdout], [], [], self.case_seconds)
            line = child.stdout.readline() if ready else None
        except (BrokenPipeError, OSError):
            line = b""
        self.stats.cases += 1
        if line is None:
            self._stop()
            self.stats.record("hang", case, f"no answer within {self.case_seconds:g} s")
            return "hang"
        if not line:
            code = child.wait()
            self.child = None
            self.stats.record("crash", case, f"child died (exit {code})")
            return "crash"
        return self._judge(case, json.loads(line))

    def _judge(self, case: Case, result: dict) -> str:
        output = result["stdout"] + result["stderr"]
        for stream in ("stdout", "stderr"):
            raw = CONTROL.search(result[stream])
            if raw:
                self.stats.control[f"{case.output_format()}/{stream}"] += 1
                if len(self.stats.control_examples) < 20:
                    text = result[stream]
                    around = text[max(0, raw.start() - 60):raw.end() + 60]
                    self.stats.control_examples.append((case, f"{stream}: {around!r}"))
        if TRACEBACK.search(output) or result["rc"] not in (0, 1, 2):
            self.stats.record("traceback", case, f"rc={result['rc']}\n{output[-3000:]}")
            return "traceback"
        self.stats.record("ok", case, "")
        return "ok"


def save_failures(stats: Stats, folder: Path) -> list[Path]:
    """Each failing case's files and command, for replaying it by hand."""
    written = []
    for number, (kind, case, detail) in enumerate(stats.failures):
        target = folder / f"{kind}-{number}"
        target.mkdir(parents=True, exist_ok=True)
        for name, data in case.files.items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(data)
        (target / "COMMAND").write_text(" ".join(["portlint", *case.argv]).replace(
            "{dir}", ".") + f"\n# {case.label}\n{detail}\n")
        written.append(target)
    return written
