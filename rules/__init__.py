"""The rules: one module per family, codes grouped by hundreds.

1xx normalization, 2xx layout, 3xx convolution geometry, 4xx activations,
5xx layer structure, 6xx recurrent layers, 7xx whole-model accounting, 8xx single-file
rules (no partner needed), 9xx analysis coverage.

Which rules exist and which command runs them is `registry.py`'s to say; this package
only keeps the names callers import. Importing it is cheap (issue 7: `portlint rule` in
<= 0.2 s): `ALL_RULES` and the family modules are imported when first read (PEP 562
`__getattr__`). `CATALOGUE` describes every rule without importing any.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .registry import CATALOGUE, FAMILIES, PAIR_FAMILIES, RuleInfo

if TYPE_CHECKING:
    from portlint.rule import Rule

    ALL_RULES: list[type[Rule]]

__all__ = ["ALL_RULES", "CATALOGUE", "FAMILIES", "PAIR_FAMILIES", "RuleInfo"]


def __getattr__(name: str) -> Any:
    if name == "ALL_RULES":  # the rules `compare` and `check` run on models
        from .registry import pair_rules

        value = list(pair_rules())
        globals()["ALL_RULES"] = value
        return value
    if name in FAMILIES:
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
