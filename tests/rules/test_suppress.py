"""Suppression comments (SPEC "Configuration"): `# portlint: ignore[rule]` and `# noqa: PTL101`
on the finding's line, comments found by tokenize (a `#` in a string is not one), and the
report of suppressions that suppress nothing (PTL902, `--report-unused-suppressions`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import (
    BN_LINE,
    FC1_LINE,
    FC2_LINE,
    FLATTEN_LINE,
    SEED_CODES,
    SOFTMAX_LINE,
    SOFTMAX_NET,
    append_comment,
    edit_line,
    findings,
    located,
    portlint,
    seed_pair,
    shown,
    write,
)
from portlint.findings import Finding
from portlint.ir import Span
from portlint.suppress import UnusedSuppression, apply_suppressions, parse_directives


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    keras, torch = seed_pair(tmp_path)
    write(tmp_path / "portlint.toml", 'pairs = [{keras = "keras/keras_model.py::build_model", '
                                      'torch = "torch/torch_model.py"}]\n')
    return keras, torch


LAYER1_LINE, RETURN_LINE = 23, 27


def check(tmp_path: Path, *args):
    return portlint("check", "torch/torch_model.py", "--format", "json", *args, cwd=tmp_path)


# --------------------------------------------------------------------------- parsing


def directives(text: str):
    return [(d.line, d.kind, d.selectors) for d in parse_directives("x.py", text)]


def test_directive_syntax():
    assert directives("a = 1  # noqa: PTL101\n") == [(1, "noqa", ("PTL101",))]
    assert directives("a = 1  # noqa: PTL101, E501 PTL102\n") == [(1, "noqa", ("PTL101", "E501", "PTL102"))]
    assert directives("a = 1  # NOQA:ptl101\n") == [(1, "noqa", ("ptl101",))]
    assert directives("a = 1  # noqa\n") == [(1, "noqa", None)]
    assert directives("import k  # noqa: F401  (installed by the extra)\n") == [(1, "noqa", ("F401",))]
    assert directives("a = 1  # portlint: ignore[batchnorm-momentum-mismatch, PTL102]\n") == [
        (1, "portlint", ("batchnorm-momentum-mismatch", "PTL102"))]
    assert directives("a = 1  # portlint: ignore\n") == [(1, "portlint", None)]
    assert directives("a = 1  # portlint:ignore [PTL1]\n") == [(1, "portlint", ("PTL1",))]
    assert directives("a = 1  # portlint: ignore-me\n") == []
    assert directives("a = 1  # portlint: port-of k.py::build\n") == []
    assert directives("a = 1  # noqa: E501  # portlint: ignore[PTL201]\n") == [
        (1, "noqa", ("E501",)), (1, "portlint", ("PTL201",))]


def test_a_hash_inside_a_string_is_not_a_comment():
    assert directives('s = "# noqa: PTL101"\n') == []
    assert directives("s = '# portlint: ignore'  # real comment\n") == []
    assert directives('s = """\n# noqa: PTL101\n"""\nt = 1  # noqa: PTL102\n') == [(4, "noqa", ("PTL102",))]


def test_lines_are_counted_like_libcst_counts_them():
    assert directives("a = 1\r\nb = 2  # noqa: PTL101\r\n") == [(2, "noqa", ("PTL101",))]
    assert directives("a = 1\rb = 2  # noqa: PTL101\r") == [(2, "noqa", ("PTL101",))]


def test_apply_suppressions_in_memory(tmp_path: Path):
    path = write(tmp_path / "m.py", "a = 1  # noqa: PTL101\nb = 2  # portlint: ignore[PTL102]\n")

    def at(code: str, rule: str, line: int) -> Finding:
        return Finding(code, rule, "error", "m", Span(str(path), line, 1, line, 2))

    f1, f2, f3 = at("PTL101", "a", 1), at("PTL102", "b", 1), at("PTL102", "b", 2)
    outcome = apply_suppressions([f1, f2, f3])
    assert outcome.kept == [f2] and outcome.suppressed == [f1, f3] and outcome.unused == []


# --------------------------------------------------------------------------- the CLI


def test_noqa_suppresses_the_named_code_on_its_line(pair, tmp_path: Path):
    _, torch = pair
    append_comment(torch, BN_LINE, "# noqa: PTL101")
    result = check(tmp_path)
    assert located(result) == SEED_CODES - {("PTL101", BN_LINE)}, shown(result)


