"""What the commands share once they have a result: errors as one line, `--fix` passes,
the fix hint of the text report, and writing the report (`--output-file`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from .findings import Finding


def say(line: str) -> None:
    """One line on stderr; what it quotes (paths, names) is shown escaped (lint/escape.py)."""
    from .escape import terminal

    typer.echo(terminal(line), err=True)


def fail(message: str) -> NoReturn:
    say(f"portlint: {message}")
    raise typer.Exit(2)


_R = TypeVar("_R")  # what a command computes: PairResult, CheckResult, VerifyResult


def _guarded(what: str, action: Callable[[], _R]) -> _R:
    """Run `action`: an input error is one line and exit 2; anything else is reported as
    an internal error, never a traceback (PORTLINT_DEBUG=1 shows it)."""
    from .errors import InputError

    try:
        return action()
    except InputError as exc:
        fail(str(exc))
    except Exception as exc:
        if os.environ.get("PORTLINT_DEBUG"):
            raise
        detail = str(exc).splitlines()[0] if str(exc) else ""
        fail(f"internal error while {what}: {type(exc).__name__}: {detail} "
             f"(please report; PORTLINT_DEBUG=1 shows details)")


MAX_FIX_PASSES = 10  # a fix skipped for overlapping another is retried on the next pass


@dataclass
class FixLog:
    """What the `--fix` passes did: the findings whose fix was applied, and with
    `write=False` each changed file's text before the first pass and after the last."""

    fixed: list["Finding"] = field(default_factory=list)
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)

    def changed(self) -> list[str]:
        return [path for path in self.after if self.after[path] != self.before[path]]


def _fix(what: str, result: _R, rerun: Callable[[], _R], *, unsafe: bool,
         root: str | None = None, write: bool = True,
         verb: str | None = None) -> tuple[_R, str, FixLog]:
    """`--fix`: apply the fixes of `result.findings`, analyse again with `rerun`, repeat
    while fixes apply (an overlapping fix waits for the next pass). Returns the last
    result, the one-line summary and the log; a file that cannot be written ends the run
    with exit 2. `what` names what is fixed in an internal-error message. `root`: the
    project directory (symlinks out of it are not written through). `write=False`
    (`--diff`, stdin) writes no file: each pass's text stands in for the file (an
    overlay) for the next analysis, which `rerun` must do in this process; the summary
    says `verb` ("fixed"; "would fix" when not writing)."""
    from .file_reads import set_overlay
    from .fixes import apply_fixes, is_applicable

    log = FixLog()
    files: set[str] = set()
    warned: set[str] = set()
    exhausted = True
    for _ in range(MAX_FIX_PASSES):
        # Files are unchanged or fully written whatever happens.
        outcome = _guarded(f"fixing {what}", partial(apply_fixes, result.findings,
                                                     unsafe=unsafe, root=root, write=write))
        for refusal in outcome.refused:
            f, loc = refusal.finding, refusal.finding.location
            where = f"{loc.path}:{loc.line}:{loc.column}" if loc else "?"
            warning = f"portlint: warning: not applying the fix for {f.code} [{f.rule}] " \
                      f"at {where}: {refusal.reason}"
            if warning not in warned:
                warned.add(warning)
                say(warning)
        if outcome.errors:
            fixed = len(log.fixed)
            more = f" (and {len(outcome.errors) - 1} more)" if len(outcome.errors) > 1 else ""
            done = f"; {fixed} fix{'es' if fixed != 1 else ''} applied before" if fixed else ""
            fail(f"{outcome.errors[0]}{more}{done}")
        for path, (before, after) in outcome.previews.items():
            log.before.setdefault(path, before)
            log.after[path] = after
            set_overlay(path, after)
            outcome.files[path] = sum(1 for f in outcome.fixed if f.location.path == path)
        if not outcome.files:
            exhausted = False
            break
        log.fixed += [f for f in outcome.fixed if f.location.path in outcome.files]
        files.update(outcome.files)
        result = rerun()

    fixed = len(log.fixed)
    remaining = [f for f in result.findings if is_applicable(f.fix, unsafe=unsafe)]
    hidden = [f for f in result.findings
              if not unsafe and f.fix is not None and f.fix.applicability == "unsafe"]
    verb = verb or ("fixed" if write else "would fix")
    if fixed:
        head = (f"portlint: {verb} {fixed} finding{'s' if fixed != 1 else ''} in {len(files)} "
                f"file{'s' if len(files) != 1 else ''}")
    else:
        head = f"portlint: no fixes {'applied' if write else 'available'}"
    notes = []
    if remaining and exhausted:
        notes.append(f"{len(remaining)} still fixable: run --fix again")
    elif remaining:
        notes.append(f"{len(remaining)} fix{'es' if len(remaining) != 1 else ''} could not be "
                     f"applied")
    if hidden:
        notes.append(f"{len(hidden)} remaining fixable with --unsafe-fixes")
    return result, head + (f" ({'; '.join(notes)})" if notes else ""), log


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
    from pathlib import Path

    from .tempfiles import create

    target = Path(output_file)
    try:
        handle, tmp = create(str(target))
    except OSError as exc:
        fail(f"--output-file {output_file}: {exc.strerror}")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(report)
        os.replace(tmp, target)
    except OSError as exc:
        os.unlink(tmp)
        fail(f"--output-file {output_file}: {exc.strerror}")
