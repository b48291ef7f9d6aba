"""Applying fixes: `portlint compare --fix` (and `--unsafe-fixes`).

A `Fix` is a set of `Edit`s, each replacing a 1-based `Span` (columns count code points, as
`SourceFile.span` derives them from libcst's 0-based positions; lines end at \\n, \\r\\n or \\r,
as libcst's tokenizer splits them) with new text. `apply_fixes` applies the eligible fixes
of a list of findings to the files they are located in:

- a fix may only edit the file its finding is located in (so the original model is never
  changed by a finding about the port);
- within a file, fixes are taken in the order of the findings; a fix whose edits overlap an
  edit already accepted is skipped and left for the next run (`--fix` re-analyses and tries
  again). Identical edits are applied once; insertions at one point keep the findings' order;
- all accepted edits of a file are applied at once, against the original offsets, so no
  edit moves another; inserted text takes the file's newline style;
- the result must parse (libcst) and, when the original compiled, still compile (duplicate
  keywords, for instance). Otherwise the fixes are retried one by one and the ones that break
  the file are refused;
- files are written atomically (a temporary file in the same directory, named by
  `tempfiles`, then `os.replace`), keeping the mode, the UTF-8 byte order mark if any, and
  symlinks: a symlink whose target lies inside the project root (`root`) has its target
  written and stays a link; one whose target lies outside the project is not followed
  (the fix is refused with a warning). A read-only or changed-under-our-feet file is not
  written, and nothing is half-written;
- `write=False` (`--diff`, stdin) writes nothing: `FixReport.previews` holds each file's
  text before and after, and an editor overlay (`file_reads.set_overlay`) stands in for
  the file on disk, so that several passes can be previewed.

Nothing here imports or executes the analysed code (`compile` only compiles).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from . import tempfiles
from .errors import InputError
from .findings import Edit, Finding, Fix
from .source import decode_source

SAFE = "safe"
UNSAFE = "unsafe"

_NEWLINE = re.compile(r"\r\n|\r|\n")

# An edit resolved to character offsets in one file's text: [start, end) -> content.
_Resolved = tuple[int, int, str]


class _Stale(ValueError):
    """An edit's span does not exist in the file as it is now."""


@dataclass(frozen=True)
class Refusal:
    finding: Finding
    reason: str  # one line, e.g. "the fixed file would not parse: ..."


@dataclass
class FixReport:
    """What `apply_fixes` did. Paths are as the findings give them."""

    fixed: list[Finding] = field(default_factory=list)  # their fix is in the file now
    skipped: list[Finding] = field(default_factory=list)  # overlapped an applied fix: next run
    refused: list[Refusal] = field(default_factory=list)  # would break the file, or malformed
    hidden: list[Finding] = field(default_factory=list)  # unsafe fixes, not enabled
    files: dict[str, int] = field(default_factory=dict)  # file written -> fixes applied in it
    errors: list[str] = field(default_factory=list)  # files not read or not written, one line each
    previews: dict[str, tuple[str, str]] = field(default_factory=dict)  # write=False: path -> (before, after)

    @property
    def ok(self) -> bool:
        return not self.errors


def is_applicable(fix: Fix | None, *, unsafe: bool) -> bool:
    """Whether `--fix` applies `fix`: safe ones always, unsafe ones with `--unsafe-fixes`."""
    if fix is None:
        return False
    return fix.applicability == SAFE or (unsafe and fix.applicability == UNSAFE)


