"""The `portlint` command line (typer). Heavy imports happen inside the commands, so that
`--help`, `--version` and `rule` start fast (issue 7; tests/cli/test_startup.py checks what each
command imports):

- typer's plain help (`rich_markup_mode=None`), not its Rich help: with Rich installed,
  typer's default renders help through rich, markdown_it and pygments (~0.15 s);
- values are converted without pydantic (`_cli_params.install()`; typer 0.29 would import
  pydantic for every command given a value);
- `rule` reads the rule catalogue (`portlint.rules.CATALOGUE`), not the rule modules;
- typer builds only the command being run (`_app_for`);
- each command imports the analysis (libcst and the rest) only when it runs.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

from . import __version__, _cli_params
from ._cli_run import _emit, _fix, _guarded, _with_fix_hint, fail, say

_cli_params.install()

if TYPE_CHECKING:  # the command imports them when it runs, to keep startup fast
    from .compare import Options, PairResult
    from .config import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Static analysis for Keras <-> PyTorch model ports.",
                  context_settings={"help_option_names": ["-h", "--help"]},
                  rich_markup_mode=None, pretty_exceptions_enable=False)


class Format(str, Enum):
    text = "text"
    concise = "concise"
    json = "json"
    sarif = "sarif"
    github = "github"
    rdjson = "rdjson"


class Color(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


# The options several commands take with the same flag and help.
FormatOption = Annotated[Format, typer.Option("--format", help="Output format.")]
ExitZeroOption = Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when findings remain.")]
OutputFileOption = Annotated[str | None, typer.Option("--output-file", help="Write the report to this file.")]
KerasConfigOption = Annotated[str | None, typer.Option("--keras-config", metavar="JSON", help="Configuration of the Keras/TF side: an HF config.json or a JSON object of constructor arguments; a model built from its default configuration (Hugging Face style) takes these values.", show_default=False)]
TorchConfigOption = Annotated[str | None, typer.Option("--torch-config", metavar="JSON", help="Configuration of the PyTorch side, as --keras-config.", show_default=False)]
ColorOption = Annotated[Color, typer.Option("--color", help="Colour the text and concise reports: auto (on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it), always or never.")]
UnsafeFixesOption = Annotated[bool, typer.Option("--unsafe-fixes", help="Also consider unsafe fixes: count them as fixable, and apply them with --fix.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"portlint {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print the version and exit.")] = False,
         ) -> None:
    """Static analysis for Keras <-> PyTorch model ports."""


def parse_shape(text: str | None) -> tuple | None:
    if text is None:
        return None
    cleaned = text.strip().strip("()[]")
    try:
        dims = tuple(int(part) for part in cleaned.replace("x", ",").split(",") if part.strip())
    except ValueError:
        fail(f"--input-shape {text!r}: expected integers such as 64,64,1")
    if not dims or any(d <= 0 for d in dims):
        fail(f"--input-shape {text!r}: expected positive integers such as 64,64,1")
    return dims


def _split(values: list[str] | None) -> tuple:
    out: list[str] = []
    for value in values or []:
        out += [v.strip() for v in value.split(",") if v.strip()]
    return tuple(out)


@app.command()
def compare(
    original: Annotated[str, typer.Argument(help="The original model: PATH[::MODEL].")],
    port: Annotated[str, typer.Argument(help="The port (findings point here): PATH[::MODEL].")],
    format: FormatOption = Format.text,
    select: Annotated[list[str] | None, typer.Option("--select", help="Only these rules (names, codes or code prefixes).")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="Skip these rules.")] = None,
    keras_version: Annotated[int | None, typer.Option("--keras-version", help="Keras major version of the Keras model: 2 or 3 (default: the configuration's, else 3).", show_default=False)] = None,
    input_shape: Annotated[str | None, typer.Option("--input-shape", help="Shape of one sample when the source does not say, e.g. 64,64,1.")] = None,
    exit_zero: ExitZeroOption = False,
    output_file: OutputFileOption = None,
    fix: Annotated[bool, typer.Option("--fix", help="Apply safe fixes to the port (atomically; the result must parse), then report what remains.")] = False,
    unsafe_fixes: UnsafeFixesOption = False,
    config: Annotated[str | None, typer.Option("--config", help="Configuration file (default: the closest pyproject.toml with a [tool.portlint] table, or portlint.toml, above the port).")] = None,
    color: ColorOption = Color.auto,
    keras_config: KerasConfigOption = None,
    torch_config: TorchConfigOption = None,
) -> None:
    """Compare two models, one Keras and one PyTorch, in either order.

    Findings are located in the second model (the port) and name their counterpart in the
    first. Exit code 1 when a warning or error remains, 2 on bad input.
    """
    from .findings import FAILING
    from .report import colour, renderer

    if keras_version is not None and keras_version not in (2, 3):
        fail(f"--keras-version {keras_version}: expected 2 or 3")
    colour.enable(format.value in colour.COLOURED_FORMATS
                  and colour.wanted(color.value, None if output_file else sys.stdout))
    settings = _settings(config, port.partition("::")[0], select, ignore, keras_version,
                         model_configs=(keras_config, torch_config))
    options = settings.options(parse_shape(input_shape))
    result = _run_compare(original, port, options, settings)
    fix_summary = None
    if fix:
        root = str(settings.config.path.parent) if settings.config.path else None
        result, fix_summary, _ = _fix(port, result,
                                      lambda: _run_compare(original, port, options, settings),
                                      unsafe=unsafe_fixes, root=root)
    report = _guarded("writing the report",
                      lambda: renderer(format.value)(result.findings, [result]))
    if format is Format.text and not fix:
        report = _with_fix_hint(report, result.findings, unsafe=unsafe_fixes)
    _emit(report, output_file)
    if fix_summary:
        say(fix_summary)
    failing = any(f.severity in FAILING for f in result.findings)
    raise typer.Exit(1 if failing and not exit_zero else 0)


def _settings(config: str | None, start: str | None, select: list[str] | None,
              ignore: list[str] | None, keras_version: int | None,
              report_unused: bool = False,
              model_configs: tuple[str | None, str | None] = (None, None)) -> Settings:
    """The configuration (`--config`, else the closest to `start`) and the command line
    (`model_configs`: the `--keras-config` and `--torch-config` files)."""
    import dataclasses

    from .config import Settings, discover
    from .errors import InputError
    from .frontend.hf_config import read_overrides

    try:
        settings = Settings.make(discover(start, config), select=_split(select),
                                 ignore=_split(ignore), keras_version=keras_version,
                                 report_unused_suppressions=report_unused)
        keras_file, torch_file = model_configs
        return dataclasses.replace(
            settings,
            keras_config=read_overrides(keras_file, "--keras-config") if keras_file else None,
            torch_config=read_overrides(torch_file, "--torch-config") if torch_file else None)
    except InputError as exc:
        fail(str(exc))


def _model_configs(keras_file: str | None, torch_file: str | None) -> dict[str, str | None]:
    from .errors import InputError
    from .frontend.hf_config import read_overrides

    try:
        return {"keras_config": read_overrides(keras_file, "--keras-config") if keras_file else None,
                "torch_config": read_overrides(torch_file, "--torch-config") if torch_file else None}
    except InputError as exc:
        fail(str(exc))


def _run_compare(original: str, port: str, options: Options,
                 settings: Settings | None = None) -> PairResult:
    from .compare import compare as run_compare

    def run() -> PairResult:
        result = run_compare(original, port, options)
        if settings is not None:  # configuration and suppression comments
            from .check import finalize, pair_coverage

            result.findings = finalize(result.findings, settings,
                                       pair_coverage(result, settings))
        return result

    return _guarded(f"comparing {original} and {port}", run)


# short_help: the first paragraph of the docstring, which click would cut at ~45 columns
# in `portlint --help` (typer's Rich help printed it whole).
@app.command(short_help="Lint mode for pre-commit and CI: single-file rules on the given "
                        "files, `compare` on every configured or `# portlint: port-of` pair "
                        "that touches one of them.")
def check(
    paths: Annotated[list[str] | None, typer.Argument(help="Python files or directories; none: every configured pair.", show_default=False)] = None,
    format: FormatOption = Format.text,
    select: Annotated[list[str] | None, typer.Option("--select", help="Only these rules (names, codes or code prefixes); replaces the configured select.")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="Skip these rules (added to the configured ignore).")] = None,
    keras_version: Annotated[int | None, typer.Option("--keras-version", help="Keras major version of the Keras models: 2 or 3 (default: the configuration's, else 3).", show_default=False)] = None,
    config: Annotated[str | None, typer.Option("--config", help="Configuration file (default: the closest pyproject.toml with a [tool.portlint] table, or portlint.toml, above the first path, else above the current directory).")] = None,
    exit_zero: ExitZeroOption = False,
    output_file: OutputFileOption = None,
    fix: Annotated[bool, typer.Option("--fix", help="Apply safe fixes (atomically; the result must parse), then report what remains.")] = False,
    unsafe_fixes: UnsafeFixesOption = False,
    report_unused_suppressions: Annotated[bool, typer.Option("--report-unused-suppressions", help="Report `# noqa: PTL...` / `# portlint: ignore[...]` comments that suppress nothing (PTL902).")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes for many files (0: one per usable core; 1: none).", min=0)] = 0,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Analyse every file again; do not read or write the result cache.")] = False,
    cache_dir: Annotated[str | None, typer.Option("--cache-dir", help="Result cache folder (default: .portlint_cache beside the configuration file, else in the current directory; env PORTLINT_CACHE_DIR).", show_default=False)] = None,
    color: ColorOption = Color.auto,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the findings: no summary, no fix hint, no progress bar.")] = False,
    statistics: Annotated[bool, typer.Option("--statistics", help="Instead of the findings, how many of each rule (JSON with --format json).")] = False,
    show_fixes: Annotated[bool, typer.Option("--show-fixes", help="List the fixes applied (with --fix) or available, per file and rule.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Print the fixes --fix would apply as a unified diff, write nothing; exit 1 when there is a change.")] = False,
    stdin_filename: Annotated[str | None, typer.Option("--stdin-filename", metavar="PATH", help="With `-` as the path: the source comes from stdin and PATH names it (report, configuration, file type); with --fix the fixed source goes to stdout.", show_default=False)] = None,
    keras_config: KerasConfigOption = None,
    torch_config: TorchConfigOption = None,
) -> None:
    """Lint mode for pre-commit and CI: single-file rules on the given files, `compare` on
    every configured or `# portlint: port-of` pair that touches one of them.

    No paths: every configured pair; `-`: the source on stdin. Exit code 1 when a warning
    or error remains (--diff: when a fix would change a file), 2 on bad input or a bad
    configuration; 0 when no Python file was given.
    """
    from ._cli_check import CheckOptions, run

    if keras_version is not None and keras_version not in (2, 3):
        fail(f"--keras-version {keras_version}: expected 2 or 3")
    run(CheckOptions(list(paths or []), format.value, config, select, ignore, keras_version,
                     exit_zero, output_file, fix, unsafe_fixes, report_unused_suppressions,
                     jobs, no_cache, cache_dir, color.value, quiet, statistics, show_fixes,
                     diff, stdin_filename, keras_config, torch_config))


def _run_check(paths: list[str], settings: Settings, jobs: int = 1, cache=None, progress=None):
    from .check import check as run_check

    return _guarded("checking", lambda: run_check(paths, settings, jobs, cache, progress))


def _result_cache(settings: Settings, folder: str | None):
    """`.portlint_cache` beside the configuration file (the project's root), else in the
    current directory; `--cache-dir` or PORTLINT_CACHE_DIR choose another folder."""
    from pathlib import Path

    from .cache import CACHE_DIR_NAME, ResultCache, settings_key

    folder = folder or os.environ.get("PORTLINT_CACHE_DIR")
    if not folder:
        root = settings.config.path.parent if settings.config.path else Path.cwd()
        folder = str(root / CACHE_DIR_NAME)
    return ResultCache(folder, settings_key(settings))


@app.command()
def verify(
    original: Annotated[str, typer.Argument(help="The original model: PATH[::MODEL].")],
    port: Annotated[str, typer.Argument(help="The port (static findings point here): PATH[::MODEL].")],
    format: FormatOption = Format.text,
    select: Annotated[list[str] | None, typer.Option("--select", help="Only these rules (names, codes or code prefixes).")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="Skip these rules.")] = None,
    keras_version: Annotated[int, typer.Option("--keras-version", help="Keras major version of the Keras model: 2 or 3.")] = 3,
    input_shape: Annotated[str | None, typer.Option("--input-shape", help="Shape of one sample when the source does not say, e.g. 64,64,1.")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds each model's code may run (after the framework is imported).")] = 300.0,
    memory_limit: Annotated[int, typer.Option("--memory-limit", help="Megabytes of address space each model's code may add to the imported framework (RLIMIT_AS); 0: no limit.")] = 8192,
    exit_zero: ExitZeroOption = False,
    output_file: OutputFileOption = None,
    numeric: Annotated[bool, typer.Option("--numeric", help="Also copy the original's weights into the port along the alignment and compare the outputs layer by layer (both models built with real weights).")] = False,
    tolerance: Annotated[float, typer.Option("--tolerance", help="--numeric: absolute tolerance; outputs agree when |port - original| <= tolerance + rtol * |original|.")] = 1e-5,
    rtol: Annotated[float, typer.Option("--rtol", help="--numeric: relative tolerance.")] = 1e-4,
    seed: Annotated[int, typer.Option("--seed", help="--numeric: seed of the weight initialisation, the randomised biases and statistics, and the input.")] = 0,
    emit_mapping: Annotated[str | None, typer.Option("--emit-mapping", metavar="FILE", help="Write the weight mapping --numeric used as a standalone Python script (implies --numeric).")] = None,
    allow_downloads: Annotated[bool, typer.Option("--allow-downloads", help="Let the model code reach the network (blocked by default: verify never needs pretrained weights).")] = False,
    keras_config: KerasConfigOption = None,
    torch_config: TorchConfigOption = None,
) -> None:
    """Build both models in isolated subprocesses and check the counts.

    Runs `compare`, then imports each model's file in a worker subprocess (timeout,
    memory limit; torch on the meta device, Keras 3 without allocating weights), counts
    parameters and buffers per layer, and reconciles them with the static extraction
    (PTL704 static-dynamic-count-mismatch) and across the frameworks. With --numeric,
    both models are built with real weights in one worker, the original's weights are
    copied into the port and the outputs compared layer by layer. Exit code 1 when a
    warning or error remains or --numeric finds the outputs different, 2 on bad input or
    when a model cannot be built.
    """
    from .dynamic.verify import VerifyOptions
    from .findings import FAILING

    if keras_version not in (2, 3):
        fail(f"--keras-version {keras_version}: expected 2 or 3")
    if not timeout > 0:
        fail(f"--timeout {timeout:g}: expected a positive number of seconds")
    if memory_limit < 0:
        fail(f"--memory-limit {memory_limit}: expected megabytes (0 for no limit)")
    if not tolerance >= 0 or not rtol >= 0:
        fail(f"--tolerance {tolerance:g} / --rtol {rtol:g}: expected numbers >= 0")
    if emit_mapping is not None:
        target = os.path.dirname(os.path.abspath(emit_mapping))
        if not os.path.isdir(target):
            fail(f"--emit-mapping {emit_mapping}: the directory {target} does not exist")
        numeric = True
    options = VerifyOptions(keras_version=keras_version, input_shape=parse_shape(input_shape),
                            select=_split(select), ignore=_split(ignore), timeout=timeout,
                            memory_limit_mb=memory_limit or None, numeric=numeric,
                            atol=tolerance, rtol=rtol, seed=seed, allow_downloads=allow_downloads,
                            **_model_configs(keras_config, torch_config))
    result = _run_verify(original, port, options)
    if emit_mapping is not None:
        from .dynamic.verify import write_mapping
        from .errors import InputError

        try:
            write_mapping(result, emit_mapping)
        except InputError as exc:
            fail(str(exc))
    from .dynamic.report import render_json, render_text

    if format is Format.json:
        report = render_json(result)
    elif format is Format.text:
        report = render_text(result)
    else:  # formats that describe findings only (PTL704 included)
        from .report import renderer

        report = _guarded("writing the report",
                          lambda: renderer(format.value)(result.findings, [result.pair]))
    _emit(report, output_file)
    failing = any(f.severity in FAILING for f in result.findings) or result.failing
    raise typer.Exit(1 if failing and not exit_zero else 0)


def _run_verify(original: str, port: str, options):
    from .dynamic.verify import verify as run_verify

    return _guarded(f"verifying {original} and {port}",
                    lambda: run_verify(original, port, options))


@app.command()
def rule(name: Annotated[str | None, typer.Argument(help="Rule name or code; none lists all rules.")] = None,
         ) -> None:
    """Print a rule's documentation, or list all rules."""
    # The catalogue, not the rule classes: listing imports no rule module, and a rule's
    # documentation imports the one module that defines it (`r.doc`).
    from .rules import CATALOGUE

    if name is None:
        for r in CATALOGUE:
            typer.echo(f"{r.code}  {r.name:<30} {r.severity:<8} {r.summary}")
        return
    for r in CATALOGUE:
        if name in (r.name, r.code) or name.upper() == r.code:
            typer.echo(f"# {r.name} ({r.code})\n\nDefault severity: {r.severity}. {r.summary}.\n"
                       f"{r.doc}")
            return
    fail(f"unknown rule {name!r}; `portlint rule` lists them")


