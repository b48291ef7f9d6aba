#!/usr/bin/env python3
"""Run the fuzz lane (tests/fuzz) for N cases, for the closing note of a hardening issue:

    python scripts/fuzz.py [--cases 100000] [--seconds S] [--case-seconds 20]
        [--save DIR] [--json FILE]

Cases are drawn by hypothesis (tests/fuzz/cases.py) and run in one child process at a
time (tests/fuzz/runner.py), restarted when a case kills it or hangs. Prints progress to
stderr and, at the end, cases, crashes, hangs, tracebacks, outputs with raw control
characters (per format) and cases per second; failing cases are saved under --save.
Exit 1 when any case crashed, hung or printed a traceback. Not part of the test suite
(test_fuzz.py runs the same lane for PORTLINT_FUZZ_SECONDS)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fuzz"))

from runner import save_failures  # noqa: E402
from session import fuzz  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--case-seconds", type=float, default=None)
    parser.add_argument("--save", type=Path, default=Path("fuzz-failures"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    last = [0.0]

    def progress(stats) -> None:
        if time.monotonic() - last[0] > 30:
            last[0] = time.monotonic()
            print(f"fuzz: {stats.summary()}", file=sys.stderr, flush=True)

    stats = fuzz(seconds=args.seconds, cases=args.cases, case_seconds=args.case_seconds,
                 progress=progress)
    saved = save_failures(stats, args.save) if stats.failures else []
    print(f"fuzz: {stats.summary()}")
    for kind, case, detail in stats.failures[:10]:
        print(f"  {kind}: {case.label}: {' '.join(case.argv)!r}: {detail.splitlines()[0] if detail else ''}")
    for case, around in stats.control_examples[:10]:
        print(f"  raw control character, {case.output_format()}: {around}")
    if saved:
        print(f"  failing cases saved under {args.save}")
    if args.json:
        args.json.write_text(json.dumps({
            "cases": stats.cases, "seconds": round(stats.seconds, 1),
            "outcomes": dict(stats.outcomes), "control_by_format": dict(stats.control)}, indent=1))
    bad = sum(n for kind, n in stats.outcomes.items() if kind != "ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
