"""Static mode never executes the analysed code; `verify`, which does by design, runs it
only in worker subprocesses it can stop (SPEC "Guarantees"; issue 7).

Every place where Python would run code of a model file writes a marker file when run:
module level, class bodies, metaclasses and `__init_subclass__`, default arguments,
decorators, `__init__`/`build`/`forward`, properties, the `if __name__ == "__main__":`
block, sibling modules imported absolutely and relatively, the package's `__init__.py`,
and the arguments of a `PATH::NAME(ARGS)` reference. Each is written in several spellings
(`open`, `os.system`, `__import__("os")`, `subprocess`, `exec`/`eval`, `pathlib`,
`importlib`). The project is run through `compare`, `check` (given files, a directory,
configured pairs, `# portlint: port-of`), `--fix` on both, and `rule`: no marker may
appear, and no file may be added (no `__pycache__`) or changed except by `--fix`.

tests/cli/test_cli_errors.py::test_analysed_code_is_never_executed covers `compare` on a
flat pair; tests/dynamic/test_verify.py covers the verify timeout, memory limit and that the
parent imports neither a framework nor the user's code. Here: the rest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import cli_env, portlint, shown, write



def tree(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` and its content, but check's result cache (which,
    like Ruff's, lives in `.portlint_cache/` and holds JSON only)."""
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*"))
            if p.is_file() and ".portlint_cache" not in p.relative_to(directory).parts}


# --------------------------------------------------------------------------- the project

# `touch(name)` in each file is a one-liner on purpose: calling it would run it.
PRELUDE = '''\
import importlib
import os
import pathlib
import subprocess

MARKERS = <<markers>>


def touch(name):
    open(os.path.join(MARKERS, name), "w").write("executed")
    return 1
'''

KERAS_MODEL = PRELUDE + '''
from keras import Input, Model, layers

from .helper_rel import relative_width  # a relative import: the package's __init__ too
from helper_abs import absolute_width  # an absolute import of a sibling
from .sub import blocks  # a subpackage
import pkg.sub.blocks as blocks_again

touch("keras_module_level")
os.system("touch " + os.path.join(MARKERS, "keras_os_system"))
__import__("os").system("touch " + os.path.join(MARKERS, "keras_dunder_import"))
subprocess.run(["touch", os.path.join(MARKERS, "keras_subprocess")])
exec("open(MARKERS + '/keras_exec', 'w').write('x')")
eval("open(MARKERS + '/keras_eval', 'w')")
pathlib.Path(MARKERS, "keras_pathlib").write_text("executed")
importlib.import_module("helper_abs")
getattr(__builtins__, "open", open)(os.path.join(MARKERS, "keras_getattr_open"), "w")
WIDTH = f"{__import__('os').system('touch ' + MARKERS + '/keras_fstring')}"
LAMBDA = (lambda: touch("keras_lambda"))()
try:
    touch("keras_try")
except Exception:
    touch("keras_except")
finally:
    touch("keras_finally")


def decorate(function):
    touch("keras_decorator")
    return function


@decorate
def build_model(units=touch("keras_default_argument"), width=relative_width(8)):
    touch("keras_build")
    inputs = Input(shape=(8, 8, 1))
    x = layers.Conv2D(4, 3, padding="same")(inputs)
    x = layers.BatchNormalization()(x)  # momentum 0.99, epsilon 1e-3
    x = layers.Flatten()(x)
    outputs = layers.Dense(2)(x)
    return Model(inputs, outputs)


if __name__ == "__main__":
    touch("keras_main")
'''

