"""The rule about suppression comments (PTL902): declared here like every rule, reported by
`portlint.suppress`, which reads the comments (`--report-unused-suppressions`)."""

from __future__ import annotations

from portlint.rule import Rule


class UnusedSuppression(Rule):
    """Not a pair rule: it has no pair examples (it judges comments, not models); its
    findings are made by `portlint.suppress` for `portlint.check.finalize`."""

    code = "PTL902"
    name = "unused-suppression"
    severity = "warning"
    summary = ("A `# portlint: ignore[...]` or `# noqa: PTL...` comment suppresses nothing "
               "(only with --report-unused-suppressions)")
    doc = """
## What it flags
A suppression comment that no longer suppresses anything: a `# noqa: PTL101` or
`# portlint: ignore[batchnorm-momentum-mismatch]` on a line where that rule ran and found
nothing, a bare `# portlint: ignore` on a line without findings, and a suppression naming a
rule that does not exist. It is reported only with `--report-unused-suppressions` (or
`report-unused-suppressions = true` in the configuration), like Ruff's `RUF100`.

Only what portlint can judge is reported: a plain `# noqa` and the codes of other tools
(`# noqa: E501, PTL101`) may be there for Ruff or flake8, so they are never reported, and a
code whose rule did not run on the file (not selected, turned off for the file, or a pair
rule in a file that was not compared) is not reported either.

## Why it matters
A suppression outlives the problem it silenced: after the port is fixed, the comment
stays and would hide the next, different mismatch of the same rule on that line.

## Example
```python
nn.BatchNorm2d(32, momentum=0.85, eps=1e-3),  # noqa: PTL101   <- already fixed
```

## Fix
Safe: remove the unused codes, or the whole directive when nothing in it is used
(`--fix`). A directive followed by other text in the same comment is only reported.

## References
Ruff `RUF100` (unused-noqa); flake8 `# noqa`; pylint `useless-suppression`.
"""


RULES = [UnusedSuppression]