def test_portlint_ignore_by_name_and_code(pair, tmp_path: Path):
    _, torch = pair
    append_comment(torch, BN_LINE, "# portlint: ignore[norm-epsilon-mismatch, PTL101]")
    append_comment(torch, FC1_LINE, "# portlint: ignore[PTL404]")  # PTL404 is on the next line
    result = check(tmp_path)
    assert located(result) == SEED_CODES - {("PTL101", BN_LINE), ("PTL102", BN_LINE)}, shown(result)


@pytest.mark.parametrize("comment", ["# portlint: ignore", "# noqa", "# NOQA"])
def test_blanket_suppressions(pair, tmp_path: Path, comment: str):
    _, torch = pair
    append_comment(torch, BN_LINE, comment)
    result = check(tmp_path)
    assert located(result) == SEED_CODES - {("PTL101", BN_LINE), ("PTL102", BN_LINE)}, shown(result)


def test_a_directive_inside_a_string_does_not_suppress(tmp_path: Path):
    write(tmp_path / "net.py", SOFTMAX_NET.replace(
        "self.softmax = nn.Softmax()", 'self.softmax = nn.Softmax(); self.tag = "# noqa: PTL801"'))
    result = portlint("check", "net.py", "--format", "json", cwd=tmp_path)
    assert located(result) == {("PTL801", SOFTMAX_LINE)}, shown(result)
    edit_line(tmp_path / "net.py", SOFTMAX_LINE, lambda body: body + "  # noqa: PTL801")
    result = portlint("check", "net.py", "--format", "json", cwd=tmp_path)
    assert located(result) == set(), shown(result)


def test_compare_honours_suppressions_without_any_configuration(tmp_path: Path):
    keras, torch = seed_pair(tmp_path)
    append_comment(torch, FLATTEN_LINE, "# noqa: PTL201")
    result = portlint("compare", keras, torch, "--format", "json", cwd=tmp_path)
    assert located(result) == SEED_CODES - {("PTL201", FLATTEN_LINE)}, shown(result)


def test_suppressed_findings_are_not_fixed(pair, tmp_path: Path):
    _, torch = pair
    append_comment(torch, BN_LINE, "# portlint: ignore[PTL101]")
    result = check(tmp_path, "--fix")
    line = torch.read_text(encoding="utf-8").splitlines()[BN_LINE - 1]
    assert "eps=0.001" in line and "momentum" not in line, line
    assert ("PTL101", BN_LINE) not in located(result)


# --------------------------------------------------------------------------- unused


def unused(result) -> list[dict]:
    return [f for f in findings(result) if f["code"] == UnusedSuppression.code]


def test_unused_suppressions_are_reported_only_when_asked(pair, tmp_path: Path):
    _, torch = pair
    append_comment(torch, FC1_LINE, "# noqa: PTL404, E501")  # PTL401 is here, PTL404 is not
    append_comment(torch, FC2_LINE, "# noqa: PTL404")  # used
    append_comment(torch, RETURN_LINE, "# portlint: ignore")  # nothing on `return output`
    append_comment(torch, LAYER1_LINE, "# noqa")  # a plain noqa may be another tool's
    assert unused(check(tmp_path)) == []

    result = check(tmp_path, "--report-unused-suppressions")
    assert result.returncode == 1, shown(result)
    reports = {(f["location"]["line"], f["location"]["column"], f["severity"]): f["message"]
               for f in unused(result)}
    assert set(reports) == {(FC1_LINE, 36, "warning"), (RETURN_LINE, 24, "warning")}, reports
    assert reports[(FC1_LINE, 36, "warning")] == "unused suppression `# noqa: PTL404, E501` (unused: PTL404)"
    assert reports[(RETURN_LINE, 24, "warning")] == "`# portlint: ignore` suppresses nothing on this line"
    assert ("PTL404", FC2_LINE) not in located(result)


def test_unknown_rules_in_suppressions_are_reported(pair, tmp_path: Path):
    _, torch = pair
    append_comment(torch, BN_LINE, "# portlint: ignore[PTL101, no-such-rule]")
    result = check(tmp_path, "--report-unused-suppressions")
    message, = [f["message"] for f in unused(result)]
    assert message.endswith("(unknown: no-such-rule)")


