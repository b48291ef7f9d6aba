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


def test_a_constructor_that_raises_is_an_input_error_saying_where():
    # Built without arguments, the constructor reaches `raise`: the model cannot be built,
    # so nothing was checked. Never a clean exit: exit 2, the raise and its line, and
    # what the user can do.
    run = portlint("compare", "keras_gelu_mlp.py", "torch_dual_encoder.py", cwd=PARTIAL)
    assert run.returncode == 2, run.shown()
    assert run.stdout == "" and len(run.stderr.strip().splitlines()) == 1, run.shown()
    message = run.stderr
    assert "`DualEncoderModel` cannot be built without arguments" in message
    assert "`DualEncoderModel.__init__` reaches `raise ValueError(" in message
    assert "torch_dual_encoder.py:8" in message
    assert "torch_dual_encoder.py::DualEncoderModel(...)" in message


def test_a_sub_module_that_cannot_be_followed_is_one_opaque_step_and_the_rest_is_checked():
    # ScaledGelu's forward reaches `raise` with the arguments it is given: it becomes an
    # opaque step (unresolved-construct at its call, naming the raise), and the layers
    # after it are still aligned and checked: the LayerNorm epsilon mismatch is found, and
    # the Keras gelu facing the opaque step is not reported as a missing activation.
    run, report = compare_json("keras_gelu_norm_mlp.py", "torch_opaque_block.py")
    assert run.returncode == 1, run.shown()
    found = rules_of(report)
    assert ("norm-epsilon-mismatch", 17) in found, found
    assert not [r for r, _ in found if r.startswith("activation")], found
    [unresolved] = [f for f in report["findings"] if f["rule"] == "unresolved-construct"]
    assert unresolved["location"]["line"] == 21
    assert "`ScaledGelu` gives no tensor" in unresolved["message"]
    assert "torch_opaque_block.py:8" in unresolved["message"]
    torch = report["pairs"][0]["totals"]["torch"]
    assert torch["partial"] is True and torch["parameters"] == 136 + 16 + 36


def test_nothing_with_weights_extracted_is_an_input_error_with_the_call_chain():
    # The tensor is lost two calls deep (a module called with None): nothing with weights
    # remains of the torch model, so nothing was checked. Exit 2, with the chain from the
    # model class to the call that lost it, and what to do.
    run = portlint("compare", "keras_gelu_mlp.py", "torch_lost_tensor.py", cwd=PARTIAL)
    assert run.returncode == 2, run.shown()
    assert run.stdout == "" and len(run.stderr.strip().splitlines()) == 1, run.shown()
    message = run.stderr
    assert "nothing with weights was extracted from `Model`" in message
    assert ("Model.forward -> MainLayer.forward -> torch_lost_tensor.py:19 "
            "`self.embeddings(inputs_embeds)`: module called without a tensor") in message
    assert "--torch-config" in message and "issue" in message


def test_the_not_counted_line_escapes_names_from_the_source():
    # Layer names, places and reasons come from the analysed file; on a terminal they are
    # escaped as findings are (the fuzz lane found an ESC byte reaching this line).
    from portlint.report.text import _missing_lines

    side = {"missing": [{"name": "bn\x1b[2J", "location": None, "reason": "why\x07"}]}
    [line] = _missing_lines(side)
    assert "\x1b" not in line and "\x07" not in line
    assert line.startswith("           not counted, 1 layer: bn")
