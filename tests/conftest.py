"""Fixtures shared by the test folders. Plain helpers (the CLI runner, paths, file writers)
are in tests/support.py, which `pythonpath` in pyproject.toml puts on sys.path."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import seed_pair


@pytest.fixture
def seed(tmp_path: Path) -> tuple[Path, Path]:
    """The seed pair, copied flat into tmp_path: (keras origin, torch port)."""
    return seed_pair(tmp_path, ".", ".")
