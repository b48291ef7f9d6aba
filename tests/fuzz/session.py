"""A fuzz session: hypothesis draws cases (cases.py) in rounds, the runner (runner.py)
runs each in the child process, until a number of cases or of seconds is reached. Used by
test_fuzz.py (bounded by PORTLINT_FUZZ_SECONDS) and scripts/fuzz.py (N cases)."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, Phase, given, settings

from cases import case
from runner import Case, Runner, Stats

ROUND = 25  # cases per hypothesis run; rounds repeat until the bound


def fuzz(seconds: float | None = None, cases: int | None = None,
         case_seconds: float | None = None, progress=None) -> Stats:
    """Run cases until `seconds` have passed or `cases` have run (whichever is given
    first); `progress(stats)` is called after each round."""
    stats = Stats()
    runner = Runner(stats, **({"case_seconds": case_seconds} if case_seconds else {}))
    started = time.monotonic()
    end = started + seconds if seconds is not None else None

    def more() -> bool:
        return ((end is None or time.monotonic() < end)
                and (cases is None or stats.cases < cases))

    # Only generation: a failing case is recorded (and saved), not shrunk through a child
    # process; no example database in the tree.
    @settings(max_examples=ROUND, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case())
    def one(drawn: Case) -> None:
        if more():
            runner.run(drawn)
            stats.seconds = time.monotonic() - started

    try:
        while more():
            one()
            if progress is not None:
                progress(stats)
    finally:
        runner.close()
    return stats