TORCH_MODEL = PRELUDE + '''
import torch.nn as nn

from . import helper_rel
from .helper_rel import relative_width
from helper_abs import absolute_width
from .sub.blocks import block


class Evil(type):
    def __new__(mcs, name, bases, namespace):
        touch("torch_metaclass")
        return super().__new__(mcs, name, bases, namespace)


class Base(nn.Module):
    def __init_subclass__(cls, **kwargs):
        touch("torch_init_subclass")
        super().__init_subclass__(**kwargs)


def decorate(cls):
    touch("torch_class_decorator")
    return cls


@decorate
class Net(Base):
    touch("torch_class_body")
    WIDTH = __import__("os").system("touch " + MARKERS + "/torch_class_attribute")

    def __init__(self, width=touch("torch_default_argument"), depth=absolute_width(2)):
        super().__init__()
        os.system("touch " + os.path.join(MARKERS, "torch_init"))
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)  # momentum 0.1 and eps 1e-5: two safe fixes
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(256, 2)
        self.extra = block(touch("torch_init_argument"))

    @property
    def scale(self):
        touch("torch_property")
        return 1

    @staticmethod
    def helper(x=touch("torch_static_default")):
        return x

    def forward(self, x):
        touch("torch_forward")
        x = x * self.scale
        return self.fc(self.flatten(self.bn(self.conv(x))))


class Meta(nn.Module, metaclass=Evil):
    def __init__(self):
        super().__init__()
        self.net = Net()

    def forward(self, x):
        return self.net(x)


if __name__ == "__main__":
    touch("torch_main")
'''

HELPER = PRELUDE + '''
touch("<<name>>_module_level")
__import__("subprocess").run(["touch", MARKERS + "/<<name>>_subprocess"])


def <<function>>(value):
    touch("<<name>>_function")
    return value
'''

BLOCKS = PRELUDE + '''
import torch.nn as nn

touch("sub_blocks_module_level")


def block(width):
    touch("sub_blocks_function")
    return nn.Identity()
'''


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    """(project directory, marker directory): a package `pkg` with the hostile models,
    helpers and subpackage, a portlint.toml pairing them, and a `# portlint: port-of`
    copy of the port."""
    markers = tmp_path / "markers"
    markers.mkdir()
    proj = tmp_path / "proj"
    pkg = proj / "pkg"
    m = str(markers)
    write(pkg / "__init__.py", render(PRELUDE, markers=m) + 'touch("pkg_init")\n')
    write(pkg / "keras_model.py", render(KERAS_MODEL, markers=m))
    write(pkg / "torch_model.py", render(TORCH_MODEL, markers=m))
    write(pkg / "helper_rel.py", render(HELPER, markers=m, name="helper_rel",
                                        function="relative_width"))
    write(pkg / "helper_abs.py", render(HELPER, markers=m, name="helper_abs",
                                        function="absolute_width"))
    write(pkg / "sub" / "__init__.py", render(PRELUDE, markers=m) + 'touch("sub_init")\n')
    write(pkg / "sub" / "blocks.py", render(BLOCKS, markers=m))
    write(pkg / "inline_port.py", "# portlint: port-of keras_model.py::build_model\n"
          + render(TORCH_MODEL, markers=m))
    write(proj / "portlint.toml",
          'pairs = [{keras = "pkg/keras_model.py::build_model", torch = "pkg/torch_model.py::Net"}]\n')
    # Modules a careless `import` of the analysed project's directory would pick up.
    for name in ("typer", "libcst", "tomllib", "keras", "torch"):
        write(proj / f"{name}.py", render(PRELUDE, markers=m) + f'touch("shadow_{name}")\n')
    return proj, markers


def render(template: str, **values: str) -> str:
    """`template` with each `<<key>>` replaced by repr(value) for markers, else value."""
    for key, value in values.items():
        template = template.replace(f"<<{key}>>", repr(value) if key == "markers" else value)
    return template


def assert_nothing_ran(markers: Path) -> None:
    ran = sorted(os.listdir(markers))
    assert ran == [], f"analysed code ran: {ran}"


def analysed(result: subprocess.CompletedProcess) -> None:
    assert result.returncode in (0, 1), shown(result)
    assert "Traceback" not in result.stdout + result.stderr, shown(result)
    assert "internal error" not in result.stderr, shown(result)


# --------------------------------------------------------------------------- static mode

STATIC_RUNS = {
    "compare": ["compare", "pkg/keras_model.py::build_model", "pkg/torch_model.py::Net"],
    "compare_reversed": ["compare", "pkg/torch_model.py::Net", "pkg/keras_model.py::build_model"],
    "compare_wrapper_model": ["compare", "pkg/keras_model.py", "pkg/torch_model.py::Meta"],
    "compare_sarif": ["compare", "pkg/keras_model.py", "pkg/torch_model.py::Net", "--format", "sarif"],
    "compare_arguments": ["compare", "pkg/keras_model.py",
                          "pkg/torch_model.py::Net(width=__import__('os').system('touch ' + "
                          "MARKERS + '/reference_arguments'), depth=touch('reference_call'))"],
    "check_files": ["check", "pkg/keras_model.py", "pkg/torch_model.py", "pkg/helper_rel.py",
                    "--format", "json"],
    "check_directory": ["check", ".", "--format", "json"],
    "check_configured_pairs": ["check", "--format", "json"],
    "check_inline_port_of": ["check", "pkg/inline_port.py", "--format", "json"],
    "check_report_unused_suppressions": ["check", "pkg", "--report-unused-suppressions"],
}


