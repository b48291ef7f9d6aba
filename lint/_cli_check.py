"""`portlint check` once its options are read: stdin (`check -`), the progress bar, `--fix`
and its previews (`--diff`, stdin), and the report's variants (`--statistics`,
`--show-fixes`, `--quiet`, colour). cli.py declares the options; this runs them.

- stdin: `check -` (or `--stdin-filename PATH` and no path) reads the source from stdin;
  PATH names it in the report and decides the configuration (the closest to PATH),
  `exclude`, `per-file-ignores`, the file type and where `# portlint: port-of` paths are
  relative to. The file at PATH, if any, is not read. With `--fix` the fixed source goes
  to stdout and the report to stderr, and no file is written;
- `--diff`: the fixes `--fix` would apply, as a unified diff (`a/PATH`, `b/PATH`, for
  `patch -p1`) on stdout; nothing is written; exit 1 when there is a change, else 0;
- the progress bar (lint/progress.py) runs on stderr while files are analysed.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from ._cli_run import FixLog, _emit, _fix, _guarded, _with_fix_hint, fail, say

if TYPE_CHECKING:
    from .findings import Finding


@dataclass
class CheckOptions:
    paths: list[str]
    format: str
    config: str | None
    select: list[str] | None
    ignore: list[str] | None
    keras_version: int | None
    exit_zero: bool
    output_file: str | None
    fix: bool
    unsafe_fixes: bool
    report_unused_suppressions: bool
    jobs: int
    no_cache: bool
    cache_dir: str | None
    color: str = "auto"
    quiet: bool = False
    statistics: bool = False
    show_fixes: bool = False
    diff: bool = False
    stdin_filename: str | None = None
    keras_config: str | None = None  # --keras-config file
    torch_config: str | None = None


def run(o: CheckOptions) -> None:
    from .check import STDIN
    from .cli import _result_cache, _run_check, _settings
    from .file_reads import set_overlay
    from .findings import FAILING
    from .progress import Progress
    from .report import colour, renderer

    paths = list(o.paths)
    use_stdin = STDIN in paths or (not paths and o.stdin_filename is not None)
    stdin_text, bom = "", ""
    if use_stdin:
        if paths not in ([], [STDIN]):
            fail("`-` (read the source from stdin) must be the only path")
        shown = o.stdin_filename or STDIN
        stdin_text, bom = read_stdin(shown)
        set_overlay(shown, stdin_text)
        paths, o.jobs, o.no_cache = [shown], 1, True
    elif o.stdin_filename is not None:
        fail("--stdin-filename names the source read from stdin: give `-` as the path")
    fixed_source = use_stdin and o.fix and not o.diff  # the source goes to stdout
    report_stream = sys.stderr if fixed_source else (None if o.output_file else sys.stdout)
    colour.enable(o.format in colour.COLOURED_FORMATS and not o.diff
                  and colour.wanted(o.color, report_stream))

    settings = _settings(o.config, paths[0] if paths else None, o.select, o.ignore,
                         o.keras_version, o.report_unused_suppressions,
                         model_configs=(o.keras_config, o.torch_config))
    cache = None if o.no_cache else _result_cache(settings, o.cache_dir)
    if cache is not None and (o.fix or o.diff):
        cache.reuse = False  # the fixes applied are computed now, never read from the tree
    with Progress(active=False if o.quiet or use_stdin else None) as progress:
        result = _run_check(paths, settings, o.jobs, cache, progress)
    for warning in result.warnings:
        say(warning)
    if not result.files and not result.pairs:
        if not paths:
            typer.echo("portlint: warning: nothing to check: no paths given and no pairs "
                       "configured", err=True)
        if fixed_source:  # not Python, or excluded: the source unchanged
            _write_source(bom + stdin_text)
            raise typer.Exit(0)
        if o.format == "text" or o.diff:
            raise typer.Exit(0)  # e.g. pre-commit handed over no Python file: no output

    log, fix_summary = FixLog(), None
    if o.fix or o.diff:
        preview = o.diff or fixed_source
        root = str(settings.config.path.parent) if settings.config.path else os.getcwd()

        def rerun():  # previewing: in this process, no cache (it reads the disk), so that
            # the fixed texts, overlays, are what is analysed
            fresh = None if o.no_cache or preview else _result_cache(settings, o.cache_dir)
            return _run_check(paths, settings, 1 if preview else o.jobs, fresh)

        result, fix_summary, log = _fix("the checked files", result, rerun,
                                        unsafe=o.unsafe_fixes, root=root, write=not preview,
                                        verb="fixed" if fixed_source else None)
    failing = any(f.severity in FAILING for f in result.findings)

    if o.diff:
        _emit(unified_diff(log), o.output_file)
        _tell(o, fix_summary, log, result.findings, to_stderr=True)
        raise typer.Exit(1 if log.changed() and not o.exit_zero else 0)

    report = _guarded("writing the report", lambda: _report(o, result, renderer))
    if fixed_source:
        fixed = [text for path, text in log.after.items()
                 if os.path.realpath(path) == os.path.realpath(paths[0])]
        _write_source(bom + (fixed[-1] if fixed else stdin_text))
        sys.stderr.write(report)
        _tell(o, fix_summary, log, result.findings, to_stderr=True)
    else:
        to_stderr = o.format not in ("text", "concise") or o.statistics
        if o.show_fixes and not to_stderr:
            report += show_fixes(log.fixed if o.fix else _fixable(result.findings),
                                 "Fixed" if o.fix else None)
        _emit(report, o.output_file)
        _tell(o, fix_summary, log, result.findings, to_stderr=to_stderr, listed=not to_stderr)
    raise typer.Exit(1 if failing and not o.exit_zero else 0)


def _report(o: CheckOptions, result, renderer) -> str:
    from .report import statistics

    if o.statistics:
        if o.format == "json":
            return statistics.render_json(result.findings)
        return statistics.render_text(result.findings, summary=not o.quiet)
    # The text report of `check` leaves out the aligned tables: findings and the summary.
    pairs = [] if o.format == "text" else result.pairs
    report = renderer(o.format)(result.findings, pairs)
    if o.quiet and o.format in ("text", "concise"):
        return without_summary(report, result.findings)
    if o.format == "text" and not o.fix:
        report = _with_fix_hint(report, result.findings, unsafe=o.unsafe_fixes)
    return report


def _tell(o: CheckOptions, fix_summary: str | None, log: FixLog,
          findings: Sequence[Finding], *, to_stderr: bool, listed: bool = False) -> None:
    """The fix summary line and, unless the report already has it, `--show-fixes`'s list,
    on stderr (never inside a machine-readable report or a diff)."""
    if o.show_fixes and not listed:
        text = show_fixes(log.fixed if (o.fix or o.diff) else _fixable(findings),
                          "Would fix" if o.diff else "Fixed" if o.fix else None)
        sys.stderr.write(text)
    if fix_summary and not o.quiet:
        say(fix_summary)


def _write_source(text: str) -> None:
    """The (fixed) source on stdout, byte for byte: its newlines and encoding kept."""
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8", "surrogatepass"))
    sys.stdout.buffer.flush()


def read_stdin(shown: str) -> tuple[str, str]:
    """The source on stdin, checked as `read_source` checks a file (size, NUL, UTF-8),
    and its byte order mark ("" or "\\ufeff"), which the fixed source keeps."""
    from .source import MAX_BYTES, too_large

    data = sys.stdin.buffer.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        fail(f"{shown} (stdin): {too_large(len(data))}")
    if b"\x00" in data:
        fail(f"{shown} (stdin): binary input (contains NUL bytes), expected Python source")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(f"{shown} (stdin): not UTF-8 text ({exc.reason} at byte {exc.start})")
    return text, "\ufeff" if data.startswith(b"\xef\xbb\xbf") else ""


def unified_diff(log: FixLog) -> str:
    """Each changed file's fixes as a unified diff, `a/PATH` -> `b/PATH` (`patch -p1`)."""
    out: list[str] = []
    for path in log.changed():
        lines = difflib.unified_diff(log.before[path].splitlines(keepends=True),
                                     log.after[path].splitlines(keepends=True),
                                     fromfile=f"a/{path}", tofile=f"b/{path}")
        for line in lines:
            if not line.endswith(("\n", "\r")):  # the last line has no newline
                line += "\n\\ No newline at end of file\n"
            out.append(line)
    return "".join(out)


