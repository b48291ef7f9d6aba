"""Byte-identical outputs on the examples, the fixtures and every rule case (tests/golden.py).

A difference here is a change of behaviour. When it is intended, regenerate the files with
`python tests/golden.py --write` and review the diff in the commit."""

from __future__ import annotations

import difflib

import pytest

from golden import GOLDEN, fresh_outputs


@pytest.fixture(scope="module")
def outputs() -> dict[str, str]:
    return fresh_outputs()


def test_golden_set_is_complete(outputs):
    stored = {path.name for path in GOLDEN.glob("*.txt")}
    assert stored == set(outputs), ("golden files missing or stale; run python tests/golden.py "
                                    f"--write: {sorted(stored ^ set(outputs))}")


def test_outputs_are_byte_identical(outputs):
    changed = []
    for name, text in sorted(outputs.items()):
        path = GOLDEN / name
        if path.exists() and path.read_text(encoding="utf-8") != text:
            diff = difflib.unified_diff(path.read_text(encoding="utf-8").splitlines(),
                                        text.splitlines(), "stored", "fresh", lineterm="", n=1)
            changed.append(f"== {name}\n" + "\n".join(list(diff)[:40]))
    assert not changed, "\n".join(changed[:5]) + f"\n({len(changed)} files differ)"
