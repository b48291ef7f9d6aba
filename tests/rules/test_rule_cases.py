"""Every rule's own VALID and INVALID pair examples (Fixit-style), run through the
whole pipeline: the Keras snippet is the original, the PyTorch snippet the port."""

from __future__ import annotations

import pytest

from portlint.compare import Options, compare
from portlint.fixes import apply_fixes
from portlint.rule import Case, Rule
from portlint.rules import ALL_RULES


def _cases(kind: str) -> list:
    params = []
    for rule in ALL_RULES:
        for index, case in enumerate(getattr(rule, kind)):
            params.append(pytest.param(rule, case, id=f"{rule.name}-{kind.lower()}-{index}"))
    return params


def _run(rule: type[Rule], case: Case, tmp_path):
    keras_file = tmp_path / "keras_model.py"
    torch_file = tmp_path / "torch_model.py"
    keras_file.write_text(case.keras)
    torch_file.write_text(case.torch)
    result = compare(str(keras_file), str(torch_file), Options(keras_version=case.keras_version))
    return [f for f in result.findings if f.rule == rule.name], result


@pytest.mark.parametrize("rule, case", _cases("VALID"))
def test_valid_case_is_silent(rule, case, tmp_path):
    found, _ = _run(rule, case, tmp_path)
    assert found == [], [f.message for f in found]


@pytest.mark.parametrize("rule, case", _cases("INVALID"))
def test_invalid_case_is_flagged(rule, case, tmp_path):
    found, result = _run(rule, case, tmp_path)
    assert len(found) == case.expect, [f.message for f in result.findings]
    first = found[0]
    assert first.code == rule.code and first.severity in ("info", "warning", "error")
    if case.line is not None:
        assert first.location is not None and first.location.line == case.line, (
            first.location, first.message)
    if case.message is not None:
        assert case.message in first.message
    _check_fixed(found, case)


def _check_fixed(found, case: Case) -> None:
    """With a fix, `case.fixed` is the first finding's file after `--fix --unsafe-fixes`
    (the rule's own fixes only); without one, `fixed` must not be set."""
    fixable = [f for f in found if f.fix is not None]
    if not fixable:
        assert case.fixed is None, "the case declares fixed= but the rule offers no fix"
        return
    assert case.fixed is not None, (
        f"the rule fixes this case ({fixable[0].fix.title}): declare the fixed source as fixed=")
    report = apply_fixes(fixable, unsafe=True)
    assert report.ok and not report.refused, (report.errors, report.refused)
    with open(fixable[0].location.path, encoding="utf-8") as stream:
        assert stream.read() == case.fixed


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.name)
def test_rule_is_documented_and_exemplified(rule):
    assert rule.code.startswith("PTL") and len(rule.code) == 6 and rule.code[3:].isdigit()
    assert rule.severity in ("info", "warning", "error")
    for section in ("## What it flags", "## Why it matters", "## Example", "## Fix"):
        assert section in rule.doc, f"{rule.name} doc lacks {section}"
    # Issue 4's bar: two of each, one VALID a correct port spelled differently.
    assert len(rule.VALID) >= 2 and len(rule.INVALID) >= 2
    assert any(case.note for case in rule.VALID), (
        f"{rule.name}: say (in a note) which VALID case is a correct port spelled differently")


def test_codes_and_names_are_unique():
    codes = [r.code for r in ALL_RULES]
    names = [r.name for r in ALL_RULES]
    assert len(set(codes)) == len(codes) and len(set(names)) == len(names)


def test_spec_minimum_catalogue_is_present():
    required = {"batchnorm-momentum-mismatch", "norm-epsilon-mismatch", "norm-affine-mismatch",
                "activation-mismatch", "activation-order-mismatch",
                "output-activation-mismatch", "flatten-layout-mismatch",
                "layer-config-mismatch", "shape-mismatch", "missing-layer",
                "param-count-mismatch", "buffer-accounting", "initializer-mismatch",
                "unresolved-construct"}
    assert required <= {r.name for r in ALL_RULES}