@app.command(short_help="Run the language server over stdio (diagnostics and quick fixes in "
                        "editors).")
def server() -> None:
    """Run the language server over stdio (diagnostics and quick fixes in editors)."""
    try:
        from .server import main as serve
    except ImportError as exc:
        fail(f"the language server needs pygls ({exc.name} is missing): "
             f"pip install 'portlint[server]'")
    serve()


def _app_for(args: Sequence[str]) -> typer.Typer:
    """`app`, or when `args` start with a command's name, `app` with that command only:
    typer builds the click command of every registered command, their parameters and
    converters included, on each run (~10 ms that `portlint compare` does not need)."""
    if args:
        chosen = [c for c in app.registered_commands if args[0] == (
            c.name or getattr(c.callback, "__name__", "").replace("_", "-"))]
        if chosen:
            only = copy.copy(app)
            only.registered_commands = chosen
            return only
    return app


def main() -> None:
    """Entry point: usage errors (click's, inside typer) become one line and exit 2."""
    from .workers import tune_garbage_collector

    tune_garbage_collector()
    try:
        code = _app_for(sys.argv[1:])(prog_name="portlint", standalone_mode=False)
    except Exception as exc:
        # Duck-typed: typer may vendor click, so its exception classes vary by version.
        if type(exc).__name__ == "NoArgsIsHelpError":  # `portlint` alone: the help, exit 2
            typer.echo(exc.format_message())
            sys.exit(2)
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            message = exc.format_message().splitlines()
            say(f"portlint: {message[0] if message else type(exc).__name__}")
            sys.exit(2)
        if type(exc).__name__ == "Abort":
            typer.echo("portlint: aborted", err=True)
            sys.exit(2)
        raise
    sys.exit(code if isinstance(code, int) else 0)
