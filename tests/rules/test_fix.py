"""`portlint compare --fix` / `--unsafe-fixes` and `portlint.fixes.apply_fixes` on real files
(SPEC "Guarantees": files change only with `--fix`, writes are atomic, the result must
re-parse). The CLI runs as users run it, in a subprocess."""

from __future__ import annotations

import ast
import json
import os
import stat
from pathlib import Path

import libcst as cst
import pytest
from portlint.compare import compare
from portlint.findings import Edit, Finding, Fix
from portlint.fixes import apply_edits, apply_fixes
from portlint.ir import Span
from portlint.source import parse_text

from support import portlint, shown

BN_LINE = 16  # `nn.BatchNorm2d(num_features=32),` in the seed port
FIXED_BN = "            nn.BatchNorm2d(num_features=32, momentum=0.85, eps=0.001),"
FIXED_RULES = {"batchnorm-momentum-mismatch", "norm-epsilon-mismatch"}


def rules_of(stdout: str) -> list[str]:
    return [f["rule"] for f in json.loads(stdout)["findings"]]


def line(path: Path, number: int) -> str:
    return path.read_text(encoding="utf-8-sig").splitlines()[number - 1]


def reparses(path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    cst.parse_module(text)
    ast.parse(text)


# --------------------------------------------------------------------------- the CLI


def test_fix_sets_the_momentum_in_the_port_and_reports_what_remains(seed):
    keras, torch = seed
    keras_before = keras.read_bytes()
    before = portlint("compare", keras, torch, "--format", "json")
    assert FIXED_RULES <= set(rules_of(before.stdout))

    result = portlint("compare", keras, torch, "--fix", "--format", "json")
    assert result.returncode == 1, shown(result)  # the activation findings remain errors
    assert result.stderr == "portlint: fixed 2 findings in 1 file\n", shown(result)
    assert "momentum=0.85" in torch.read_text(encoding="utf-8")
    assert line(torch, BN_LINE) == FIXED_BN
    reparses(torch)
    remaining = rules_of(result.stdout)
    assert not FIXED_RULES & set(remaining)
    assert "activation-mismatch" in remaining
    # The report is the analysis of the fixed files, exactly as a fresh run shows it.
    assert result.stdout == portlint("compare", keras, torch, "--format", "json").stdout
    # The origin is never touched; no temporary file is left behind.
    assert keras.read_bytes() == keras_before
    assert sorted(os.listdir(torch.parent)) == ["keras_model.py", "torch_model.py"]


def test_a_second_fix_run_changes_nothing(seed):
    keras, torch = seed
    first = portlint("compare", keras, torch, "--fix")
    assert first.returncode == 1, shown(first)
    fixed_bytes, fixed_stat = torch.read_bytes(), torch.stat()
    second = portlint("compare", keras, torch, "--fix")
    assert second.returncode == 1, shown(second)
    assert torch.read_bytes() == fixed_bytes
    assert torch.stat().st_ino == fixed_stat.st_ino, "the file was rewritten"
    assert torch.stat().st_mtime_ns == fixed_stat.st_mtime_ns
    assert second.stderr == "portlint: no fixes applied\n", shown(second)


def test_swapped_order_fixes_the_keras_port_and_leaves_torch_alone(seed):
    keras, torch = seed
    torch_before = torch.read_bytes()
    result = portlint("compare", torch, keras, "--fix", "--format", "json")
    assert result.returncode == 1, shown(result)
    assert "BatchNormalization(momentum=0.9, axis=-1" in line(keras, 15)
    assert "batchnorm-momentum-mismatch" not in rules_of(result.stdout)
    reparses(keras)
    assert torch.read_bytes() == torch_before


def test_text_report_counts_the_fixable_findings(seed):
    keras, torch = seed
    text = portlint("compare", keras, torch)
    assert text.returncode == 1, shown(text)
    lines = text.stdout.rstrip().splitlines()
    assert lines[-1] == "Found 3 errors, 2 warnings, 2 infos."  # the summary stays last
    assert lines[-2] == "[*] 2 fixable with --fix"
    as_json = portlint("compare", keras, torch, "--format", "json")
    assert "[*]" not in as_json.stdout and as_json.stderr == ""  # JSON unchanged
    after = portlint("compare", keras, torch, "--fix")
    assert "[*]" not in after.stdout
    assert "momentum=0.1 (default)" not in after.stdout
    assert after.stdout.rstrip().endswith("Found 1 error, 2 warnings, 2 infos.")


def test_exit_code_follows_the_remaining_findings(seed):
    keras, torch = seed
    select = ("--select", "batchnorm-momentum-mismatch,norm-epsilon-mismatch")
    assert portlint("compare", keras, torch, *select).returncode == 1
    result = portlint("compare", keras, torch, *select, "--fix")
    assert result.returncode == 0, shown(result)
    assert "No findings." in result.stdout


def test_unsafe_fixes_alone_changes_no_file(seed):
    keras, torch = seed
    before = keras.read_bytes(), torch.read_bytes()
    result = portlint("compare", keras, torch, "--unsafe-fixes")
    assert result.returncode == 1, shown(result)
    assert "[*] 2 fixable with --fix" in result.stdout
    assert (keras.read_bytes(), torch.read_bytes()) == before


def test_read_only_port_is_a_clear_error(seed):
    keras, torch = seed
    before = torch.read_bytes()
    torch.chmod(0o444)
    try:
        result = portlint("compare", keras, torch, "--fix")
    finally:
        torch.chmod(0o644)
    assert "Traceback" not in result.stdout + result.stderr, shown(result)
    assert result.returncode == 2, shown(result)
    assert result.stdout == "", shown(result)
    [message] = result.stderr.splitlines()
    assert str(torch) in message and "read-only" in message, message
    assert torch.read_bytes() == before
    assert sorted(os.listdir(torch.parent)) == ["keras_model.py", "torch_model.py"]


def test_write_is_atomic_and_keeps_the_mode(seed):
    keras, torch = seed
    torch.chmod(0o640)
    before = torch.read_text(encoding="utf-8")
    old_inode = torch.stat().st_ino
    with open(torch, encoding="utf-8") as reader:  # a reader keeps its view of the old file
        result = portlint("compare", keras, torch, "--fix")
        assert reader.read() == before, "the file was rewritten in place"
    assert result.returncode == 1, shown(result)
    assert torch.stat().st_ino != old_inode, "written in place, not via rename"
    assert stat.S_IMODE(torch.stat().st_mode) == 0o640
    assert sorted(os.listdir(torch.parent)) == ["keras_model.py", "torch_model.py"]


def test_crlf_newlines_and_byte_order_mark_are_kept(seed):
    keras, torch = seed
    text = torch.read_text(encoding="utf-8")
    torch.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    result = portlint("compare", keras, torch, "--fix")
    assert result.returncode == 1, shown(result)
    data = torch.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\n") == data.count(b"\r\n") == text.count("\n")
    assert line(torch, BN_LINE) == FIXED_BN
    reparses(torch)


def test_a_symlinked_port_stays_a_symlink(seed, tmp_path):
    # Link and target inside the project (the current directory, no configuration): the
    # target is written, the link kept. A link out of the project: tests/cli/test_manners.py.
    keras, torch = seed
    link = tmp_path / "linked" / "port.py"
    link.parent.mkdir()
    link.symlink_to(torch)
    result = portlint("compare", keras, link, "--fix", cwd=tmp_path)
    assert result.returncode == 1, shown(result)
    assert link.is_symlink() and link.resolve() == torch.resolve()
    assert line(torch, BN_LINE) == FIXED_BN
    assert os.listdir(link.parent) == ["port.py"]


# --------------------------------------------------------------------------- apply_fixes

PORT = """\
import torch.nn as nn

layer = nn.BatchNorm2d(num_features=32, momentum=0.1)
"""
#        columns:   1234567890123456789012345678901234567890123456789012
# "momentum=0.1" spans 41..53 and its value "0.1" 50..53 on line 3.


def span(path: Path, line_no: int, column: int, end_column: int | None = None,
         end_line: int | None = None) -> Span:
    return Span(str(path), line_no, column, end_line or line_no,
                column if end_column is None else end_column)


def finding(location: Path, *edits: Edit, applicability: str = "safe",
            code: str = "PTL999") -> Finding:
    return Finding(code=code, rule="test-rule", severity="error", message="test",
                   location=span(location, 3, 9, 54),
                   fix=Fix(applicability, tuple(edits), title="test fix"))


@pytest.fixture
def port(tmp_path: Path) -> Path:
    path = tmp_path / "port.py"
    path.write_text(PORT, encoding="utf-8")
    return path


def test_safe_fix_replaces_a_value(port):
    f = finding(port, Edit(span(port, 3, 50, 53), "0.9"))
    report = apply_fixes([f])
    assert report.ok and report.fixed == [f] and report.files == {str(port): 1}
    assert line(port, 3) == "layer = nn.BatchNorm2d(num_features=32, momentum=0.9)"
    assert os.listdir(port.parent) == ["port.py"]


def test_unsafe_fixes_need_unsafe(port):
    f = finding(port, Edit(span(port, 3, 50, 53), "0.9"), applicability="unsafe")
    report = apply_fixes([f])
    assert report.fixed == [] and report.hidden == [f] and report.files == {}
    assert port.read_text(encoding="utf-8") == PORT
    report = apply_fixes([f], unsafe=True)
    assert report.fixed == [f] and report.hidden == []
    assert "momentum=0.9)" in line(port, 3)


def test_overlapping_fixes_apply_only_the_first(port):
    first = finding(port, Edit(span(port, 3, 41, 53), "momentum=0.9"), code="PTL101")
    second = finding(port, Edit(span(port, 3, 50, 53), "0.5"), code="PTL102")
    report = apply_fixes([first, second])
    assert report.fixed == [first] and report.skipped == [second]
    assert line(port, 3) == "layer = nn.BatchNorm2d(num_features=32, momentum=0.9)"


def test_insertions_at_one_point_keep_the_findings_order_and_identical_edits_apply_once(port):
    end = span(port, 3, 53)  # just before ")"
    a = finding(port, Edit(end, ", eps=0.001"), code="PTL101")
    b = finding(port, Edit(end, ", affine=True"), code="PTL102")
    c = finding(port, Edit(end, ", eps=0.001"), code="PTL103")  # the same edit as a's
    report = apply_fixes([a, b, c])
    assert report.fixed == [a, b, c] and report.skipped == []
    assert line(port, 3).endswith("momentum=0.1, eps=0.001, affine=True)")


def test_a_fix_that_breaks_the_syntax_is_refused_and_the_file_unchanged(port):
    before = port.stat()
    bad = finding(port, Edit(span(port, 3, 50, 53), "0.9("))
    report = apply_fixes([bad])
    assert report.fixed == [] and [r.finding for r in report.refused] == [bad]
    assert "would not parse" in report.refused[0].reason
    assert port.read_text(encoding="utf-8") == PORT
    assert port.stat().st_ino == before.st_ino and port.stat().st_mtime_ns == before.st_mtime_ns
    assert os.listdir(port.parent) == ["port.py"]


def test_a_breaking_fix_does_not_block_the_good_ones(port):
    good = finding(port, Edit(span(port, 3, 50, 53), "0.9"), code="PTL101")
    bad = finding(port, Edit(span(port, 1, 1, 7), "imp ort"), code="PTL102")
    report = apply_fixes([bad, good])
    assert report.fixed == [good] and [r.finding for r in report.refused] == [bad]
    assert port.read_text(encoding="utf-8") == PORT.replace("momentum=0.1", "momentum=0.9")


def test_a_fix_that_repeats_a_keyword_is_refused(port):
    dup = finding(port, Edit(span(port, 3, 53), ", num_features=3"))
    report = apply_fixes([dup])
    assert report.fixed == [] and "keyword argument repeated" in report.refused[0].reason
    assert port.read_text(encoding="utf-8") == PORT


def test_a_fix_may_only_edit_the_file_of_its_finding(port, tmp_path):
    origin = tmp_path / "origin.py"
    origin.write_text("x = 1\n", encoding="utf-8")
    f = finding(port, Edit(span(origin, 1, 5, 6), "2"))
    report = apply_fixes([f])
    assert report.fixed == [] and report.refused[0].finding is f
    assert origin.read_text(encoding="utf-8") == "x = 1\n"


def test_a_stale_span_is_refused_not_a_crash(port):
    f = finding(port, Edit(span(port, 30, 1, 2), "x"))
    g = finding(port, Edit(span(port, 3, 200, 201), "x"))
    report = apply_fixes([f, g])
    assert report.fixed == [] and len(report.refused) == 2
    assert port.read_text(encoding="utf-8") == PORT


def test_columns_count_code_points_as_source_spans_do(tmp_path):
    text = 'label = "é😀"; y = f(a=1)\n'
    path = tmp_path / "m.py"
    path.write_text(text, encoding="utf-8")
    source = parse_text(str(path), text)
    call = source.module.body[0].body[1].value  # f(a=1)
    value_span = source.span(call.args[0].value)
    assert (value_span.column, value_span.end_column) == (23, 24)  # 1-based code points
    f = Finding("PTL999", "test-rule", "error", "test", source.span(call),
                fix=Fix("safe", (Edit(value_span, "2"),)))
    assert apply_fixes([f]).fixed == [f]
    assert path.read_text(encoding="utf-8") == 'label = "é😀"; y = f(a=2)\n'


def test_inserted_newlines_follow_the_file(tmp_path):
    path = tmp_path / "m.py"
    path.write_bytes(b"x = 1\r\ny = 2\r\n")
    f = Finding("PTL999", "test-rule", "error", "test", span(path, 2, 1, 6),
                fix=Fix("safe", (Edit(span(path, 2, 1), "z = 0\n"),)))
    assert apply_fixes([f]).fixed == [f]
    assert path.read_bytes() == b"x = 1\r\nz = 0\r\ny = 2\r\n"


def test_read_only_file_is_an_error_and_nothing_is_written(port, tmp_path):
    other = tmp_path / "other.py"
    other.write_text(PORT, encoding="utf-8")
    port.chmod(0o444)
    try:
        report = apply_fixes([finding(other, Edit(span(other, 3, 50, 53), "0.9")),
                              finding(port, Edit(span(port, 3, 50, 53), "0.9"))])
    finally:
        port.chmod(0o644)
    assert not report.ok and "read-only" in report.errors[0] and str(port) in report.errors[0]
    assert report.fixed == [] and report.files == {}
    assert port.read_text(encoding="utf-8") == other.read_text(encoding="utf-8") == PORT
    assert sorted(os.listdir(tmp_path)) == ["other.py", "port.py"]


def test_analysing_again_in_process_sees_a_same_size_fix(seed):
    """`--fix` analyses the fixed file again in the same process: the parse cache (keyed by
    path, mtime and size) must not hand back the old text, even when the fix keeps the size
    and the file system's timestamps are too coarse to tell the versions apart."""
    keras, torch = seed
    text = torch.read_text(encoding="utf-8")
    torch.write_text(text.replace("num_features=32)", "num_features=32, momentum=0.25, "
                                                      "eps=0.001)"), encoding="utf-8")
    old = torch.stat()
    result = compare(str(keras), str(torch))
    [momentum] = [f for f in result.findings if f.rule == "batchnorm-momentum-mismatch"]
    assert apply_fixes([momentum]).fixed == [momentum]
    assert "momentum=0.85," in line(torch, BN_LINE)
    assert torch.stat().st_size == old.st_size
    os.utime(torch, ns=(old.st_atime_ns, old.st_mtime_ns))  # same path, mtime and size
    again = compare(str(keras), str(torch))
    assert "batchnorm-momentum-mismatch" not in [f.rule for f in again.findings]


def test_apply_edits_rejects_overlaps():
    text = "abcdef\n"
    assert apply_edits(text, [Edit(Span("m.py", 1, 2, 1, 4), "X"),
                              Edit(Span("m.py", 1, 7, 1, 7), "!")]) == "aXdef!\n"
    with pytest.raises(ValueError):
        apply_edits(text, [Edit(Span("m.py", 1, 2, 1, 4), "X"), Edit(Span("m.py", 1, 3, 1, 5), "Y")])
