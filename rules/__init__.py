"""The rule catalogue: one module per family, codes grouped by hundreds.

1xx normalization, 2xx layout, 3xx convolution geometry, 4xx activations,
5xx layer structure, 6xx recurrent layers, 7xx whole-model accounting, 8xx single-file
rules (no partner needed), 9xx analysis coverage.
"""

from __future__ import annotations

from portlint.rule import Rule

from . import (accounting, activations, geometry, layout, normalization, recurrent,
               single_file, structure, unresolved)

ALL_RULES: list[type[Rule]] = sorted(
    [*normalization.RULES, *layout.RULES, *geometry.RULES, *activations.RULES,
     *structure.RULES, *recurrent.RULES, *accounting.RULES, *single_file.RULES, *unresolved.RULES],
    key=lambda rule: rule.code,
)