def apply_fixes(findings: Sequence[Finding], *, unsafe: bool = False, root: str | None = None,
                write: bool = True) -> FixReport:
    """Apply the fixes of `findings` (safe ones; unsafe ones too when `unsafe`) to their
    files. Earlier findings win overlaps. Never raises for I/O: a file that cannot be read
    or written is reported in `errors`, and then no file is written at all (a failure
    while writing, after every check passed, leaves only that file unchanged). `root` is
    the project's directory (default: the current one): a symlink to a file outside it is
    not written through. `write=False` only computes `previews`."""
    report = FixReport()
    project = os.path.realpath(root or os.getcwd())
    by_file: dict[str, list[Finding]] = {}
    shown: dict[str, str] = {}  # real path -> path as the findings give it
    for finding in findings:
        fix = finding.fix
        if fix is None:
            continue
        if not is_applicable(fix, unsafe=unsafe):
            if fix.applicability == UNSAFE:
                report.hidden.append(finding)
            continue
        if finding.location is None or not fix.edits:
            report.refused.append(Refusal(finding, "the fix has no location or no edits"))
            continue
        if finding.location.cell is not None or finding.location.path.endswith(".ipynb"):
            # Edits count lines of the joined code cells; writing them back into the
            # notebook's JSON is not implemented.
            report.refused.append(Refusal(finding, "fixes are not applied to notebooks"))
            continue
        home = _real(finding.location.path)
        if any(_real(edit.span.path) != home for edit in fix.edits):
            report.refused.append(Refusal(
                finding, f"the fix edits a file other than {finding.location.path}, "
                         f"where the finding is located"))
            continue
        outside = _link_out_of(finding.location.path, home, project)
        if outside:
            report.refused.append(Refusal(finding, outside))
            continue
        by_file.setdefault(home, []).append(finding)
        shown.setdefault(home, finding.location.path)

    planned: list[tuple[str, str, bytes, os.stat_result, list[Finding]]] = []
    for real, group in by_file.items():
        path = shown[real]
        try:
            data, st = _read(real, overlay=not write)
        except OSError as exc:
            report.errors.append(f"{path}: cannot read the file to fix it: {_reason(exc)}")
            continue
        try:  # in the file's own encoding (PEP 263), written back in it (a BOM stays)
            text, encoding = decode_source(data, path)
        except InputError as exc:
            report.errors.append(f"{exc}; not fixed")
            continue
        new_text, applied = _fix_text(path, text, group, report)
        if new_text != text and not write:
            report.previews[path] = (text, new_text)
        elif new_text != text:
            try:
                data_out = new_text.encode(encoding)
            except UnicodeEncodeError as exc:
                report.errors.append(f"{path}: the fixed text cannot be written in the file's "
                                     f"encoding {encoding} ({exc.reason}); not fixed")
                continue
            planned.append((real, path, data_out, st, applied))
        report.fixed += applied

    # Check every target before writing any: when one file cannot be read or written, no file
    # is changed, so that a multi-file run is never left half-fixed.
    for real, path, _, st, _ in planned:
        problem = _unwritable(real, st)
        if problem:
            report.errors.append(f"{path}: cannot apply fixes: {problem}")
    if report.errors:
        report.fixed = []  # all or nothing: no file is written
        return report
    for real, path, data_out, st, applied in planned:
        try:
            _write_atomically(real, data_out, st)
        except OSError as exc:
            report.errors.append(f"{path}: cannot write the fixed file: {_reason(exc)}; "
                                 f"the file is unchanged")
            lost = {id(f) for f in applied}
            report.fixed = [f for f in report.fixed if id(f) not in lost]
            continue
        report.files[path] = len(applied)
        _forget_parsed(real)
    return report


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """`text` with `edits` applied (all against the original positions). Raises
    `ValueError` when an edit lies outside the text or two edits overlap."""
    table = _line_table(text)
    newline = _newline_style(text)
    resolved = [_resolve(edit, table, newline) for edit in edits]
    for i, a in enumerate(resolved):
        for b in resolved[i + 1:]:
            if _conflict(a, b):
                raise ValueError(f"overlapping edits at offsets {a[0]} and {b[0]}")
    return _splice(text, resolved)


# --------------------------------------------------------------------------- one file


