"""One `portlint compare` of one Hugging Face pair, run in a subprocess, and what its output
says: followed or not, why, how much was extracted, the findings, the static totals, the time.

`compare TF_REF TORCH_REF --format json` runs with the import root (the folder that holds
`transformers/`) as its working directory and references relative to it
(`transformers/models/bert/modeling_tf_bert.py::TFBertModel`), as bench/corpus.py and
scripts/real_golden.py run the corpus: the files' relative imports
(`from ...modeling_tf_utils import ...`) then resolve inside the same package.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

FOLLOWED_EXITS = (0, 1)  # 0: clean, 1: findings; 2 is "could not follow" (or bad input)
TOP_RULES = 3


def run_pair(python: str, root: Path, tf_ref: str, torch_ref: str, timeout: float,
             extra: list[str] = ()) -> dict:
    """Run the pair and describe the outcome (see `describe`), with the wall time
    (`seconds`) and the child's own CPU time, user + system (`cpu_seconds`: on a shared
    machine the wall time also counts the waits for a core)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTLINT_")}
    cmd = [python, "-m", "portlint", "compare", tf_ref, torch_ref, "--format", "json", *extra]
    start = time.perf_counter()
    code, stdout, stderr, cpu = _run(cmd, root, env, timeout)
    seconds = round(time.perf_counter() - start, 2)
    if code is None:
        return {"exit": None, "followed": False, "seconds": seconds, "cpu_seconds": cpu,
                "reason": f"timed out after {timeout:g} s", "reason_at": None}
    out = describe(code, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"))
    out["seconds"] = seconds
    out["cpu_seconds"] = cpu
    return out


def _run(cmd: list[str], cwd: Path, env: dict, timeout: float
         ) -> tuple[int | None, bytes, bytes, float | None]:
    """Exit code (None when killed after `timeout` s), stdout, stderr and the CPU seconds
    of the process, from its own resource usage (os.wait4: correct with -j N threads,
    where RUSAGE_CHILDREN would mix the children)."""
    if not hasattr(os, "wait4"):  # not POSIX: no per-child usage
        try:
            done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, b"", b"", None
        return done.returncode, done.stdout, done.stderr, None
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        cpu = round(usage.ru_utime + usage.ru_stime, 2)
        if expired.is_set():
            return None, b"", b"", cpu
        return proc.returncode, out.read(), err.read(), cpu


def describe(code: int, stdout: str, stderr: str) -> dict:
    """What one run's exit code, JSON and stderr say."""
    out: dict = {"exit": code, "followed": False, "reason": None, "reason_at": None}
    data = None
    if code in FOLLOWED_EXITS:
        try:
            data = json.loads(stdout)
        except ValueError:
            out["reason"] = f"exit {code} without JSON on stdout: {_error_line(stderr) or '?'}"
            return out
    if data is None:
        out["reason"] = _strip_prefix(_first_line(stderr)) or f"exit {code} with no message"
        return out
    findings = data.get("findings") or []
    pairs = data.get("pairs") or []
    severities = Counter(f.get("severity") for f in findings)
    out["findings"] = {s: severities.get(s, 0) for s in ("error", "warning", "info")}
    out["top_rules"] = Counter(f.get("rule") for f in findings
                               if f.get("severity") != "info").most_common(TOP_RULES)
    out["unresolved"] = sum(1 for f in findings if f.get("rule") == "unresolved-construct")
    if not pairs:
        out["reason"] = f"exit {code} but no pair in the output"
        return out
    pair = pairs[0]
    sides = {side: _side(pair.get(side) or {}, keys) for side, keys in COUNTED.items()}
    out["nodes"] = {side: s["nodes"] for side, s in sides.items()}
    out["weighted"] = {side: s["weighted"] for side, s in sides.items()}
    out["opaque"] = {side: s["opaque"] for side, s in sides.items()}
    out["static"] = static_totals(pair, sides)
    # exit 0/1 with no layer that has weights on a side is no model followed (issue 16:
    # "a model of which nothing with weights was extracted must never pass")
    empty = [side for side, s in sides.items() if s["weighted"] == 0]
    first = next((f for f in findings if f.get("rule") == "unresolved-construct"), None)
    if first is not None:
        out["reason"] = first.get("message", "")
        loc = first.get("location") or {}
        out["reason_at"] = f"{loc.get('path')}:{loc.get('line')}" if loc.get("path") else None
    if empty:
        out["first_unresolved"] = out["reason"]
        out["reason"] = f"exit {code} but no layer with weights on the {' and '.join(empty)} side"
        return out
    out["followed"] = True
    return out


# The number each side's framework reports for a built model: Keras `count_params()`
# (trainable + non-trainable weights), torch `sum(p.numel() for p in parameters())`.
COUNTED = {"keras": ("trainable", "non_trainable"), "torch": ("parameters",)}


def _side(graph: dict, keys: tuple[str, ...]) -> dict:
    nodes = graph.get("nodes") or []
    weighted = sum(1 for n in nodes if _has_weights(n))
    return {"nodes": len(nodes), "weighted": weighted,
            "opaque": sum(1 for n in nodes if n.get("op") == "opaque"),
            "counted": sum((n.get("counts") or {}).get(k) or 0 for n in nodes for k in keys),
            "uncounted": sum(1 for n in nodes if n.get("counts") is None
                             and n.get("op") != "input")}


def _has_weights(node: dict) -> bool:
    """A layer with weights, or one whose weights could not be counted (a Dense of unknown
    input size is still a layer); not the input, an opaque node or a weightless op."""
    if node.get("op") in ("input", "opaque"):
        return False
    counts = node.get("counts")
    return counts is None or any(counts.values())


def static_totals(pair: dict, sides: dict) -> dict:
    """The static parameter totals of both sides, from `totals` when portlint gives one,
    else the sum over the nodes that have counts, marked partial with the number of nodes
    without one."""
    totals = pair.get("totals") or {}
    keras, torch = totals.get("keras"), totals.get("torch")
    out = {
        "keras": _total(keras, ("total",), sides["keras"]),
        "torch": _total(torch, ("parameters",), sides["torch"]),
        "torch_buffers": torch.get("buffers") if isinstance(torch, dict) else None,
        "reconciled": totals.get("reconciled"),
        # Keras counts BatchNormalization's moving mean/variance as non-trainable weights,
        # torch as buffers (running statistics): `reconciled` compares them so.
        "keras_non_trainable": keras.get("non_trainable") if isinstance(keras, dict) else None,
    }
    return out


def _total(entry, keys: tuple[str, ...], side: dict) -> dict:
    if isinstance(entry, dict):
        for key in keys:
            if isinstance(entry.get(key), int):
                partial = bool(entry.get("partial")) or bool(entry.get("missing"))
                return {"value": entry[key], "partial": partial}
    return {"value": side["counted"], "partial": True, "uncounted_nodes": side["uncounted"]}


def _error_line(text: str) -> str:
    """The first line, or a traceback's last (the exception), which says what went wrong."""
    first = _first_line(text)
    if first.startswith("Traceback"):
        return next((line.strip() for line in reversed(text.splitlines()) if line.strip()), first)
    return first


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _strip_prefix(line: str) -> str:
    """`portlint: REF: message` -> `message` (the reference is in the table already)."""
    line = re.sub(r"^portlint:\s*", "", line)
    return re.sub(r"^\S+\.py(::\S+)?:\s+", "", line)


# --------------------------------------------------------------------------- reasons


SIDE_LABELS = ("`<TF class>`", "`<torch class>`")
_PATTERNS = (
    # a name in backticks, but not the side labels hf_table puts in
    (re.compile(r"`[^`]*`"), lambda m: m[0] if m[0] in SIDE_LABELS else "`X`"),
    (re.compile(r"'[^']*'"), "'X'"),
    (re.compile(r"\S+\.py(:\d+)*"), "FILE"),
    (re.compile(r"\b\d+(\.\d+)?\b"), "N"),
)


def reason_pattern(reason: str | None) -> str:
    """A reason with names, files and numbers replaced, so that reasons group by message:
    "`TFBertModel` does not produce ..." and "`TFViTModel` does not ..." are one pattern."""
    if not reason:
        return ""
    for pattern, repl in _PATTERNS:
        reason = pattern.sub(repl, reason)
    return reason
