"""What `--fix` does to the file system, on real files: a symlink out of the project is not
written through (a warning, the target unchanged), one inside the project keeps being a
link with its target fixed; temporary files carry our suffix and the writer's pid, a run
removes the stale ones (their process is dead) next to the files it writes, and never
checks one as a source."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import SOFTMAX_LINE, SOFTMAX_NET, portlint, shown, write

FIXED_SOFTMAX = "        self.softmax = nn.Softmax(dim=1)"
PROJECT = '[tool.portlint]\nselect = ["PTL801"]\n'


def line(path: Path, number: int = SOFTMAX_LINE) -> str:
    return path.read_text(encoding="utf-8").splitlines()[number - 1]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    write(root / "pyproject.toml", PROJECT)
    return root


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# --------------------------------------------------------------------------- symlinks


@pytest.mark.parametrize("cwd", ["project", "outside"])
def test_fix_does_not_write_through_a_symlink_out_of_the_project(project, tmp_path, cwd):
    outside = write(tmp_path / "elsewhere" / "shared.py", SOFTMAX_NET)
    link = project / "src" / "net.py"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    here = project if cwd == "project" else tmp_path
    result = portlint("check", link, "--fix", cwd=here)
    assert result.returncode == 1, shown(result)  # the finding remains
    assert "symlink" in result.stderr and "outside the project" in result.stderr, shown(result)
    assert str(project) in result.stderr
    assert line(outside) == "        self.softmax = nn.Softmax()"
    assert link.is_symlink() and os.listdir(outside.parent) == ["shared.py"]
    # --diff still previews it: nothing is written either way
    preview = portlint("check", link, "--diff", cwd=here)
    assert "symlink" in preview.stderr and preview.stdout == "", shown(preview)


def test_fix_writes_the_target_of_a_symlink_inside_the_project(project):
    target = write(project / "models" / "net.py", SOFTMAX_NET)
    link = project / "src" / "net.py"
    link.parent.mkdir()
    link.symlink_to(target)
    result = portlint("check", "src/net.py", "--fix", cwd=project)
    assert result.returncode == 0, shown(result)
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert line(target) == FIXED_SOFTMAX


def test_without_configuration_the_project_is_the_current_directory(tmp_path):
    work = tmp_path / "work"
    outside = write(tmp_path / "other" / "net.py", SOFTMAX_NET)
    work.mkdir()
    (work / "net.py").symlink_to(outside)
    result = portlint("check", "net.py", "--fix", cwd=work)
    assert result.returncode == 1 and "outside the project" in result.stderr, shown(result)
    inside = portlint("check", "net.py", "--fix", cwd=tmp_path / "other")
    assert inside.returncode == 0 and line(outside) == FIXED_SOFTMAX, shown(inside)


# --------------------------------------------------------------------------- temporary files


def test_stale_temporary_files_are_removed_next_to_fixed_files(project):
    net = write(project / "net.py", SOFTMAX_NET)
    stale = write(project / f".net.py.{dead_pid()}.k3j_x9q.portlint-tmp", "half a fi")
    other_stale = write(project / f".other.py.{dead_pid()}.a1b2c3.portlint-tmp", "x")
    live = write(project / f".net.py.{os.getpid()}.zz9.portlint-tmp", "in use")
    not_ours = write(project / ".net.py.notapid.portlint-tmp", "unknown")
    result = portlint("check", "net.py", "--fix", "--no-cache", cwd=project)
    assert result.returncode == 0, shown(result)
    assert line(net) == FIXED_SOFTMAX
    assert not stale.exists() and not other_stale.exists()
    assert live.exists() and not_ours.exists()  # a live writer's, and a name not ours
    names = sorted(p.name for p in project.iterdir())
    assert names == sorted(["pyproject.toml", "net.py", live.name, not_ours.name])


def test_temporary_files_are_never_sources(project):
    write(project / "net.py", SOFTMAX_NET)
    write(project / f".net.py.{dead_pid()}.k3j_x9q.portlint-tmp", "def broken(:\n")
    result = portlint("check", ".", "--format", "concise", cwd=project)
    assert result.returncode == 1, shown(result)  # not 2: the broken temp file is not read
    assert "portlint-tmp" not in result.stdout + result.stderr
    given = portlint("check", f".net.py.{dead_pid()}.k3j_x9q.portlint-tmp", cwd=project)
    assert given.returncode in (0, 2) and "Traceback" not in given.stderr


def test_output_file_names_its_temporary_file_too(project):
    write(project / "net.py", SOFTMAX_NET)
    stale = write(project / f".report.txt.{dead_pid()}.q1.portlint-tmp", "")
    result = portlint("check", "net.py", "--output-file", "report.txt", cwd=project)
    assert result.returncode == 1 and "PTL801" in (project / "report.txt").read_text()
    assert not stale.exists()


def test_a_temporary_file_carries_the_writers_pid(project):
    # a process that creates portlint's temporary file and dies before renaming it, as
    # a SIGKILL during --fix leaves it
    write(project / "net.py", SOFTMAX_NET)
    code = ("import os; from portlint import tempfiles; fd, path = tempfiles.create('net.py'); "
            "print(os.path.basename(path), os.getpid())")
    out = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True,
                         text=True, check=True).stdout.split()
    name, pid = out[0], int(out[1])
    assert name.startswith(f".net.py.{pid}.") and name.endswith(".portlint-tmp")
    # its writer is gone: the next fix removes it
    result = portlint("check", "net.py", "--fix", cwd=project)
    assert result.returncode == 0 and not (project / name).exists(), shown(result)
