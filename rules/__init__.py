"""The rule catalogue: one module per family, codes grouped by hundreds.

1xx normalization, 2xx layout, 3xx convolution geometry, 4xx activations,
5xx layer structure, 6xx recurrent layers, 7xx whole-model accounting, 8xx single-file
rules (no partner needed), 9xx analysis coverage.

Importing this package is cheap (issue 7: `portlint rule` in <= 0.2 s): `ALL_RULES` and
the family modules are imported when first read (PEP 562 `__getattr__`), since the rule
modules pull in the IR, the alignment, the framework knowledge and shape inference.
`CATALOGUE` describes every rule (code, name, severity, summary, where its class is)
without importing any; it is generated from the classes (`python -m portlint.rules`), and
tests/test_startup.py checks that it matches them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, NamedTuple

from ._catalogue import ROWS

if TYPE_CHECKING:
    from portlint.rule import Rule

    ALL_RULES: list[type[Rule]]

# The modules whose `RULES` make up `ALL_RULES` (the rules `compare` and `check` run),
# importable as attributes of the package like when it imported them all.
FAMILIES = ("normalization", "layout", "geometry", "activations", "layer_config", "structure",
            "recurrent", "accounting", "single_file", "unresolved")


class RuleInfo(NamedTuple):
    """One rule as `portlint rule` lists it; `load()` imports its class."""

    code: str
    name: str
    severity: str
    summary: str
    where: str  # "module:Class"

    def load(self) -> type[Rule]:
        module, _, qualname = self.where.partition(":")
        return getattr(import_module(module), qualname)

    @property
    def doc(self) -> str:
        return self.load().doc


# Every rule a selector may name, by code: `ALL_RULES`, the rules only `verify` runs and
# `unused-suppression` (PTL902); the same rules as `portlint.config.catalogue()`.
CATALOGUE: tuple[RuleInfo, ...] = tuple(RuleInfo(*row) for row in ROWS)


def __getattr__(name: str) -> Any:
    if name == "ALL_RULES":
        from . import (accounting, activations, geometry, layer_config, layout, normalization,
                       recurrent, single_file, structure, unresolved)

        value = sorted(
            [*normalization.RULES, *layout.RULES, *geometry.RULES, *activations.RULES,
             *layer_config.RULES, *structure.RULES, *recurrent.RULES, *accounting.RULES,
             *single_file.RULES, *unresolved.RULES],
            key=lambda rule: rule.code,
        )
        globals()["ALL_RULES"] = value
        return value
    if name in FAMILIES or name == "dynamic":
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