def _fix_text(path: str, text: str, group: list[Finding],
              report: FixReport) -> tuple[str, list[Finding]]:
    """Accept the non-overlapping fixes of one file and apply them; returns the new text and
    the findings whose fix it contains."""
    table = _line_table(text)
    newline = _newline_style(text)
    accepted: list[tuple[Finding, list[_Resolved]]] = []
    taken: list[_Resolved] = []
    for finding in group:
        assert finding.fix is not None
        try:
            edits = [_resolve(edit, table, newline) for edit in finding.fix.edits]
        except _Stale as exc:
            report.refused.append(Refusal(finding, f"{exc}; the file changed since it was "
                                                   f"analysed"))
            continue
        if any(_conflict(a, b) for i, a in enumerate(edits) for b in edits[i + 1:]):
            report.refused.append(Refusal(finding, "the fix's own edits overlap"))
            continue
        if any(_conflict(a, b) for a in edits for b in taken):
            report.skipped.append(finding)
            continue
        accepted.append((finding, edits))
        taken += edits
    if not accepted:
        return text, []

    checker = _Checker(path, text)
    new_text = _splice(text, taken)
    problem = checker.problem(new_text)
    if problem is None:
        return new_text, [finding for finding, _ in accepted]
    # Something in the batch breaks the file: keep the fixes that do not, one at a time.
    good: list[tuple[Finding, list[_Resolved]]] = []
    new_text = text
    for finding, edits in accepted:
        trial = _splice(text, [e for _, es in good for e in es] + edits)
        problem = checker.problem(trial)
        if problem is None:
            good.append((finding, edits))
            new_text = trial
        else:
            report.refused.append(Refusal(finding, problem))
    return new_text, [finding for finding, _ in good]


class _Checker:
    """Does a fixed text still parse (libcst) and, if the original compiled, compile?"""

    def __init__(self, path: str, original: str) -> None:
        self.path = path
        self.original = original
        self._original_compiles: bool | None = None

    def problem(self, text: str) -> str | None:
        import libcst as cst

        try:
            cst.parse_module(text)
        except Exception as exc:  # noqa: BLE001  ParserSyntaxError, RecursionError, any other: refuse
            detail = str(getattr(exc, "message", "") or exc).splitlines()
            line = getattr(exc, "raw_line", None)
            where = f" (line {line})" if line else ""
            return (f"the fixed file would not parse{where}: "
                    f"{detail[0] if detail else type(exc).__name__}")
        if self._original_compiles is None:
            self._original_compiles = _compile_error(self.original, self.path) is None
        if self._original_compiles:
            error = _compile_error(text, self.path)
            if error is not None:
                return f"the fixed file would not compile: {error}"
        return None


