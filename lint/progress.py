"""A progress bar for a long `check`, on stderr and only on a terminal.

Nothing is drawn during the first second (`PORTLINT_PROGRESS_DELAY` seconds; the tests
lower it), so a quick run, the usual pre-commit one, shows nothing; nothing at all when
stderr is not a terminal (piped, redirected, CI logs) or `TERM=dumb`, or with `--quiet`.
The bar is redrawn on one line (`\\r`) as files are done, at most ten times a second,
and erased before the report is written to stdout, so the two never mix. Our own few
lines rather than rich's bar: importing rich costs about 0.1 s of start-up on every run.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

DELAY = 1.0  # seconds before the bar appears
REFRESH = 0.1
WIDTH = 30
ERASE = "\r\x1b[2K"


def delay() -> float:
    try:
        return max(0.0, float(os.environ.get("PORTLINT_PROGRESS_DELAY", DELAY)))
    except ValueError:
        return DELAY


class Progress:
    """`start(total)`, `advance()` per file done, `close()`; a no-op unless `active`.

    Drawn from `advance`, not from a thread: a second thread would make `check`'s workers
    start by forkserver instead of fork (workers.run_tasks), which costs more than the bar."""

    def __init__(self, stream: TextIO | None = None, active: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if active is None:
            active = _is_terminal(self.stream)
        self.active = active
        self.total = 0
        self.done = 0
        self._shown_after = 0.0
        self._last = 0.0
        self._drawn = False

    def start(self, total: int) -> None:
        self.total, self.done = total, 0
        self._shown_after = time.monotonic() + delay()

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self.active or not self.total:
            return
        now = time.monotonic()
        if now >= self._shown_after and (now - self._last >= REFRESH or self.done >= self.total):
            self._last = now
            self._write(self.line())
            self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self._write(ERASE)
            self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def line(self) -> str:
        total = max(self.total, 1)
        filled = min(WIDTH, WIDTH * self.done // total)
        return (f"{ERASE}portlint: checking [{'#' * filled}{'.' * (WIDTH - filled)}] "
                f"{self.done}/{self.total} files")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.active = False


def _is_terminal(stream: TextIO) -> bool:
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False
