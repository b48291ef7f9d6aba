"""The server's check workers (lint/server_worker.py), seen from the server: each is a
child process checking one document at a time, given at most CHECK_SECONDS of CPU time
(the kernel stops it: RLIMIT_CPU, set by the worker) and WAIT_SECONDS of wall time; past
either, or when it crashes, it is killed and a fresh one takes its place, and
the check comes back as a `CheckStopped` that says why."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from typing import Any

# A real model file checks in well under a CPU second, a large one in a few (a generated
# 750 KB model: 5 s); a check past this much CPU time is stopped. CPU time, so that the
# outcome does not depend on how busy the machine is; wall time bounds a check that
# waits instead. Settable for tests and slow machines.
CHECK_SECONDS = float(os.environ.get("PORTLINT_SERVER_CHECK_SECONDS", "30"))
WAIT_SECONDS = float(os.environ.get("PORTLINT_SERVER_WAIT_SECONDS", str(4 * CHECK_SECONDS)))
# Two workers: a slow check of one document does not hold up another document's.
WORKERS = max(1, int(os.environ.get("PORTLINT_SERVER_WORKERS", "2")))
_LINE_LIMIT = 1 << 30  # replies are one JSON line; the default 64 KiB is too small


class CheckStopped(Exception):
    """The worker did not answer: timed out, crashed or was cancelled."""


class Worker:
    def __init__(self, log: Any) -> None:
        self.log = log  # log(message): the server's window/logMessage
        self.process: asyncio.subprocess.Process | None = None
        self.sent: dict[str, str | None] = {}  # path -> the overlay text it holds
        self.busy = False
        self.started_at = 0.0  # when its current check began
        self.cancelled = False

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    async def ensure_started(self) -> None:
        if self.process is not None and self.process.returncode is None:
            return
        self.sent = {}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "portlint.server_worker",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=_LINE_LIMIT)
        self.log(f"portlint: check worker started (pid {self.process.pid})")

    async def check(self, path: str, overlays: dict[str, str | None]) -> dict[str, Any]:
        """Check `path` with `overlays` (path -> text, None: closed) as the open documents."""
        await self.ensure_started()
        process = self.process
        assert process is not None and process.stdin is not None and process.stdout is not None
        changed = {p: t for p, t in overlays.items() if self.sent.get(p) != t}
        changed.update({p: None for p in self.sent if p not in overlays and self.sent[p]})
        self.busy, self.cancelled, self.started_at = True, False, time.monotonic()
        try:
            request = {"path": path, "overlays": changed, "cpu_seconds": CHECK_SECONDS}
            process.stdin.write((json.dumps(request) + "\n").encode())
            await process.stdin.drain()
            self.sent.update(changed)
            line = await asyncio.wait_for(process.stdout.readline(), WAIT_SECONDS)
        except asyncio.TimeoutError:
            await self.kill()
            raise CheckStopped(f"the check was stopped after {WAIT_SECONDS:g} s of waiting "
                               "(PORTLINT_SERVER_WAIT_SECONDS)") from None
        except (ConnectionError, OSError):
            line = b""
        finally:
            self.busy = False
        if not line:
            reason = await self._exit_reason()
            if self.cancelled:
                raise CheckStopped("cancelled: a newer version is being checked")
            if reason.endswith("SIGXCPU"):
                raise CheckStopped(f"the check was stopped after {CHECK_SECONDS:g} CPU "
                                   "seconds (PORTLINT_SERVER_CHECK_SECONDS)")
            raise CheckStopped(f"the check crashed ({reason}); "
                               "a new worker is started for the next check")
        return json.loads(line)

    async def kill(self) -> None:
        process = self.process
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()

    def cancel(self) -> None:
        """Stop the check running now (a newer edit replaced its document)."""
        if self.process is not None and self.process.returncode is None:
            self.cancelled = True
            self.process.kill()

    async def _exit_reason(self) -> str:
        assert self.process is not None
        code = await self.process.wait()
        self.log(f"portlint: check worker {self.process.pid} exited with {code}")
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"


class Pool:
    def __init__(self, log: Any, size: int = WORKERS) -> None:
        self.workers = [Worker(log) for _ in range(size)]

    def idle(self, preferred: Worker | None, load: dict[Worker, int]) -> Worker | None:
        """An idle worker: `preferred` if it is (it holds that document's parses), else
        the one that the fewest documents prefer (`load`)."""
        if preferred is not None and not preferred.busy:
            return preferred
        idle = [w for w in self.workers if not w.busy]
        return min(idle, key=lambda w: load.get(w, 0)) if idle else None

    async def start(self) -> None:
        """Start the workers ahead of the first check (each imports portlint: ~1 s)."""
        await asyncio.gather(*(w.ensure_started() for w in self.workers))

    def close(self) -> None:
        """Kill the workers, not waiting for them: the shutdown answers at once (each
        running check's task then collects its worker)."""
        for worker in self.workers:
            worker.cancel()