@pytest.mark.parametrize("name", list(STATIC_RUNS))
def test_static_commands_never_run_the_code(name: str, project) -> None:
    proj, markers = project
    before = tree(proj)
    # The console script: the project's directory is not on sys.path (python -m: below).
    result = portlint(*STATIC_RUNS[name], cwd=proj, script=True)
    analysed(result)
    assert_nothing_ran(markers)
    assert tree(proj) == before, "no __pycache__, no new or changed file"


@pytest.mark.parametrize("command", ["compare", "check"])
def test_fix_never_runs_the_code(command: str, project) -> None:
    proj, markers = project
    port = proj / "pkg" / "torch_model.py"
    origin_before = (proj / "pkg" / "keras_model.py").read_bytes()
    args = (["compare", "pkg/keras_model.py::build_model", "pkg/torch_model.py::Net"]
            if command == "compare" else ["check", "pkg/torch_model.py"])
    result = portlint(*args, "--fix", "--unsafe-fixes", cwd=proj, script=True)
    analysed(result)
    assert "fixed" in result.stderr, shown(result)  # the BN momentum, at least
    assert "nn.BatchNorm2d(4, momentum=0.01, eps=0.001)" in port.read_text(encoding="utf-8")
    assert_nothing_ran(markers)
    assert (proj / "pkg" / "keras_model.py").read_bytes() == origin_before
    assert not list(proj.rglob("__pycache__"))


@pytest.mark.parametrize("args", [["rule"], ["rule", "PTL101"], ["--version"], ["--help"]],
                         ids=["rule-list", "rule-doc", "version", "help"])
def test_documentation_commands_import_nothing_from_the_project(args, project) -> None:
    proj, markers = project
    result = portlint(*args, cwd=proj, script=True)
    assert result.returncode == 0, shown(result)
    assert_nothing_ran(markers)



@pytest.mark.parametrize("args", [["rule", "PTL101"],
                                  ["compare", "pkg/keras_model.py", "pkg/torch_model.py::Net"]],
                         ids=["rule", "compare"])
def test_python_dash_m_imports_nothing_from_the_current_directory(args, project) -> None:
    proj, markers = project
    result = portlint(*args, cwd=proj)
    assert result.returncode in (0, 1), shown(result)
    assert_nothing_ran(markers)


