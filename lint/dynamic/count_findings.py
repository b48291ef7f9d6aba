"""PTL704 static-dynamic-count-mismatch: the findings for one model's count mismatches
(from `reconcile.reconcile_side`), located in that model's file, with the counterpart in
the other model as related information.
"""

from __future__ import annotations

from typing import Any

from .. import ir
from ..align import Alignment
from ..findings import Finding, Related
from ..rule import FRAMEWORK_LABEL, describe
from .reconcile import SideResult, counts_text


def findings(side: SideResult, alignment: Alignment, rule: Any) -> list[Finding]:
    """PTL704 findings for one model's mismatches, located in that model's file."""
    label = FRAMEWORK_LABEL[side.framework]
    out = []
    for m in side.mismatches:
        what = f"{m.layer_type} `{m.name}`" if m.name else f"{m.layer_type} (the model itself)"
        if m.kind == "differs":
            tied = [f"`{t}` is `{o}`" for layer in m.members
                    for t, o in sorted((layer.get("tied") or {}).items())]
            message = (f"{what}: the static analysis counts {counts_text(side.framework, m.static)}, "
                       f"the built {label} model has {counts_text(side.framework, m.dynamic)}"
                       + (f" (tied, counted once at their first owner: {', '.join(tied[:3])})"
                          if tied else "")
                       + "; the extraction missed something in this layer's code, so findings "
                         "about it may be wrong")
        elif m.kind == "unseen":
            message = (f"{what} of the built {label} model holds "
                       f"{counts_text(side.framework, m.dynamic)}, but the static analysis found "
                       f"no such layer: it is created by code portlint does not follow, and no "
                       f"rule checked it")
        elif m.name:
            message = (f"the static analysis counts {counts_text(side.framework, m.static)} for "
                       f"{what}, but the built {label} model has no layer `{m.name}`")
        else:
            message = (f"the static analysis counts {counts_text(side.framework, m.static)} held "
                       f"here directly, but no layer of the built {label} model matches them")
        related = []
        if m.node is not None:
            row = alignment.row_of(m.node)
            other_framework = ir.TORCH if side.framework == ir.KERAS else ir.KERAS
            other = row.side(other_framework) if row is not None else None
            if other is not None and other.where is not None:
                related.append(Related(other.where, f"{FRAMEWORK_LABEL[other_framework]} "
                                                    f"counterpart: {describe(other)}"))
        out.append(rule.at(message, m.span, related))
    return out
