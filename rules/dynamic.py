"""Rules only `portlint verify` can check: they compare the static extraction with the
models the verify worker actually built (PTL704).

They are not in `ALL_RULES`: `compare` never builds a model, so they have no static
VALID/INVALID pair cases for `tests/rules/test_rule_cases.py` to run (their cases are in
`tests/dynamic/test_verify.py`, which builds real models). `portlint rule` and `--select` know them
through `DYNAMIC_RULES`.
"""

from __future__ import annotations

from portlint.findings import Finding, Related
from portlint.ir import Span
from portlint.rule import Rule


class StaticDynamicCountMismatch(Rule):
    code = "PTL704"
    name = "static-dynamic-count-mismatch"
    severity = "error"
    summary = ("A layer's weight count in the built model differs from the static "
               "extraction (verify only)")
    doc = """
## What it flags
`portlint verify` builds both models in a subprocess (torch on the meta device, Keras 3
without allocating weights) and counts the weights of every layer: Keras trainable and
non-trainable weights by layer name, torch parameters and buffers by module path. This
rule flags every layer where that count differs from what the static analysis extracted
from the source, and every built layer holding weights that the static analysis did not
see at all. The finding points at the layer's construction in the file whose extraction
is wrong, which may be either model, not only the port.

## Why it matters
Every static rule reasons about the extracted model. A disagreement means the extractor
misread something in this code (a construct it does not model, such as assigning
`layer.bias = None` after construction), so the static findings about that layer, and
the totals and `param-count-mismatch` built on them, may be wrong or missing. Convention
differences between the frameworks are not flagged here (see `buffer-accounting`).

## Example
```python
# PyTorch port
self.fc2 = nn.Linear(100, 10)   # statically: 1,010 parameters
self.fc2.bias = None            # the built module has 1,000
```
```text
torch_model.py:15:20: PTL704 error [static-dynamic-count-mismatch] Linear `fc2`: the
static analysis counts 1,010 parameters + 0 buffer elements, the built model has 1,000
parameters + 0 buffer elements
```

## Fix
Trust the dynamic count. Write the layer in a form portlint follows (here
`nn.Linear(100, 10, bias=False)`), or report the construct so the extractor learns it.
Until then, treat the static findings about that layer with care.

## References
- docs/verify.md
"""
    VALID = []  # dynamic only: no static pair case can show it (see the module docstring)
    INVALID = []

    def at(self, message: str, span: Span | None, related: list[Related] | None = None,
           severity: str | None = None) -> Finding:
        """A finding at `span` (the layer's construction in the file where the static
        extraction went wrong)."""
        return Finding(code=self.code, rule=self.name, severity=severity or self.severity,
                       message=message, location=span, related=related or [])


RULES = [StaticDynamicCountMismatch]
DYNAMIC_RULES = RULES
