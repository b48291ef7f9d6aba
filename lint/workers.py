"""Running one task per file: in this process for a few files, in worker processes, one
per usable core, for many.

Workers are forked from this process when it runs no other thread (they start at once,
with everything already imported); a process with threads (an editor's language server,
a test runner that loaded a framework) uses the `forkserver` method instead, since
forking a threaded process can deadlock. Files are handed out in runs of consecutive
files: files of one folder import the same modules, which a worker then reads once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MIN_ITEMS_PER_WORKER = 4  # below this, starting a worker costs more than it saves
MAX_CHUNK = 16

# An analysis keeps large libcst trees alive (the parse cache, shared module scopes) while
# interpreting makes cyclic garbage (layers point to their parents). With CPython's
# default thresholds (700, 10, 10) a full collection, which walks every cached tree
# (~0.5 s each), ran 27-30 times over the bench corpus and took a third of its CPU time.
# Considering one after 50 young collections instead of 10: 13 full collections, the
# same peak memory (148 MiB in one process; 1,000 would hold 280 MiB of garbage).
GC_THRESHOLDS = (700, 10, 50)


def tune_garbage_collector() -> None:
    """For a process that runs analyses: the CLI, and each worker (a forked one inherits
    the setting, one from `forkserver` does not)."""
    import gc

    gc.set_threshold(*GC_THRESHOLDS)


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(jobs: int, items: int) -> int:
    """`jobs` (0: one per usable core), but at most one worker per few items; 1 means
    run in this process."""
    wanted = jobs if jobs > 0 else usable_cpus()
    return max(1, min(wanted, items // MIN_ITEMS_PER_WORKER))


def run_tasks(task: Callable[..., Result], items: Sequence[Item], args: tuple,
              jobs: int = 1) -> Iterator[tuple[Item, Result]]:
    """`task(item, *args)` for each item, as (item, result) pairs in completion order.
    `task` must be a module-level function (workers import it by name). An exception in
    a task is raised here, as it would be without workers."""
    workers = worker_count(jobs, len(items))
    if workers == 1:
        for item in items:
            yield item, task(item, *args)
        return
    import multiprocessing  # here: a few files, the usual pre-commit run, never need it
    from concurrent.futures import ProcessPoolExecutor, as_completed

    method = "fork" if threading.active_count() == 1 and _can("fork") else (
        "forkserver" if _can("forkserver") else "spawn")
    size = max(1, min(MAX_CHUNK, len(items) // (workers * 4)))
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(_run_chunk, task, chunk, args) for chunk in chunks]
        try:
            for future in as_completed(futures):
                yield from future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _run_chunk(task: Callable[..., Any], chunk: Sequence[Any], args: tuple) -> list[tuple]:
    tune_garbage_collector()
    return [(item, task(item, *args)) for item in chunk]


def _can(method: str) -> bool:
    import multiprocessing

    return method in multiprocessing.get_all_start_methods()
