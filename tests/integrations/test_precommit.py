"""The pre-commit hooks of this repository (.pre-commit-hooks.yaml), run by the real
`pre-commit` (`try-repo`, which installs portlint from this checkout, uncommitted changes
included) in a temporary git repository holding a seed-style pair and a configuration."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT, SEED

PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which("pre-commit")

FIXED_PORT = '''\
import torch
import torch.nn as nn


class CustomModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Sequential(
            nn.Conv2d(in_channels=1, out_channels=32, kernel_size=(3, 3), padding=1),
            nn.ReLU(True),
            nn.BatchNorm2d(num_features=32, momentum=0.85, eps=1e-3),
        )
        self.fc1 = nn.Linear(in_features=131072, out_features=100)
        self.fc2 = nn.Linear(in_features=100, out_features=10)

    def forward(self, x):
        output = self.layer1(x)
        output = output.permute(0, 2, 3, 1).flatten(1)  # NHWC order, as Keras flattens
        output = torch.relu(self.fc1(output))
        return torch.softmax(self.fc2(output), dim=-1)
'''

pytestmark = [
    pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is in the test extra"),
    pytest.mark.slow,  # try-repo builds and installs portlint from the checkout
]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """One pre-commit cache for the module: the hook environment is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


def repo_with_pair(tmp_path: Path, port_text: str) -> Path:
    repo = tmp_path / "project"
    repo.mkdir()
    shutil.copy(SEED / "keras_model.py", repo / "keras_model.py")
    (repo / "torch_model.py").write_text(port_text)
    (repo / "README.md").write_text("# a project\n")
    (repo / "pyproject.toml").write_text(
        '[tool.portlint]\npairs = [{keras = "keras_model.py::build_model", '
        'torch = "torch_model.py::CustomModel"}]\n')
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    return repo


def try_repo(repo: Path, home: Path, hook: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return subprocess.run([PRE_COMMIT, "try-repo", str(ROOT), hook, *args], cwd=repo,
                          capture_output=True, text=True, env=env, timeout=900)


def test_hook_fails_on_the_broken_port_and_passes_on_the_fixed_one(tmp_path, home):
    repo = repo_with_pair(tmp_path, (SEED / "torch_model.py").read_text())
    broken = try_repo(repo, home, "portlint", "--all-files")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "PTL101" in broken.stdout and "torch_model.py" in broken.stdout

    (repo / "torch_model.py").write_text(FIXED_PORT)
    git(repo, "add", "-A")
    fixed = try_repo(repo, home, "portlint", "--all-files")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "Passed" in fixed.stdout


def test_hook_passes_when_given_no_python_file(tmp_path, home):
    repo = repo_with_pair(tmp_path, (SEED / "torch_model.py").read_text())
    result = try_repo(repo, home, "portlint", "--files", "README.md")
    assert result.returncode == 0, result.stdout + result.stderr


def test_fix_hook_rewrites_the_port_and_then_passes_on_what_it_can(tmp_path, home):
    repo = repo_with_pair(tmp_path, (SEED / "torch_model.py").read_text())
    result = try_repo(repo, home, "portlint-fix", "--all-files")
    assert result.returncode == 1  # files changed (and findings without a fix remain)
    text = (repo / "torch_model.py").read_text()
    assert "momentum=0.85" in text and "eps=0.001" in text
    assert (repo / "keras_model.py").read_text() == (SEED / "keras_model.py").read_text()
