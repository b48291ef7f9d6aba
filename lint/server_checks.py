"""When and where the server checks a document: the size guard on the buffer first, then
a debounce, then a check worker (lint/server_pool.py), off the event loop so that every
request is answered while checks run.

Each document is checked at its newest version only: a check queued for an older version
is replaced, one running for an older version is cancelled once it has run CANCEL_AFTER
(sooner, letting it finish costs less than restarting a worker), and a result whose
document changed or closed meanwhile is dropped.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .server_pool import CheckStopped, Pool, Worker

OPEN_DELAY = 0.0  # an opened or saved document is checked at once
CHANGE_DELAY = 0.2  # seconds without a change before a changed document is checked
CANCEL_AFTER = 1.0  # a superseded check running this long is killed rather than finished


@dataclass
class Outcome:
    """What a check gave for one document version: the worker's reply, or why none."""

    uri: str
    version: Any
    reply: dict[str, Any] = field(default_factory=dict)
    stopped: str = ""  # CheckStopped's message


class Checks:
    """`request(uri, delay)` schedules a check; `publish(outcome)` receives each result
    still current. `document(uri)` gives (path, version, text) of an open document or None;
    `overlays()` the unsaved text of every open document by path; `refuse(uri)` gives an
    outcome without any check (a too-large buffer) or None."""

    def __init__(self, document: Callable[[str], tuple[str, Any, str] | None],
                 overlays: Callable[[], dict[str, str]], refuse: Callable[[str], Outcome | None],
                 publish: Callable[[Outcome], None], log: Callable[[str], None]) -> None:
        self.document, self.overlays, self.refuse = document, overlays, refuse
        self.publish, self.log = publish, log
        self.pool = Pool(log)
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.queue: dict[str, None] = {}  # uris waiting for a worker, oldest first
        self.running: dict[str, tuple[Any, Worker]] = {}  # uri -> (version, worker)
        self.tasks: set[asyncio.Task] = set()
        self.last_worker: dict[str, Worker] = {}  # uri -> the worker that checked it last
        self.closed = False

    def start(self) -> None:
        self._spawn(self.pool.start())

    def request(self, uri: str, delay: float) -> None:
        self.forget(uri)
        outcome = self.refuse(uri)
        if outcome is not None:  # refused on sight: no worker, no waiting
            self.publish(outcome)
            return
        if delay <= 0:
            self._enqueue(uri)
        else:
            self.timers[uri] = asyncio.get_running_loop().call_later(delay, self._enqueue, uri)

    def forget(self, uri: str) -> None:
        """Drop any scheduled check of `uri` (a running one is dropped on arrival)."""
        timer = self.timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        self.queue.pop(uri, None)

    def close_document(self, uri: str) -> None:
        self.forget(uri)
        self.last_worker.pop(uri, None)

    def _enqueue(self, uri: str) -> None:
        self.timers.pop(uri, None)
        self.queue[uri] = None
        running = self.running.get(uri)
        if running is not None and time.monotonic() - running[1].started_at > CANCEL_AFTER:
            self.log(f"portlint: cancelling an outdated check of {uri}")
            running[1].cancel()
        self._pump()

    def _pump(self) -> None:
        if self.closed:
            return
        for uri in list(self.queue):
            if uri in self.running:
                continue  # one check of a document at a time; this one follows
            worker = self.pool.idle(self.last_worker.get(uri),
                                    collections.Counter(self.last_worker.values()))
            if worker is None:
                return
            self.last_worker[uri] = worker
            del self.queue[uri]
            document = self.document(uri)
            if document is None:
                continue
            path, version, _ = document
            worker.busy = True  # taken now, not when the task first runs
            self.running[uri] = (version, worker)
            self._spawn(self._run(worker, uri, path, version))

    async def _run(self, worker: Worker, uri: str, path: str, version: Any) -> None:
        outcome = Outcome(uri, version)
        try:
            outcome.reply = await worker.check(path, self.overlays())
        except CheckStopped as exc:
            outcome.stopped = str(exc)
        except Exception as exc:  # noqa: BLE001  the server must outlive any failure
            outcome.stopped = f"the check failed ({type(exc).__name__}: {exc})"
        finally:
            worker.busy = False
            del self.running[uri]
        document = None if self.closed else self.document(uri)
        if document is not None and document[1] == version:  # else outdated (or cancelled)
            self.publish(outcome)
        self._pump()

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)  # held: the loop keeps only weak references to tasks
        task.add_done_callback(self.tasks.discard)

    def close(self) -> None:
        self.closed = True  # checks cut short by the shutdown publish nothing
        for uri in list(self.timers):
            self.forget(uri)
        self.pool.close()