def test_codes_of_rules_that_did_not_run_are_not_reported(pair, tmp_path: Path):
    _, torch = pair
    append_comment(torch, FLATTEN_LINE, "# noqa: PTL201")
    result = check(tmp_path, "--report-unused-suppressions", "--select", "PTL1")
    assert unused(result) == [], shown(result)
    write(tmp_path / "portlint.toml", 'pairs = [{keras = "keras/keras_model.py", '
                                      'torch = "torch/torch_model.py"}]\n'
                                      'per-file-ignores = {"torch/*" = ["PTL201"]}\n'
                                      'report-unused-suppressions = true\n')
    result = check(tmp_path)
    assert unused(result) == [], shown(result)


def test_unused_suppression_severity_and_ignore(pair, tmp_path: Path):
    _, torch = pair
    append_comment(torch, FC1_LINE, "# noqa: PTL404")
    config = ('pairs = [{keras = "keras/keras_model.py", torch = "torch/torch_model.py"}]\n'
              'report-unused-suppressions = true\nselect = ["PTL404"]\n')
    write(tmp_path / "portlint.toml", config)
    assert [f["severity"] for f in unused(check(tmp_path))] == ["warning"]
    write(tmp_path / "portlint.toml", config + 'severity = {unused-suppression = "error"}\n')
    assert [f["severity"] for f in unused(check(tmp_path))] == ["error"]
    write(tmp_path / "portlint.toml", config + 'ignore = ["PTL902"]\n')
    assert unused(check(tmp_path)) == []


def test_fix_removes_unused_suppressions(pair, tmp_path: Path):
    _, torch = pair
    append_comment(torch, FC1_LINE, "# noqa: PTL404, PTL401")
    append_comment(torch, RETURN_LINE, "# portlint: ignore[PTL101]  # keep this note")
    append_comment(torch, LAYER1_LINE, "# portlint: ignore")
    result = check(tmp_path, "--report-unused-suppressions", "--fix")
    assert unused(result) == [], shown(result)
    assert "fixed 5 findings in 1 file" in result.stderr, shown(result)  # 3 + BN momentum, eps
    lines = torch.read_text(encoding="utf-8").splitlines()
    assert lines[FC1_LINE - 1] == "        output = self.fc1(output)  # noqa: PTL401"
    assert lines[RETURN_LINE - 1] == "        return output  # keep this note"
    assert lines[LAYER1_LINE - 1] == "        output = self.layer1(x)"
    assert ("PTL401", FC1_LINE) not in located(result)


def test_unused_suppression_is_documented():
    assert UnusedSuppression.code == "PTL902" and UnusedSuppression.name == "unused-suppression"
    for section in ("## What it flags", "## Why it matters", "## Example", "## Fix"):
        assert section in UnusedSuppression.doc


def notebook(path: Path, softmax_line: str) -> Path:
    import json

    lines = SOFTMAX_NET.splitlines(keepends=True)
    lines[SOFTMAX_LINE - 1] = softmax_line + "\n"
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# a notebook\n"]},
             {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
              "source": ["%matplotlib inline\n", *lines]}]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}), encoding="utf-8")
    return path


def test_suppressions_in_notebooks_count_lines_of_their_cells(tmp_path: Path):
    notebook(tmp_path / "bare.ipynb", "        self.softmax = nn.Softmax()")
    notebook(tmp_path / "quiet.ipynb", "        self.softmax = nn.Softmax()  # noqa: PTL801")
    notebook(tmp_path / "stale.ipynb", "        self.softmax = nn.Softmax(dim=1)  # noqa: PTL801")
    result = portlint("check", ".", "--format", "json", "--report-unused-suppressions",
                      cwd=tmp_path)
    by_path = {f["location"]["path"]: f for f in findings(result)}
    assert set(by_path) == {"bare.ipynb", "stale.ipynb"}, shown(result)
    assert by_path["bare.ipynb"]["code"] == "PTL801"
    stale = by_path["stale.ipynb"]
    assert stale["code"] == "PTL902" and stale["fix"] is None  # no edits inside a notebook's JSON
    assert (stale["location"]["cell"], stale["location"]["cell_line"]) == (2, SOFTMAX_LINE + 1)