def without_summary(report: str, findings: Sequence[Finding]) -> str:
    """`--quiet`: the report without its closing summary and fix-hint lines."""
    from .report import summary_line

    lines = report.rstrip("\n").split("\n")
    while lines and (lines[-1] == summary_line(findings) or lines[-1].startswith("[*] ")
                     or not lines[-1]):
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def _fixable(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.fix is not None and f.fix.applicability == "safe"]


def show_fixes(findings: Sequence[Finding], done: str | None) -> str:
    """`--show-fixes`: the fixes `done` ("Fixed", "Would fix") or, with None, available
    to `--fix`, per file and rule, Ruff's way."""
    if not findings:
        return "\nNo fixes applied.\n" if done else "\nNo fixes available.\n"
    by_file: dict[str, dict[tuple[str, str], int]] = {}
    for f in findings:
        where = f.location.path if f.location else "<unknown>"
        per_rule = by_file.setdefault(where, {})
        per_rule[(f.code, f.rule)] = per_rule.get((f.code, f.rule), 0) + 1
    n = len(findings)
    out = [f"\n{done} {n} finding{'s' if n != 1 else ''}:" if done else "\nFixable with --fix:"]
    for path in sorted(by_file):
        out.append(f"- {path}:")
        for (code, rule), count in sorted(by_file[path].items()):
            out.append(f"    {count} x {code} ({rule})")
    return "\n".join(out) + "\n"
