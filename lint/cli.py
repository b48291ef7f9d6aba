"""The `portlint` command line (typer). Heavy imports happen inside the commands, so that
`--help`, `--version` and `rule` start fast."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from . import __version__

if TYPE_CHECKING:  # the command imports them when it runs, to keep startup fast
    from .compare import Options, PairResult
    from .findings import Finding

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
def root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print the version and exit.")] = False,
         ) -> None:
    """Static analysis for Keras <-> PyTorch model ports."""


def fail(message: str) -> NoReturn:
    typer.echo(f"portlint: {message}", err=True)
    raise typer.Exit(2)


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
    format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.text,
    select: Annotated[list[str] | None, typer.Option("--select", help="Only these rules (names, codes or code prefixes).")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="Skip these rules.")] = None,
    keras_version: Annotated[int, typer.Option("--keras-version", help="Keras major version of the Keras model: 2 or 3.")] = 3,
    input_shape: Annotated[str | None, typer.Option("--input-shape", help="Shape of one sample when the source does not say, e.g. 64,64,1.")] = None,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when findings remain.")] = False,
    output_file: Annotated[str | None, typer.Option("--output-file", help="Write the report to this file.")] = None,
    fix: Annotated[bool, typer.Option("--fix", help="Apply safe fixes to the port (atomically; the result must parse), then report what remains.")] = False,
    unsafe_fixes: Annotated[bool, typer.Option("--unsafe-fixes", help="Also consider unsafe fixes: count them as fixable, and apply them with --fix.")] = False,
) -> None:
    """Compare two models, one Keras and one PyTorch, in either order.

    Findings are located in the second model (the port) and name their counterpart in the
    first. Exit code 1 when a warning or error remains, 2 on bad input.
    """
    from .compare import Options
    from .findings import FAILING
    from .report import renderer

    if keras_version not in (2, 3):
        fail(f"--keras-version {keras_version}: expected 2 or 3")
    options = Options(keras_version=keras_version, input_shape=parse_shape(input_shape),
                      select=_split(select), ignore=_split(ignore))
    result = _run_compare(original, port, options)
    fix_summary = None
    if fix:
        result, fix_summary = _fix(original, port, options, result, unsafe=unsafe_fixes)
    report = renderer(format.value)(result.findings, [result])
    if format is Format.text and not fix:
        report = _with_fix_hint(report, result.findings, unsafe=unsafe_fixes)
    _emit(report, output_file)
    if fix_summary:
        typer.echo(fix_summary, err=True)
    failing = any(f.severity in FAILING for f in result.findings)
    raise typer.Exit(1 if failing and not exit_zero else 0)


def _run_compare(original: str, port: str, options: Options) -> PairResult:
    from .compare import compare as run_compare
    from .errors import InputError

    try:
        return run_compare(original, port, options)
    except InputError as exc:
        fail(str(exc))
    except Exception as exc:  # never show users a traceback; PORTLINT_DEBUG=1 does
        if os.environ.get("PORTLINT_DEBUG"):
            raise
        detail = str(exc).splitlines()[0] if str(exc) else ""
        fail(f"internal error while comparing {original} and {port}: "
             f"{type(exc).__name__}: {detail} (please report; PORTLINT_DEBUG=1 shows details)")


MAX_FIX_PASSES = 10  # a fix skipped for overlapping another is retried on the next pass


def _fix(original: str, port: str, options: Options, result: PairResult, *,
         unsafe: bool) -> tuple[PairResult, str]:
    """`--fix`: apply fixes, analyse again, repeat while fixes apply (an overlapping fix
    waits for the next pass). Returns the last result and the one-line summary; a file
    that cannot be written ends the run with exit 2."""
    from .fixes import apply_fixes, is_applicable

    fixed = 0
    files: set[str] = set()
    warned: set[str] = set()
    exhausted = True
    for _ in range(MAX_FIX_PASSES):
        try:
            outcome = apply_fixes(result.findings, unsafe=unsafe)
        except Exception as exc:  # never a traceback; files are unchanged or fully written
            if os.environ.get("PORTLINT_DEBUG"):
                raise
            detail = str(exc).splitlines()[0] if str(exc) else ""
            fail(f"internal error while fixing {port}: {type(exc).__name__}: {detail} "
                 f"(please report; PORTLINT_DEBUG=1 shows details)")
        for refusal in outcome.refused:
            f, loc = refusal.finding, refusal.finding.location
            where = f"{loc.path}:{loc.line}:{loc.column}" if loc else "?"
            warning = f"portlint: warning: not applying the fix for {f.code} [{f.rule}] " \
                      f"at {where}: {refusal.reason}"
            if warning not in warned:
                warned.add(warning)
                typer.echo(warning, err=True)
        if outcome.errors:
            more = f" (and {len(outcome.errors) - 1} more)" if len(outcome.errors) > 1 else ""
            done = f"; {fixed} fix{'es' if fixed != 1 else ''} applied before" if fixed else ""
            fail(f"{outcome.errors[0]}{more}{done}")
        if not outcome.files:
            exhausted = False
            break
        fixed += sum(outcome.files.values())
        files.update(outcome.files)
        result = _run_compare(original, port, options)

    remaining = [f for f in result.findings if is_applicable(f.fix, unsafe=unsafe)]
    hidden = [f for f in result.findings
              if not unsafe and f.fix is not None and f.fix.applicability == "unsafe"]
    if fixed:
        head = (f"portlint: fixed {fixed} finding{'s' if fixed != 1 else ''} in {len(files)} "
                f"file{'s' if len(files) != 1 else ''}")
    else:
        head = "portlint: no fixes applied"
    notes = []
    if remaining and exhausted:
        notes.append(f"{len(remaining)} still fixable: run --fix again")
    elif remaining:
        notes.append(f"{len(remaining)} fix{'es' if len(remaining) != 1 else ''} could not be "
                     f"applied")
    if hidden:
        notes.append(f"{len(hidden)} remaining fixable with --unsafe-fixes")
    return result, head + (f" ({'; '.join(notes)})" if notes else "")


def _with_fix_hint(report: str, findings: Sequence[Finding], *, unsafe: bool) -> str:
    """The text report plus a `[*] N fixable with --fix` line just above its closing
    summary line (which stays last)."""
    safe = sum(1 for f in findings if f.fix is not None and f.fix.applicability == "safe")
    risky = sum(1 for f in findings if f.fix is not None and f.fix.applicability == "unsafe")
    if unsafe:
        hint = f"[*] {safe + risky} fixable with --fix" if safe + risky else ""
    elif safe:
        hint = f"[*] {safe} fixable with --fix"
        if risky:
            hint += f" ({risky} hidden fix{'es' if risky != 1 else ''} can be enabled with " \
                    f"--unsafe-fixes)"
    elif risky:
        hint = (f"[*] No fixes available with --fix ({risky} hidden fix"
                f"{'es' if risky != 1 else ''} can be enabled with --unsafe-fixes)")
    else:
        hint = ""
    if not hint:
        return report
    body, newline, last = report.rstrip("\n").rpartition("\n")
    if not newline:
        return f"{hint}\n{report}"
    return f"{body}\n{hint}\n{last}\n"


def _emit(report: str, output_file: str | None) -> None:
    if output_file is None:
        sys.stdout.write(report)
        return
    import tempfile
    from pathlib import Path

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
def rule(name: Annotated[str | None, typer.Argument(help="Rule name or code; none lists all rules.")] = None,
         ) -> None:
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