def _compile_error(text: str, path: str) -> str | None:
    """The SyntaxError `compile` (which only compiles, never runs) reports, if any."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes: not ours to show
        try:
            compile(text, path, "exec", dont_inherit=True)
        except SyntaxError as exc:
            return f"line {exc.lineno}: {exc.msg}"
        except (ValueError, RecursionError, MemoryError, OverflowError):
            return None  # cannot tell; libcst's parse already passed
    return None


# --------------------------------------------------------------------------- positions


def _line_table(text: str) -> list[tuple[int, int]]:
    """(offset of the line's first character, offset of its end before the newline) per
    line; a text ending in a newline has a last, empty line where the end of file is."""
    lines = []
    start = 0
    for match in _NEWLINE.finditer(text):
        lines.append((start, match.start()))
        start = match.end()
    lines.append((start, len(text)))
    return lines


def _newline_style(text: str) -> str:
    match = _NEWLINE.search(text)
    return match.group() if match else "\n"


def _offset(table: list[tuple[int, int]], line: int, column: int) -> int:
    if not 1 <= line <= len(table):
        raise _Stale(f"line {line} does not exist (the file has {len(table)})")
    start, end = table[line - 1]
    if not 1 <= column <= end - start + 1:
        raise _Stale(f"column {column} does not exist on line {line}")
    return start + column - 1


def _resolve(edit: Edit, table: list[tuple[int, int]], newline: str) -> _Resolved:
    span = edit.span
    start = _offset(table, span.line, span.column)
    end = _offset(table, span.end_line, span.end_column)
    if end < start:
        raise _Stale(f"the edit at {span.line}:{span.column} ends before it starts")
    content = _NEWLINE.sub(lambda _: newline, edit.content)
    return start, end, content


def _conflict(a: _Resolved, b: _Resolved) -> bool:
    """Whether two edits cannot both be applied. Identical edits are one edit; insertions
    at one point are applied in order; touching ranges are fine."""
    if a == b:
        return False
    (s1, e1, _), (s2, e2, _) = a, b
    if s1 == e1 and s2 == e2:
        return False
    if s1 == e1:
        return s2 < s1 < e2
    if s2 == e2:
        return s1 < s2 < e1
    return s1 < e2 and s2 < e1


def _splice(text: str, edits: Sequence[_Resolved]) -> str:
    """Apply non-conflicting edits, all positioned in the original `text`. Building the
    result left to right from the original is the same as applying the edits from the end
    of the file backwards: no edit shifts another's offsets."""
    unique: dict[_Resolved, int] = {}
    for edit in edits:
        unique.setdefault(edit, len(unique))
    ordered = sorted(unique, key=lambda e: (e[0], e[1], unique[e]))
    pieces: list[str] = []
    position = 0
    for start, end, content in ordered:
        pieces.append(text[position:start])
        pieces.append(content)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


# --------------------------------------------------------------------------- files


def _real(path: str) -> str:
    return os.path.realpath(path)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _link_out_of(path: str, real: str, project: str) -> str | None:
    """Why `path` is not written through, when it reaches `real` by a symlink and `real`
    lies outside the project directory; None when it may be written."""
    if os.path.abspath(path) == real:
        return None  # no symlink on the way: the file the user named
    if os.path.commonpath([real, project]) == project:
        return None  # a link within the project: its target is written, the link kept
    return (f"{path} is a symlink to {real}, outside the project ({project}); "
            f"not writing through it")


def _read(real: str, overlay: bool = False) -> tuple[bytes, os.stat_result | None]:
    from .file_reads import _OVERLAYS

    if overlay and real in _OVERLAYS:  # previewing: the text of an earlier pass, or stdin
        return _OVERLAYS[real].encode("utf-8", "surrogatepass"), None
    with open(real, "rb") as stream:
        st = os.fstat(stream.fileno())
        return stream.read(), st


def _unwritable(real: str, st: os.stat_result) -> str | None:
    # The mode bits too: root may write anything, but a file marked read-only stays so.
    if not stat.S_IMODE(st.st_mode) & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) \
            or not os.access(real, os.W_OK):
        return "the file is read-only"
    directory = os.path.dirname(real) or "."
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"its directory {directory} is not writable (fixes are written atomically " \
               f"via a temporary file there)"
    return None


def _write_atomically(real: str, data: bytes, st: os.stat_result) -> None:
    """Replace `real` by `data`: a temporary file in the same directory, then `os.replace`.
    Either the old or the new content is at `real`, never a mix; nothing is left behind."""
    handle, tmp = tempfiles.create(real)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        if hasattr(os, "chown"):
            tmp_st = os.stat(tmp)
            if (tmp_st.st_uid, tmp_st.st_gid) != (st.st_uid, st.st_gid):
                try:
                    os.chown(tmp, st.st_uid, st.st_gid)
                except OSError:
                    pass  # best effort: only root may give a file away
        now = os.stat(real)
        if (now.st_mtime_ns, now.st_size, now.st_ino) != (st.st_mtime_ns, st.st_size, st.st_ino):
            raise OSError(0, "the file changed while it was being fixed")
        os.replace(tmp, real)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _forget_parsed(real: str) -> None:
    """The cached parse of a file just rewritten is stale (see `source.forget`)."""
    from . import source

    source.forget(real)