"""Parent side of the verify worker: start it, send the request, read its events, enforce
the timeout, and turn every way it can end into one record. Never imports a framework.

`run_worker` returns the worker's "result" event (see `portlint.dynamic.protocol`), or a
record of the same shape with an error the parent saw: "timeout" (no result within
`timeout` seconds after the worker reported "ready", or within `startup_timeout` before),
"crash" (the process ended without a result: a signal, the OOM killer, a C++ abort),
"cancelled" (another worker failed first). The record also carries "exit_code", "signal",
"peak_rss_kb" (from wait4, the worker's own peak resident memory), "wall_s" and
"stderr_tail" (the last lines the worker wrote to stderr: framework logs, user prints).
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from .protocol import WORKER_MODULE

STARTUP_TIMEOUT = 180.0  # seconds to import the frameworks, before the user's code runs
POLL = 0.1
# Defaults for the worker's environment (a user's explicit setting wins, except the
# last two: verify builds on the CPU and must not write __pycache__ into the user's tree).
WORKER_ENV_DEFAULTS = {"TF_CPP_MIN_LOG_LEVEL": "3", "MALLOC_ARENA_MAX": "2",
                       "PYTHONWARNINGS": "ignore"}
WORKER_ENV_FORCED = {"CUDA_VISIBLE_DEVICES": "", "PYTHONDONTWRITEBYTECODE": "1"}


def worker_command() -> list[str]:
    return [sys.executable, "-m", WORKER_MODULE]


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    for key, value in WORKER_ENV_DEFAULTS.items():
        env.setdefault(key, value)
    env.update(WORKER_ENV_FORCED)
    env.update(extra or {})
    return env


def run_worker(request: dict[str, Any], *, timeout: float,
               startup_timeout: float = STARTUP_TIMEOUT,
               cancel: threading.Event | None = None,
               env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one request in a fresh worker process; its result record (never raises for
    anything the worker or the user's code does)."""
    start = time.monotonic()
    debug = bool(os.environ.get("PORTLINT_DEBUG"))
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(worker_command(), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE,
                                stderr=None if debug else errors,
                                env=worker_env(env), start_new_session=True,
                                close_fds=True)
        try:
            try:
                proc.stdin.write(json.dumps(request).encode("utf-8"))
                proc.stdin.close()
            except BrokenPipeError:
                pass
            ended = "error"
            events, ended = _read_events(proc, start, timeout, startup_timeout, cancel)
        finally:
            # After its result the worker exits by itself at once; otherwise kill it.
            status, rusage = _reap(proc, grace=5.0 if ended in ("result", "eof") else 0.0)
            proc.stdout.close()
        errors.seek(0, os.SEEK_END)
        errors.seek(max(0, errors.tell() - 8192))
        tail = errors.read().decode("utf-8", "replace").splitlines()[-20:]
    result = next((e for e in events if e.get("event") == "result"), None)
    ready = next((e for e in events if e.get("event") == "ready"), None)
    if result is None:
        result = {"event": "result", "ok": False, "error": _parent_error(ended, status, timeout,
                                                                          ready, tail)}
    result["ready"] = ready
    result["exit_code"] = os.waitstatus_to_exitcode(status) if status is not None else None
    result["peak_rss_kb"] = max(result.get("peak_rss_kb") or 0,
                                rusage.ru_maxrss if rusage is not None else 0) or None
    result["wall_s"] = round(time.monotonic() - start, 3)
    result["stderr_tail"] = tail
    return result


def _read_events(proc: subprocess.Popen, start: float, timeout: float,
                 startup_timeout: float, cancel: threading.Event | None
                 ) -> tuple[list[dict[str, Any]], str]:
    """Events until the result, EOF, the deadline or cancellation; and how it ended:
    "result", "eof", "timeout", "startup-timeout" or "cancelled"."""
    events: list[dict[str, Any]] = []
    buffer = b""
    deadline = start + startup_timeout
    fd = proc.stdout.fileno()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            if cancel is not None and cancel.is_set():
                return events, "cancelled"
            now = time.monotonic()
            if now >= deadline:
                ready = any(e.get("event") == "ready" for e in events)
                return events, "timeout" if ready else "startup-timeout"
            if not selector.select(min(POLL, deadline - now)):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return events, "eof"
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue  # not ours (cannot happen: user output goes to stderr)
                if not isinstance(event, dict):
                    continue
                events.append(event)
                if event.get("event") == "ready":
                    deadline = time.monotonic() + timeout
                elif event.get("event") == "result":
                    return events, "result"


def _kill(proc: subprocess.Popen) -> None:
    """Kill the worker's whole process group (the user's code may have started others)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass


def _reap(proc: subprocess.Popen, grace: float) -> tuple[int | None, Any]:
    """Wait up to `grace` seconds for the worker to exit, kill what is left of its
    process group (the user's code may have started processes), and reap it with wait4,
    which also gives its own resource usage: ru_maxrss is the worker's peak resident
    memory. The exited worker is a zombie until reaped, so its group id stays valid."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                break
        except ChildProcessError:
            break
        time.sleep(0.01)
    _kill(proc)
    try:
        _, status, rusage = os.wait4(proc.pid, 0)
    except ChildProcessError:
        proc.wait()
        return None, None
    proc.returncode = os.waitstatus_to_exitcode(status)
    return status, rusage


def _parent_error(ended: str, status: int | None, timeout: float, ready: dict | None,
                  tail: list[str]) -> dict[str, Any]:
    if ended == "cancelled":
        return {"kind": "cancelled", "message": "cancelled"}
    if ended == "timeout":
        return {"kind": "timeout", "message": f"did not finish within {timeout:g} s"}
    if ended == "startup-timeout":
        return {"kind": "timeout", "message": "importing the framework did not finish within "
                                              f"{STARTUP_TIMEOUT:g} s"}
    how = "without a result"
    signum = None
    if status is not None and os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        try:
            how = f"killed by {signal.Signals(signum).name}"
        except ValueError:
            how = f"killed by signal {signum}"
    elif status is not None:
        how = f"exited with code {os.waitstatus_to_exitcode(status)} without a result"
    last = next((line.strip() for line in reversed(tail) if line.strip()), "")
    return {"kind": "crash", "message": how + (f": {last[:200]}" if last else ""),
            "signal": signum, "after_ready": ready is not None}


def run_workers(requests: list[dict[str, Any]], *, timeout: float,
                env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Run several requests in parallel workers. When one fails, the others are
    cancelled (their records say "cancelled")."""
    results: list[dict[str, Any] | None] = [None] * len(requests)
    cancel = threading.Event()

    def work(index: int) -> None:
        record = run_worker(requests[index], timeout=timeout, cancel=cancel, env=env)
        results[index] = record
        if not record.get("ok"):
            cancel.set()

    threads = [threading.Thread(target=work, args=(i,), daemon=True)
               for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r if r is not None else {"event": "result", "ok": False,
                                     "error": {"kind": "internal", "message": "no result"}}
            for r in results]
