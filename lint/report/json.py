"""`--format json`: the contract in SPEC.md (schema portlint/1)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..compare import PairResult
from ..findings import Finding

SCHEMA = "portlint/1"


def render(findings: Sequence[Finding], pairs: Sequence[PairResult]) -> str:
    document = {
        "schema": SCHEMA,
        "findings": [f.to_json() for f in findings],
        "pairs": [p.to_json() for p in pairs],
    }
    return json.dumps(document, indent=2, sort_keys=False) + "\n"
