"""The check worker of `portlint server`: a separate process that runs `portlint check` on
one document at a time, so that a slow or crashing analysis (libcst's parser can take
gigabytes or overflow its C stack) never stalls or kills the server (lint/server_pool.py
starts, times and restarts it).

Protocol, one JSON object a line: the server sends `{"path", "overlays", "cpu_seconds"}`
(overlays: path -> the editor's unsaved text, or null once the document is closed; only
what changed since the last request; cpu_seconds: the check's CPU budget) and reads back
`{"findings": [...], "warnings": [...]}`, `{"input_error": message, "line": n}` or
`{"internal_error": message}`.

Test hooks (tests/integrations/test_server.py): with PORTLINT_SERVER_TEST_HOOKS=1 in the
environment, a checked text holding `# portlint-test: sleep SECONDS` makes the worker
sleep that long first, and `# portlint-test: crash` makes it die by SIGSEGV. Without the
variable the markers mean nothing.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

# A check of one model file peaks at a few hundred MiB (lint/source.py); past this the
# worker fails with MemoryError (a diagnostic) instead of swapping the machine.
MEMORY_LIMIT = 4 * 1024 ** 3
TEST_HOOKS = "PORTLINT_SERVER_TEST_HOOKS"
_HOOK = re.compile(r"#\s*portlint-test:\s*(?P<what>sleep|crash)\b\s*(?P<arg>[\d.]*)")
_LINE_IN = re.compile(r":(\d+):")


def main() -> None:
    # The protocol owns the original stdout; anything else printed goes to stderr.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    _die_with_server()
    _limit_memory()
    from .workers import tune_garbage_collector

    tune_garbage_collector()
    from . import check  # noqa: F401  (imported before the first request, not during it)

    for line in sys.stdin:
        request = json.loads(line)
        _limit_cpu(request["cpu_seconds"])
        _reply(out, run_request(request))


def _reply(out: TextIO, reply: dict[str, Any]) -> None:
    out.write(json.dumps(reply) + "\n")
    out.flush()


def _die_with_server() -> None:
    """On Linux, be killed when the server dies (a killed editor's server would otherwise
    leave a worker finishing a long check nobody waits for)."""
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the worker ends at its next read
        return
    if os.getppid() != parent:  # the server died before the request took effect
        os._exit(0)


def _limit_cpu(seconds: float) -> None:
    """Let the kernel stop this process (SIGXCPU) once the coming check has used
    `seconds` of CPU time: the limit counts the process's whole life, so it is moved on
    before each check."""
    try:
        import resource

        used = sum(os.times()[:2])
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        soft = math.ceil(used + seconds)
        if hard == resource.RLIM_INFINITY or soft < hard:
            resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ImportError, ValueError, OSError):  # not on this platform: wall time remains
        pass


def _limit_memory() -> None:
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT, hard)
        if soft == resource.RLIM_INFINITY or soft > wanted:
            resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    except (ImportError, ValueError, OSError):  # not on this platform: the timeout remains
        pass


def run_request(request: dict[str, Any]) -> dict[str, Any]:
    from .cache import finding_data
    from .check import check
    from .config import Settings, discover
    from .errors import InputError, TooLargeError
    from .source import set_overlay

    for path, text in request["overlays"].items():
        set_overlay(path, text)
    path = request["path"]
    _test_hook(path)
    try:
        settings = Settings.make(discover(start=Path(path).parent))
        result = check([path], settings)
    except TooLargeError as exc:
        same = _same_file(str(exc).split(":", 1)[0], path)
        return {"input_error": str(exc), "line": exc.line if same else 1}
    except InputError as exc:
        return {"input_error": str(exc), "line": line_of_error(str(exc), path)}
    except Exception as exc:  # noqa: BLE001  the server says it; the worker keeps running
        return {"internal_error": f"{type(exc).__name__}: {exc}"}
    return {"findings": [finding_data(f) for f in result.findings],
            "warnings": result.warnings}


def line_of_error(message: str, path: str) -> int:
    """The line an input error names in `path` (`...: PATH:LINE:COL: syntax error`), 1
    when it names another file or no line. Paths are compared resolved: the message shows
    them relative to the current directory, the editor gives them absolute."""
    for match in _LINE_IN.finditer(message):
        before = message[:match.start()]
        starts = [0] + [m.end() for m in re.finditer(r": ", before)]
        if any(_same_file(before[start:], path) for start in starts):
            return int(match.group(1))
    return 1


def _same_file(a: str, b: str) -> bool:
    return bool(a) and os.path.realpath(a) == os.path.realpath(b)


def _test_hook(path: str) -> None:
    if os.environ.get(TEST_HOOKS) != "1":
        return
    from .source import _OVERLAYS

    text = _OVERLAYS.get(os.path.realpath(path), "")
    match = _HOOK.search(text)
    if match is None:
        return
    if match.group("what") == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    time.sleep(float(match.group("arg") or 1))


if __name__ == "__main__":
    main()
