"""portlint on model pairs written in every common Keras and PyTorch style.

Static analysis only: nothing here imports Keras or torch. The real frameworks check the
fixtures (they are correct ports, and the count numbers in style_cases.py are right) in
test_real_counts.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portlint.compare import compare
from portlint.findings import FAILING
from support import portlint
from style_cases import (ALL_PAIRS, BROKEN_PAIRS, CORRECT, SEED_PAIR, Pair, bug_line,
                         options_for, over)


def run(pair: Pair, reverse: bool = False):
    if reverse:
        return compare(pair.torch.ref, pair.keras.ref, options_for(pair))
    return compare(pair.keras.ref, pair.torch.ref, options_for(pair))


def show(findings) -> str:
    lines = [f"  {f.severity} [{f.rule}] {f.location.path if f.location else '?'}:"
             f"{f.location.line if f.location else '?'}: {f.message}" for f in findings]
    return "\n".join(lines) or "  (no findings)"


def failing(findings) -> list:
    return [f for f in findings if f.severity in FAILING]


# --- correct ports ------------------------------------------------------------------------

@pytest.mark.parametrize("reverse", [False, True], ids=["keras->torch", "torch->keras"])
@over(CORRECT)
def test_correct_port_has_no_warning_or_error(pair: Pair, reverse: bool) -> None:
    result = run(pair, reverse)
    bad = failing(result.findings)
    assert not bad, f"{pair.id}: a correct port draws warnings/errors:\n{show(result.findings)}"


@over(CORRECT + [SEED_PAIR])
def test_picks_the_intended_models_and_follows_all_code(pair: Pair) -> None:
    result = run(pair)
    keras, torch = result.alignment.keras, result.alignment.torch
    assert (keras.framework, torch.framework) == ("keras", "torch")
    assert keras.model == pair.keras.name
    assert torch.model == pair.torch.name
    unresolved = [f for f in result.findings if f.rule == "unresolved-construct"]
    assert not keras.unresolved and not torch.unresolved and not unresolved, show(unresolved)
    assert keras.counts_known(), [n.name for n in keras.nodes if n.counts is None]
    assert torch.counts_known(), [n.name for n in torch.nodes if n.counts is None]


@over(CORRECT)
def test_correct_port_aligns_every_weighted_layer(pair: Pair) -> None:
    """Every layer with weights is matched to a layer of the same op on the other side."""
    result = run(pair)
    unmatched = []
    for row in result.alignment.rows:
        node = row.keras or row.torch
        weighted = node.counts is not None and (node.counts.trainable or node.counts.state)
        if weighted and (row.keras is None or row.torch is None or row.keras.op != row.torch.op):
            unmatched.append((row.status, node.name, node.op))
    assert not unmatched, unmatched


# --- static totals == numbers from the real frameworks (see test_real_counts.py) ----------

def static_counts(pair: Pair) -> tuple[tuple[int, int], tuple[int, int]]:
    result = run(pair)
    k = result.alignment.keras.total_counts()
    t = result.alignment.torch.total_counts()
    return (k.trainable, k.state), (t.trainable, t.state + t.torch_extra_buffers)


@over(ALL_PAIRS + [SEED_PAIR])
def test_static_totals_equal_real_counts(pair: Pair) -> None:
    keras_counts, torch_counts = static_counts(pair)
    assert keras_counts == pair.keras.counts, f"Keras (trainable, non-trainable) of {pair.keras.id}"
    assert torch_counts == pair.torch.counts, f"torch (parameters, buffers) of {pair.torch.id}"


@over(CORRECT + [SEED_PAIR])
def test_json_totals_reconcile(pair: Pair) -> None:
    result = run(pair)
    data = json.loads(json.dumps(result.to_json()))  # must be plain JSON
    totals = data["totals"]
    trainable, non_trainable = pair.keras.counts
    parameters, buffers = pair.torch.counts
    assert totals["keras"] == {"total": trainable + non_trainable, "trainable": trainable,
                               "non_trainable": non_trainable}
    assert totals["torch"]["parameters"] == parameters
    assert totals["torch"]["buffers"] == buffers
    assert totals["reconciled"] is True
    # Per-node counts in JSON add up to the totals, in each framework's convention.
    k_nodes = [n["counts"] for n in data["keras"]["nodes"] if n["counts"]]
    t_nodes = [n["counts"] for n in data["torch"]["nodes"] if n["counts"]]
    assert sum(c["trainable"] for c in k_nodes) == trainable
    assert sum(c["non_trainable"] for c in k_nodes) == non_trainable
    assert sum(c["parameters"] for c in t_nodes) == parameters
    assert sum(c["buffers"] for c in t_nodes) == buffers


# --- broken ports -------------------------------------------------------------------------

@over(BROKEN_PAIRS)
def test_broken_port_fires_exactly_the_expected_rules(pair: Pair) -> None:
    result = run(pair)
    fired = {f.rule for f in failing(result.findings)}
    assert fired == set(pair.expect), (
        f"{pair.id}: expected {sorted(pair.expect)}, got {sorted(fired)}:\n{show(result.findings)}")


@over(BROKEN_PAIRS)
def test_broken_port_finding_points_at_the_bug(pair: Pair) -> None:
    result = run(pair)
    line = bug_line(pair.torch.path)
    hits = [f for f in result.findings if f.rule == pair.primary]
    assert hits, show(result.findings)
    for finding in hits:
        assert finding.location is not None
        assert Path(finding.location.path).resolve() == pair.torch.path.resolve()
        # The `# BUG` comment sits on the faulty line or on its own line just above it.
        assert finding.location.line in (line, line + 1), (
            f"{pair.primary} at line {finding.location.line}, the bug is at line {line}")


def test_seed_pair_reports_the_known_bugs() -> None:
    result = run(SEED_PAIR)
    fired = {f.rule for f in failing(result.findings)}
    assert fired == {"batchnorm-momentum-mismatch", "norm-epsilon-mismatch",
                     "flatten-layout-mismatch", "activation-mismatch",
                     "output-activation-mismatch"}, show(result.findings)


# --- the CLI on one correct and one broken pair ------------------------------------------------

def test_cli_json_on_a_correct_pair() -> None:
    pair = next(p for p in CORRECT if p.id == "functional__functional")
    proc = portlint("compare", pair.keras.ref, pair.torch.ref, "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert all(f["severity"] == "info" for f in data["findings"]), data["findings"]
    (only,) = data["pairs"]
    assert only["totals"]["keras"]["trainable"] == pair.keras.counts[0]
    assert only["totals"]["torch"]["buffers"] == pair.torch.counts[1]


def test_cli_exit_code_on_a_broken_pair() -> None:
    pair = next(p for p in BROKEN_PAIRS if p.id == "flatten_no_permute")
    proc = portlint("compare", pair.keras.ref, pair.torch.ref)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "flatten-layout-mismatch" in proc.stdout
