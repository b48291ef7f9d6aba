"""Start-up stays light (issue 7): what each command imports, checked in a fresh process.

`--help`, `--version` and `rule` import no libcst (nor rich, pydantic or a framework);
`compare` imports libcst, but no framework, numpy, pydantic, rich, `libcst.matchers` or
`libcst.codemod`. (`libcst.metadata` cannot be asserted away: `import libcst` imports it.)
The timings themselves are the benchmark's (bench/run.py), not the tests'.

Also: the rule catalogue that `portlint rule` reads without importing the rules matches the
rule classes; typer's plain help lists every command; and the converter of command-line
values that replaces typer's pydantic one agrees with it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT, SEED_KERAS, SEED_TORCH


# `python -m portlint ARGS`, then the names in sys.modules at exit, written to a file.
PROBE = r"""
import atexit, runpy, sys
out, args = sys.argv[1], sys.argv[2:]

def dump():
    with open(out, "w", encoding="utf-8") as stream:
        stream.write("\n".join(sorted(sys.modules)))

atexit.register(dump)
sys.argv = ["portlint", *args]
runpy.run_module("portlint", run_name="__main__", alter_sys=True)
"""

FRAMEWORKS = ("torch", "tensorflow", "keras", "numpy", "jax")
# What no command may import just to start: the frameworks, and what typer 0.29 would import
# for its Rich help (rich, markdown_it, pygments) and its pydantic value conversion.
NEVER = (*FRAMEWORKS, "pydantic", "pydantic_core", "rich", "markdown_it", "pygments")
LIGHT = (*NEVER, "libcst")  # --help, --version, rule
COMPARE = (*NEVER, "libcst.matchers", "libcst.codemod")


def imported(args: list, tmp_path: Path,
             cwd: Path = ROOT) -> tuple[subprocess.CompletedProcess, set[str]]:
    out = tmp_path / "modules.txt"
    env = {k: v for k, v in os.environ.items() if k != "PORTLINT_DEBUG"}
    result = subprocess.run([sys.executable, "-c", PROBE, str(out), *map(str, args)], cwd=cwd,
                            env=env, capture_output=True, text=True, timeout=120)
    assert out.is_file(), f"no module list\nstdout={result.stdout}\nstderr={result.stderr}"
    return result, set(out.read_text(encoding="utf-8").split())


def loaded(modules: set[str], forbidden: tuple[str, ...]) -> list[str]:
    """The forbidden packages (or their submodules) that were imported."""
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in forbidden))


@pytest.mark.parametrize("args", [
    ["--help"], ["-h"], ["--version"], ["rule"], ["rule", "PTL101"],
    ["rule", "unused-suppression"], ["rule", "static-dynamic-count-mismatch"],
    ["compare", "--help"], ["check", "--help"], ["verify", "--help"], ["rule", "--help"],
    ["server", "--help"],
], ids=" ".join)
def test_light_commands_import_no_libcst(args, tmp_path):
    result, modules = imported(args, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert loaded(modules, LIGHT) == []


def test_rule_list_imports_no_rule_module(tmp_path):
    result, modules = imported(["rule"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "PTL101  batchnorm-momentum-mismatch" in result.stdout
    rule_modules = sorted(m for m in modules if m.startswith("portlint.rules."))
    assert rule_modules == ["portlint.rules._catalogue", "portlint.rules.registry"]
    assert "portlint.rule" not in modules and "portlint.ir" not in modules


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_compare_imports_only_what_it_needs(fmt, tmp_path):
    result, modules = imported(["compare", SEED_KERAS, SEED_TORCH, "--format", fmt], tmp_path)
    assert result.returncode == 1, result.stderr  # the seed pair has findings
    if fmt == "json":
        assert json.loads(result.stdout)["findings"]
    else:
        assert "momentum=0.85" in result.stdout
    assert "libcst" in modules
    assert loaded(modules, COMPARE) == []


def test_check_imports_only_what_it_needs(tmp_path):
    work = tmp_path / "work"  # no configuration above it: whatever `check` writes stays here
    work.mkdir()
    for seed in (SEED_KERAS, SEED_TORCH):
        (work / seed.name).write_text(seed.read_text(encoding="utf-8"), encoding="utf-8")
    result, modules = imported(["check", "keras_model.py", "torch_model.py"], tmp_path,
                               cwd=work)
    assert result.returncode in (0, 1), result.stderr
    assert loaded(modules, COMPARE) == []


def test_bad_option_value_needs_no_pydantic(tmp_path):
    result, modules = imported(["compare", SEED_KERAS, SEED_TORCH, "--keras-version", "x"],
                               tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == ("portlint: Invalid value for '--keras-version': Input "
                                     "should be a valid integer, unable to parse string as an "
                                     "integer")
    assert loaded(modules, LIGHT) == []


# --------------------------------------------------------------------------- the help


def test_help_lists_every_command():
    from typer.main import get_command

    from portlint.cli import app

    result = subprocess.run([sys.executable, "-m", "portlint", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    commands = get_command(app).commands
    assert set(commands) == {"compare", "check", "verify", "rule", "server"}
    listed = result.stdout.split("Commands:", 1)[1]
    for name, command in commands.items():
        summary = command.get_short_help_str(limit=1000)
        assert f"  {name} " in listed, name
        # The whole summary, wrapped but not cut ("...").
        assert " ".join(summary.split()) in " ".join(listed.split()), name
    assert "..." not in listed
    assert "\\[" not in result.stdout  # no Rich markup escapes in the plain help


def test_no_arguments_print_the_help_and_exit_2():
    def run(*args):
        return subprocess.run([sys.executable, "-m", "portlint", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)

    alone, help_ = run(), run("--help")
    assert alone.returncode == 2 and alone.stderr == ""
    assert alone.stdout == help_.stdout and help_.stdout.startswith("Usage: portlint ")


@pytest.mark.parametrize("command", ["compare", "check", "verify", "rule", "server"])
def test_every_command_has_help(command):
    from typer.main import get_command

    from portlint.cli import app

    result = subprocess.run([sys.executable, "-m", "portlint", command, "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Usage: portlint {command} ")
    click_command = get_command(app).commands[command]
    first = click_command.help.strip().split("\n\n")[0]
    assert " ".join(first.split()) in " ".join(result.stdout.split())
    for param in click_command.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("-"):
                assert opt in result.stdout, (command, opt)
    assert "\\[" not in result.stdout


# --------------------------------------------------------------------------- the catalogue


def test_rule_catalogue_matches_the_rule_classes():
    from portlint.rules import CATALOGUE
    from portlint.rules.__main__ import generate

    from portlint.rules.registry import all_rules as catalogue, row

    rows = [tuple(info) for info in CATALOGUE]
    expected = [row(r) for r in catalogue()]
    assert rows == expected, "rules/_catalogue.py is out of date: run python -m portlint.rules"
    text = (ROOT / "rules" / "_catalogue.py").read_text(encoding="utf-8")
    assert generate() in text, "rules/_catalogue.py is out of date: run python -m portlint.rules"
    for info, rule in zip(CATALOGUE, catalogue()):
        assert info.load() is rule and info.doc == rule.doc


def test_all_rules_is_still_the_list_of_rule_classes():
    import portlint.rules as rules

    assert [r.code for r in rules.ALL_RULES] == sorted(r.code for r in rules.ALL_RULES)
    from_families = {r for family in rules.PAIR_FAMILIES for r in getattr(rules, family).RULES}
    assert set(rules.ALL_RULES) == from_families
    assert {r.code for r in rules.ALL_RULES} <= {info.code for info in rules.CATALOGUE}


# --------------------------------------------------------------------------- values


CLI_VALUES = ["3", " 3 ", "+3", "-0", "03", "1_0", "1_0_0", "3.0", "3.00", "1_000.0", "3.",
              ".0", "3.5", "1e3", "1.5e1", "0x10", "1__0", "_1", "3_", "- 3", "abc", "",
              "nan", "inf", "-inf", "infinity", "1e400", "1e-5", "\u0661\u0662", "\uff13",
              "true", "True", "FALSE", "yes", "no", "on", "off", "t", "f", "y", "n", "1", "0",
              "maybe", "json", "JSON", "sarif", "xml", " text"]


def test_value_converter_agrees_with_typer():
    """For what a command line can hold (strings) and portlint's defaults, the light
    converter gives typer's (pydantic's) value or error; a bad choice's message only loses
    pydantic's `Value error, ` prefix."""
    import math

    _coercion = pytest.importorskip("typer._coercion")
    from typer._click.exceptions import BadParameter
    from typer.models import OptionInfo

    from portlint import _cli_params
    from portlint.cli import Format

    assert _cli_params.install()
    import typer.core

    light = typer.core.build_runtime_param
    assert light is not _coercion.build_runtime_param

    def outcome(build, annotation, value, info=None):
        runtime = build(_coercion.resolve_type_descriptor(annotation, info or OptionInfo()))
        try:
            result = runtime._coerce_value(value, param=None, ctx=None)
        except BadParameter as exc:
            return "error", exc.format_message().replace("Value error, ", "")
        if isinstance(result, float) and math.isnan(result):
            result = "nan"
        return type(result).__name__, result

    defaults = {str: [], int: [0, 3, 8192], float: [300.0, 1e-5, 0.0001], bool: [False, True],
                Format: [Format.text], list[str]: [], list[int]: []}
    for annotation, values in defaults.items():
        for value in [*CLI_VALUES, *values]:
            if annotation in (list[str], list[int]):
                value = (value, "2")  # --select a --select 2
            expected = outcome(_coercion.build_runtime_param, annotation, value)
            assert outcome(light, annotation, value) == expected, (annotation, value)
    # Bounds (`--jobs` has min=0).
    for annotation, bounds in [(int, dict(min=0)), (int, dict(min=1, max=5)),
                               (float, dict(max=5)), (int, dict(min=0, clamp=True)),
                               (float, dict(min=0.5, max=2.5, clamp=True))]:
        for value in [*CLI_VALUES, "-1", "-4", "7", "2.0", 3, -4]:
            expected = outcome(_coercion.build_runtime_param, annotation, value,
                               OptionInfo(**bounds))
            assert outcome(light, annotation, value, OptionInfo(**bounds)) == expected, \
                (annotation, bounds, value)
