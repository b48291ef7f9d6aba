"""The `portlint` command line (typer). Heavy imports happen inside the commands, so that
`--help`, `--version` and `rule` start fast."""

from __future__ import annotations

import os
import sys
from enum import Enum
from typing import List, Optional

import typer

from . import __version__

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Static analysis for Keras <-> PyTorch model ports.",
                  context_settings={"help_option_names": ["-h", "--help"]})


class Format(str, Enum):
    text = "text"
    json = "json"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"portlint {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Print the version and exit.")) -> None:
    """Static analysis for Keras <-> PyTorch model ports."""


def fail(message: str) -> None:
    typer.echo(f"portlint: {message}", err=True)
    raise typer.Exit(2)


def parse_shape(text: Optional[str]) -> Optional[tuple]:
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


def _split(values: Optional[List[str]]) -> tuple:
    out: list[str] = []
    for value in values or []:
        out += [v.strip() for v in value.split(",") if v.strip()]
    return tuple(out)


@app.command()
def compare(
    original: str = typer.Argument(..., help="The original model: PATH[::MODEL]."),
    port: str = typer.Argument(..., help="The port (findings point here): PATH[::MODEL]."),
    format: Format = typer.Option(Format.text, "--format", help="Output format."),
    select: Optional[List[str]] = typer.Option(None, "--select", help="Only these rules (names, codes or code prefixes)."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Skip these rules."),
    keras_version: int = typer.Option(3, "--keras-version", help="Keras major version of the Keras model: 2 or 3."),
    input_shape: Optional[str] = typer.Option(None, "--input-shape", help="Shape of one sample when the source does not say, e.g. 64,64,1."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when findings remain."),
    output_file: Optional[str] = typer.Option(None, "--output-file", help="Write the report to this file."),
) -> None:
    """Compare two models, one Keras and one PyTorch, in either order.

    Findings are located in the second model (the port) and name their counterpart in the
    first. Exit code 1 when a warning or error remains, 2 on bad input.
    """
    from .compare import Options
    from .compare import compare as run_compare
    from .errors import InputError
    from .findings import FAILING
    from .report import renderer

    if keras_version not in (2, 3):
        fail(f"--keras-version {keras_version}: expected 2 or 3")
    options = Options(keras_version=keras_version, input_shape=parse_shape(input_shape),
                      select=_split(select), ignore=_split(ignore))
    try:
        result = run_compare(original, port, options)
    except InputError as exc:
        fail(str(exc))
    except Exception as exc:  # never show users a traceback; PORTLINT_DEBUG=1 does
        if os.environ.get("PORTLINT_DEBUG"):
            raise
        detail = str(exc).splitlines()[0] if str(exc) else ""
        fail(f"internal error while comparing {original} and {port}: "
             f"{type(exc).__name__}: {detail} (please report; PORTLINT_DEBUG=1 shows details)")
    report = renderer(format.value)(result.findings, [result])
    _emit(report, output_file)
    failing = any(f.severity in FAILING for f in result.findings)
    raise typer.Exit(1 if failing and not exit_zero else 0)


def _emit(report: str, output_file: Optional[str]) -> None:
    if output_file is None:
        sys.stdout.write(report)
        return
    from pathlib import Path

    import tempfile

    target = Path(output_file)
    try:
        handle, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".portlint-tmp",
                                       dir=target.parent if str(target.parent) else ".")
    except OSError as exc:
        fail(f"--output-file {output_file}: {exc.strerror}")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(report)
        os.replace(tmp, target)
    except OSError as exc:
        os.unlink(tmp)
        fail(f"--output-file {output_file}: {exc.strerror}")


@app.command()
def rule(name: Optional[str] = typer.Argument(None, help="Rule name or code; none lists all rules.")) -> None:
    """Print a rule's documentation, or list all rules."""
    from .rules import ALL_RULES

    if name is None:
        for r in ALL_RULES:
            typer.echo(f"{r.code}  {r.name:<30} {r.severity:<8} {r.summary}")
        return
    for r in ALL_RULES:
        if name in (r.name, r.code) or name.upper() == r.code:
            typer.echo(f"# {r.name} ({r.code})\n\nDefault severity: {r.severity}. {r.summary}.\n"
                       f"{r.doc}")
            return
    fail(f"unknown rule {name!r}; `portlint rule` lists them")


def main() -> None:
    """Entry point: usage errors (click's, inside typer) become one line and exit 2."""
    try:
        code = app(prog_name="portlint", standalone_mode=False)
    except Exception as exc:
        # Duck-typed: typer may vendor click, so its exception classes vary by version.
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            message = exc.format_message().splitlines()
            typer.echo(f"portlint: {message[0] if message else type(exc).__name__}", err=True)
            sys.exit(2)
        if type(exc).__name__ == "Abort":
            typer.echo("portlint: aborted", err=True)
            sys.exit(2)
        raise
    sys.exit(code if isinstance(code, int) else 0)
