"""`portlint check`'s Ruff manners through the real CLI: `--diff` (applied with the real
`patch`), stdin (`check -`, `--stdin-filename`) through real pipes, `--quiet`,
`--statistics`, `--show-fixes`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from support import SOFTMAX_LINE, SOFTMAX_NET, assert_input_error, findings, portlint, shown, write

FIXED_SOFTMAX = "        self.softmax = nn.Softmax(dim=1)"


@pytest.fixture
def net(tmp_path: Path) -> Path:
    return write(tmp_path / "net.py", SOFTMAX_NET)


def line(path: Path, number: int) -> str:
    return path.read_text(encoding="utf-8").splitlines()[number - 1]


# --------------------------------------------------------------------------- --diff


@pytest.mark.skipif(shutil.which("patch") is None, reason="needs patch(1)")
@pytest.mark.parametrize("ending", ["\n", ""])
def test_diff_previews_what_fix_writes(net, tmp_path, ending):
    net.write_text(SOFTMAX_NET.rstrip("\n") + ending, encoding="utf-8")
    before = net.read_bytes()
    result = portlint("check", "net.py", "--diff", cwd=tmp_path)
    assert result.returncode == 1, shown(result)
    assert result.stdout.startswith("--- a/net.py\n+++ b/net.py\n@@"), shown(result)
    assert net.read_bytes() == before  # nothing written
    assert "would fix 1 finding in 1 file" in result.stderr
    # the diff, applied by patch to a copy, gives exactly what --fix writes
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(net, copy / "net.py")
    patched = subprocess.run(["patch", "-p1", "--quiet"], input=result.stdout, text=True,
                             cwd=copy, capture_output=True)
    assert patched.returncode == 0, patched.stderr + patched.stdout
    fixed = portlint("check", "net.py", "--fix", cwd=tmp_path)
    assert fixed.returncode == 0, shown(fixed)
    assert (copy / "net.py").read_bytes() == net.read_bytes()
    assert line(net, SOFTMAX_LINE) == FIXED_SOFTMAX


def test_diff_without_changes_exits_0(net, tmp_path):
    portlint("check", "net.py", "--fix", cwd=tmp_path)
    result = portlint("check", "net.py", "--diff", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == "", shown(result)
    net.write_text(SOFTMAX_NET, encoding="utf-8")
    assert portlint("check", "net.py", "--diff", "--exit-zero", cwd=tmp_path).returncode == 0


def test_diff_of_several_files(tmp_path):
    for name in ("a.py", "b.py"):
        write(tmp_path / name, SOFTMAX_NET)
    result = portlint("check", ".", "--diff", "--exit-zero", cwd=tmp_path)
    assert result.returncode == 0, shown(result)
    assert result.stdout.count("+        self.softmax = nn.Softmax(dim=1)") == 2
    assert "--- a/a.py" in result.stdout and "--- a/b.py" in result.stdout


# --------------------------------------------------------------------------- stdin


def test_stdin_is_checked_under_its_name(net, tmp_path):
    net.write_text("x = 1\n", encoding="utf-8")  # on disk: nothing; stdin: the finding
    result = portlint("check", "-", "--stdin-filename", "net.py", "--format", "json",
                      cwd=tmp_path, stdin=SOFTMAX_NET)
    found = findings(result)
    assert result.returncode == 1
    assert [(f["code"], f["location"]["path"], f["location"]["line"]) for f in found] == \
        [("PTL801", "net.py", SOFTMAX_LINE)]
    text = portlint("check", "-", "--stdin-filename", "net.py", cwd=tmp_path, stdin=SOFTMAX_NET)
    assert "nn.Softmax()" in text.stdout  # the source line shown is stdin's


def test_stdin_without_a_name_is_shown_as_dash(tmp_path):
    result = portlint("check", "-", "--format", "concise", cwd=tmp_path, stdin=SOFTMAX_NET)
    assert result.returncode == 1 and result.stdout.startswith("-:8:24: PTL801"), shown(result)


def test_stdin_follows_the_configuration_of_its_name(tmp_path):
    project = tmp_path / "project"
    write(project / "pyproject.toml", '[tool.portlint]\nignore = ["PTL801"]\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    named = portlint("check", "-", "--stdin-filename", str(project / "src" / "net.py"),
                     cwd=elsewhere, stdin=SOFTMAX_NET)
    assert named.returncode == 0, shown(named)
    unnamed = portlint("check", "-", cwd=elsewhere, stdin=SOFTMAX_NET)
    assert unnamed.returncode == 1, shown(unnamed)


def test_stdin_fix_writes_the_source_to_stdout(net, tmp_path):
    before = net.read_bytes()
    result = portlint("check", "-", "--stdin-filename", "net.py", "--fix", cwd=tmp_path,
                      stdin=SOFTMAX_NET)
    assert result.returncode == 0, shown(result)
    assert result.stdout.splitlines()[SOFTMAX_LINE - 1] == FIXED_SOFTMAX
    assert result.stdout == SOFTMAX_NET.replace("nn.Softmax()", "nn.Softmax(dim=1)")
    assert net.read_bytes() == before  # the file of that name is not touched
    assert "fixed 1 finding" in result.stderr


def test_stdin_fix_keeps_bytes_newlines_and_bom(tmp_path):
    source = b"\xef\xbb\xbf" + SOFTMAX_NET.replace("\n", "\r\n").encode("utf-8")
    result = portlint("check", "-", "--stdin-filename", str(tmp_path / "sub" / "net.py"),
                      "--fix", cwd=tmp_path, stdin=source, text=False)
    assert result.returncode == 0, shown(result)
    assert result.stdout == source.replace(b"nn.Softmax()", b"nn.Softmax(dim=1)")


def test_stdin_not_python_is_passed_through(tmp_path):
    text = "# not python ((\n"
    result = portlint("check", "-", "--stdin-filename", "README.md", "--fix", cwd=tmp_path,
                      stdin=text)
    assert result.returncode == 0 and result.stdout == text, shown(result)


def test_stdin_bad_input_is_one_line(tmp_path):
    assert_input_error(portlint("check", "-", "x.py", cwd=tmp_path, stdin="x = 1\n"),
                       "must be the only path")
    assert_input_error(portlint("check", "x.py", "--stdin-filename", "y.py", cwd=tmp_path),
                       "stdin-filename")
    assert_input_error(portlint("check", "-", cwd=tmp_path, stdin=b"\xff\xfe x"), "UTF-8")
    assert_input_error(portlint("check", "-", cwd=tmp_path, stdin="def f(:\n"), "")


# --------------------------------------------------------------------------- report variants


def test_quiet_prints_only_the_findings(net, tmp_path):
    for form in ("text", "concise"):
        result = portlint("check", "net.py", "-q", "--format", form, cwd=tmp_path)
        assert result.returncode == 1 and "PTL801" in result.stdout, shown(result)
        assert "Found 1 warning" not in result.stdout and "[*] 1 fixable" not in result.stdout
    portlint("check", "net.py", "--fix", cwd=tmp_path)
    clean = portlint("check", "net.py", "--quiet", cwd=tmp_path)
    assert clean.returncode == 0 and clean.stdout == "" and clean.stderr == "", shown(clean)
    fixed = portlint("check", "net.py", "--fix", "-q", cwd=tmp_path)
    assert fixed.stderr == "", shown(fixed)


def test_statistics_counts_per_rule(tmp_path):
    for name in ("a.py", "b.py"):
        write(tmp_path / name, SOFTMAX_NET)
    result = portlint("check", ".", "--statistics", cwd=tmp_path)
    assert result.returncode == 1, shown(result)
    assert result.stdout.splitlines() == ["2\tPTL801\t[*] softmax-implicit-dim",
                                          "Found 2 warnings."]
    data = json.loads(portlint("check", ".", "--statistics", "--format", "json",
                               cwd=tmp_path).stdout)
    assert data == [{"code": "PTL801", "name": "softmax-implicit-dim", "count": 2,
                     "fixable": True}]


def test_show_fixes_lists_them(net, tmp_path):
    available = portlint("check", "net.py", "--show-fixes", cwd=tmp_path)
    assert "Fixable with --fix:\n- net.py:\n    1 x PTL801 (softmax-implicit-dim)" \
        in available.stdout, shown(available)
    as_json = portlint("check", "net.py", "--show-fixes", "--format", "json", cwd=tmp_path)
    json.loads(as_json.stdout)  # the list goes to stderr, the JSON stays whole
    assert "Fixable with --fix:" in as_json.stderr
    applied = portlint("check", "net.py", "--fix", "--show-fixes", cwd=tmp_path)
    assert applied.returncode == 0
    assert "Fixed 1 finding:\n- net.py:\n    1 x PTL801 (softmax-implicit-dim)" \
        in applied.stdout, shown(applied)
