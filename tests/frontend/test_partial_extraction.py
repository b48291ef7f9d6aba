"""Partial extraction (issue 16 item 4): a step the front end cannot follow becomes an
opaque node with an `unresolved-construct` finding, the rest is still extracted, aligned
and checked; rules report no mismatch against an opaque node; a model that cannot be
built, or of which nothing with weights was extracted, never passes (exit 2, saying what
stopped it and where); totals are partial, with what is not counted, rather than null.

The fixtures (tests/fixtures/partial/) are our own code in Hugging Face's style."""

from __future__ import annotations

import json

from support import FIXTURES, portlint

PARTIAL = FIXTURES / "partial"


def compare_json(keras: str, torch: str, *extra: str):
    run = portlint("compare", keras, torch, "--format", "json", *extra, cwd=PARTIAL)
    assert run.returncode in (0, 1), run.shown()
    return run, json.loads(run.stdout)


def rules_of(report) -> list[tuple[str, int]]:
    return [(f["rule"], f["location"]["line"]) for f in report["findings"]]


def test_no_activation_mismatch_against_an_opaque_node():
    # The port's activation comes from a table portlint cannot read (`ACT2FN["gelu"]`
    # from another package): an opaque step where Keras applies gelu. Only the
    # unresolved-construct finding at that call, never "missing activation".
    run, report = compare_json("keras_gelu_mlp.py", "torch_opaque_activation.py")
    found = rules_of(report)
    assert ("unresolved-construct", 13) in found, found
    assert not [r for r, _ in found if r.startswith("activation")], found
    assert run.returncode == 0, run.shown()


def test_partial_totals_name_what_is_not_counted():
    # The opaque activation's weights are unknown: torch's total is the sum over the
    # counted layers, marked partial, and says which step is missing and where.
    _, report = compare_json("keras_gelu_mlp.py", "torch_opaque_activation.py")
    totals = report["pairs"][0]["totals"]
    assert totals["keras"] == {"total": 172, "trainable": 172, "non_trainable": 0}
    torch = totals["torch"]
    assert torch["parameters"] == 172 and torch["partial"] is True, torch
    [missing] = torch["missing"]
    assert missing["location"]["path"] == "torch_opaque_activation.py"
    assert missing["location"]["line"] == 13 and "not modelled" in missing["reason"]
    assert "reconciled" not in totals  # partial totals are not reconciled

    run = portlint("compare", "keras_gelu_mlp.py", "torch_opaque_activation.py", cwd=PARTIAL)
    lines = run.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("  PyTorch  "))
    assert lines[at].startswith("  PyTorch  172 parameters") and lines[at].endswith("(partial)")
    assert "not counted, 1 layer: ? at torch_opaque_activation.py:13" in lines[at + 1]
    assert not any(line.lstrip().startswith("Reconciled") for line in lines)