def test_the_markers_do_fire_when_python_runs_the_code(project) -> None:
    """The other tests would pass vacuously if the markers were broken: Python importing
    the models (against stub frameworks) and building them writes them."""
    proj, markers = project
    for name in ("keras", "torch"):
        (proj / f"{name}.py").unlink()
    write(proj / "keras" / "__init__.py", """\
        def Input(*args, **kwargs):
            return None


        def Model(*args, **kwargs):
            return None


        class _Layers:
            def __getattr__(self, name):
                return lambda *args, **kwargs: (lambda *args, **kwargs: None)


        layers = _Layers()
        """)
    write(proj / "torch" / "__init__.py", "")
    write(proj / "torch" / "nn.py", """\
        class Module:
            def __init__(self):
                pass


        def __getattr__(name):
            return lambda *args, **kwargs: None
        """)
    code = ("import pkg.keras_model as k, pkg.torch_model as t\n"
            "k.build_model(); t.Net().forward(None) if False else t.Meta(); t.Net().scale\n")
    env = {**cli_env(), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(proj / "pkg")}
    result = subprocess.run([sys.executable, "-c", code], cwd=proj, capture_output=True,
                            text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    ran = set(os.listdir(markers))
    expected = {"pkg_init", "sub_init", "sub_blocks_module_level", "sub_blocks_function",
                "helper_rel_module_level", "helper_rel_subprocess", "helper_rel_function",
                "helper_abs_module_level", "helper_abs_function",
                "keras_module_level", "keras_os_system", "keras_dunder_import",
                "keras_subprocess", "keras_exec", "keras_eval", "keras_pathlib",
                "keras_getattr_open", "keras_fstring", "keras_lambda", "keras_try",
                "keras_finally", "keras_decorator", "keras_default_argument", "keras_build",
                "torch_metaclass", "torch_init_subclass", "torch_class_decorator",
                "torch_class_body", "torch_class_attribute", "torch_default_argument",
                "torch_static_default", "torch_init", "torch_init_argument",
                "torch_property"}
    assert expected <= ran, sorted(expected - ran)


# --------------------------------------------------------------------------- verify

KERAS_PID = '''\
import os

from keras import Input, Model, layers

with open({record!r}, "a") as out:
    out.write(f"keras {{os.getpid()}} {{os.getppid()}}\\n")


def build():
    inputs = Input(shape=(4,))
    return Model(inputs, layers.Dense(2)(inputs))
'''

TORCH_PID = '''\
import os

import torch.nn as nn

with open({record!r}, "a") as out:
    out.write(f"torch {{os.getpid()}} {{os.getppid()}}\\n")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)
'''


@pytest.mark.slow  # verify builds the real models
def test_verify_runs_the_models_in_child_processes(tmp_path: Path) -> None:
    record = tmp_path / "pids.txt"
    models = tmp_path / "models"
    write(models / "keras_model.py", KERAS_PID.format(record=str(record)))
    write(models / "torch_model.py", TORCH_PID.format(record=str(record)))
    before = tree(models)
    proc = subprocess.Popen([sys.executable, "-m", "portlint", "verify", "keras_model.py",
                             "torch_model.py"], cwd=models, env=cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode in (0, 1), f"rc={proc.returncode}\n{out[-2000:]}\n{err}"
    seen = {}
    for line in record.read_text(encoding="utf-8").splitlines():
        framework, pid, parent = line.split()
        seen.setdefault(framework, set()).add((int(pid), int(parent)))
    assert set(seen) == {"keras", "torch"}, seen
    pids = {pid for entries in seen.values() for pid, _ in entries}
    assert proc.pid not in pids, "a model was built in the CLI's own process"
    assert all(parent == proc.pid for entries in seen.values() for _, parent in entries), (
        f"workers are the CLI's children: cli={proc.pid} {seen}")
    assert len(pids) == 2, f"each model in its own worker: {seen}"
    assert tree(models) == before, "the worker writes no __pycache__ into the user's tree"


SPAWNING_PORT = '''\
import os
import subprocess
import sys
import time

import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        # A grandchild that outlives this process unless its whole group is killed.
        child = subprocess.Popen([sys.executable, "-c",
                                  "import time; time.sleep({delay}); open({marker!r}, 'w')"])
        with open({pid_file!r}, "w") as out:
            out.write(str(child.pid))
        time.sleep(10 ** 6)  # never returns: the timeout has to stop it
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)
'''


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.slow  # verify builds the real models
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_verify_timeout_kills_what_the_model_started(tmp_path: Path) -> None:
    """tests/dynamic/test_verify.py::test_timeout shows a sleeping constructor ends in exit 2; the
    processes the user's code started must end with it (the worker's process group)."""
    models = tmp_path / "models"
    marker, pid_file = tmp_path / "grandchild_ran", tmp_path / "grandchild.pid"
    delay = 8
    write(models / "keras_model.py", KERAS_PID.format(record=str(tmp_path / "unused.txt")))
    write(models / "torch_model.py", SPAWNING_PORT.format(delay=delay, marker=str(marker),
                                                          pid_file=str(pid_file)))
    start = time.monotonic()
    result = portlint("verify", "keras_model.py", "torch_model.py", "--timeout", "3",
                      cwd=models, timeout=600)
    assert result.returncode == 2, shown(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "did not finish within 3 s" in lines[0], shown(result)
    assert pid_file.exists(), "the constructor did not run: the test proves nothing"
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(grandchild), "the model's child process survived the timeout"
    # Had it survived, it would have written the marker `delay` s after it started.
    time.sleep(max(0.0, start + delay + 2 - time.monotonic()))
    assert not marker.exists()
