"""The built wheel is the product: it holds the `portlint` package (mapped from lint/ and
rules/), declares the console script, installs into a fresh virtualenv with only libcst and
typer, and answers the seed question there without the repository on sys.path. Importing
the CLI stays light (no libcst) so `--help`, `--version` and `rule` start fast."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from support import ROOT, SEED_KERAS, SEED_TORCH

pytestmark = pytest.mark.slow  # builds the wheel and installs it in a fresh virtualenv


REQUIRED_FILES = [
    "portlint/__init__.py",
    "portlint/__main__.py",
    "portlint/cli.py",
    "portlint/frontend/interpreter.py",
    "portlint/knowledge/keras.py",
    "portlint/report/text.py",
    "portlint/rules/__init__.py",
    "portlint/rules/normalization.py",
]
HEAVY = ("libcst", "torch", "tensorflow", "keras", "numpy")


def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP",
                        "PORTLINT_DEBUG", "PIP_REQUIRE_VIRTUALENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONNOUSERSITE"] = "1"
    return env


def run(command: list, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], cwd=cwd, env=clean_env(),
                          capture_output=True, text=True, timeout=timeout)


def detail(result: subprocess.CompletedProcess) -> str:
    return f"rc={result.returncode}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the wheel from a copy of the repository (an in-tree build would write build/
    and *.egg-info into the working tree)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".venv",
        ".portlint_cache", "tests"))
    out = base / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", out, source]
    isolated = run(build, cwd=base)
    if isolated.returncode != 0:
        # Build isolation fetches setuptools>=77 from the index; without it, use the
        # interpreter's own setuptools, and skip only if that fails too.
        fallback = run(build[:4] + ["--no-build-isolation"] + build[4:], cwd=base)
        if fallback.returncode != 0:
            pytest.skip("cannot build the wheel: with build isolation:\n"
                        f"{detail(isolated)}\nwithout:\n{detail(fallback)}")
    wheels = list(out.glob("portlint-*.whl"))
    assert len(wheels) == 1, os.listdir(out)
    return wheels[0]


@pytest.fixture(scope="module")
def fresh_venv(wheel, tmp_path_factory) -> Path:
    """A new virtualenv with the wheel (no deps) plus libcst and typer from the index."""
    home = tmp_path_factory.mktemp("venv")
    venv = home / "venv"
    created = run([sys.executable, "-m", "venv", venv], cwd=home)
    assert created.returncode == 0, detail(created)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    installed = run([python, "-m", "pip", "install", "--no-deps", wheel], cwd=home)
    assert installed.returncode == 0, detail(installed)
    deps = run([python, "-m", "pip", "install", "libcst>=1.1", "typer>=0.9"], cwd=home)
    if deps.returncode != 0:
        pytest.skip(f"cannot install libcst/typer from the package index:\n{detail(deps)}")
    return venv


def bin_path(venv: Path, name: str) -> Path:
    if os.name == "nt":
        return venv / "Scripts" / (f"{name}.exe")
    return venv / "bin" / name


# --------------------------------------------------------------------------- the wheel


def test_wheel_contains_the_package(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = [name for name in REQUIRED_FILES if name not in names]
    assert not missing, f"missing from {wheel.name}: {missing}"
    # lint/ and rules/ are mapped into portlint/: nothing else is installed at top level.
    tops = {name.split("/")[0] for name in names}
    assert tops == {"portlint", "portlint-0.1.0.dist-info"}, sorted(tops)
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)


def test_wheel_declares_the_console_script_and_dependencies(wheel):
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read("portlint-0.1.0.dist-info/entry_points.txt").decode()
        metadata = archive.read("portlint-0.1.0.dist-info/METADATA").decode()
    section, _, rest = entry_points.partition("[console_scripts]")
    assert rest, entry_points
    scripts = rest.split("[")[0]
    assert any(line.replace(" ", "") == "portlint=portlint.cli:main"
               for line in scripts.splitlines()), entry_points
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines()
                if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert any(r.replace(" ", "").startswith("libcst") for r in requires), requires
    assert any(r.replace(" ", "").startswith("typer") for r in requires), requires
    assert not any(r.split()[0].startswith(("torch", "tensorflow", "keras")) for r in requires), \
        "the frameworks must stay optional"


# --------------------------------------------------------------------------- installed


def test_installed_package_comes_from_the_venv_not_the_repo(fresh_venv, tmp_path):
    python = bin_path(fresh_venv, "python")
    result = run([python, "-c", "import portlint, sys; print(portlint.__file__)"], cwd=tmp_path)
    assert result.returncode == 0, detail(result)
    location = Path(result.stdout.strip()).resolve()
    assert fresh_venv.resolve() in location.parents, location
    assert ROOT not in location.parents
    check = run([python, "-m", "pip", "check"], cwd=tmp_path)
    assert check.returncode == 0, detail(check)


def test_installed_console_script_answers_the_seed_question(fresh_venv, tmp_path):
    script = bin_path(fresh_venv, "portlint")
    assert script.is_file(), f"no console script in {script.parent}"
    version = run([script, "--version"], cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == "portlint 0.1.0", detail(version)
    # No torch, tensorflow or keras in this venv: static analysis needs none of them.
    result = run([script, "compare", SEED_KERAS, SEED_TORCH], cwd=tmp_path)
    assert result.returncode == 1, detail(result)
    assert "momentum=0.85" in result.stdout, detail(result)
    assert "Traceback" not in result.stdout + result.stderr
    listing = run([script, "rule"], cwd=tmp_path)
    assert listing.returncode == 0 and "batchnorm-momentum-mismatch" in listing.stdout, detail(listing)


def test_installed_module_entry_point(fresh_venv, tmp_path):
    python = bin_path(fresh_venv, "python")
    result = run([python, "-m", "portlint", "compare", SEED_TORCH, SEED_KERAS, "--format", "json"],
                 cwd=tmp_path)
    assert result.returncode == 1, detail(result)
    assert '"schema": "portlint/1"' in result.stdout


LIGHT_PROBE = r"""
import sys
{body}
heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))
print('HEAVY=' + ','.join(heavy))
"""

RUN_MAIN = """
sys.argv = ['portlint'] + {argv!r}
from portlint.cli import main
try:
    main()
except SystemExit:
    pass
"""


def probe_heavy(python: Path, body: str, cwd: Path) -> list[str]:
    result = run([python, "-c", LIGHT_PROBE.format(body=body, heavy=HEAVY)], cwd=cwd)
    assert result.returncode == 0, detail(result)
    line = [l for l in result.stdout.splitlines() if l.startswith("HEAVY=")][-1]
    return [m for m in line[len("HEAVY="):].split(",") if m]


@pytest.mark.parametrize("body", [
    "import portlint.cli",
    RUN_MAIN.format(argv=["--help"]),
    RUN_MAIN.format(argv=["--version"]),
    RUN_MAIN.format(argv=["rule"]),
    RUN_MAIN.format(argv=["rule", "batchnorm-momentum-mismatch"]),
], ids=["import", "help", "version", "rule-list", "rule-doc"])
def test_cli_stays_light_in_the_installed_package(fresh_venv, tmp_path, body):
    assert probe_heavy(bin_path(fresh_venv, "python"), body, tmp_path) == []


@pytest.mark.parametrize("body", [
    "import portlint.cli",
    RUN_MAIN.format(argv=["rule"]),
], ids=["import", "rule-list"])
def test_cli_stays_light_next_to_installed_frameworks(tmp_path, body):
    """The development venv has torch, tensorflow and keras: still none of them, nor libcst."""
    assert probe_heavy(Path(sys.executable), body, tmp_path) == []
