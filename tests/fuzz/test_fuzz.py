"""The fuzz lane (issue 20): random and mutated Python through `check` (every output
format) and `compare` (both front ends), in a child process that a crash cannot take
pytest down with. It runs for PORTLINT_FUZZ_SECONDS (default 60) once per test session;
the two tests below judge the same cases. Failing cases are saved under
PORTLINT_FUZZ_SAVE (default: the pytest tmp folder) to replay by hand."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # cases, runner, session

from runner import Stats, save_failures  # noqa: E402
from session import fuzz  # noqa: E402

SECONDS = float(os.environ.get("PORTLINT_FUZZ_SECONDS", "60"))


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory) -> tuple[Stats, list[Path]]:
    stats = fuzz(seconds=SECONDS)
    folder = Path(os.environ.get("PORTLINT_FUZZ_SAVE") or tmp_path_factory.mktemp("fuzz"))
    print(f"\nfuzz: {stats.summary()}")
    return stats, save_failures(stats, folder)


def test_fuzz_no_crash_hang_or_traceback(fuzzed) -> None:
    stats, saved = fuzzed
    assert stats.cases > 0
    shown = "\n".join(f"{kind}: {case.label} {case.argv}\n{detail[-1500:]}"
                      for kind, case, detail in stats.failures[:5])
    assert not stats.failures, f"{stats.summary()}\nsaved: {saved[:5]}\n{shown}"


def test_fuzz_output_has_no_raw_control_characters(fuzzed) -> None:
    """Escaping is lint/report's (issue 20.2); this counts what still gets out raw."""
    stats, _ = fuzzed
    shown = "\n".join(f"{case.argv}: {around}" for case, around in stats.control_examples[:8])
    assert not stats.control, f"{stats.summary()}\n{shown}"
