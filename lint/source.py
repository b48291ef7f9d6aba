"""Reading and parsing one source file, once: the checks on what is read (size, bytes,
encoding), notebooks, and the cache of parsed files.

A `SourceFile` (source_file.py) owns the text and the libcst module of one path;
parsing.py parses within bounds; file_reads.py keeps digests, editor overlays and the log
of reads the result cache depends on. Their names are importable from here as before.
"""

from __future__ import annotations

import ast
import io
import os
import stat
import tokenize
from pathlib import Path
from typing import Any

from .errors import InputError, TooLargeError, UndecodableError
from .file_reads import (_OVERLAY_PARSED, _OVERLAYS, _READ_LOG, current_digest,  # noqa: F401
                         digest_of, display_path, note_read, recording_reads, remember_digest,
                         set_overlay, unsaved_text)
from .parsing import (CHUNK_CHARS, MAX_EXPRESSION_DEPTH, MAX_STATEMENT_BYTES,  # noqa: F401
                      parse_text)
from .source_file import LazySpan, SourceFile, _positions  # noqa: F401

# Model files are a few hundred KB at most (transformers' largest modeling files are
# about 300 KB). Parsing takes about 1.5 µs per byte of source and, while it runs, about
# 200 bytes of memory per byte (a 300 KB file peaks 70 MB above the process), so a
# generated 10 MB file would take ~2 GB and ~25 s. Larger files are not read: `compare`
# says so (exit 2), `check` reports them as not analysed.
MAX_BYTES = 1024 * 1024
# Parsed files are kept for reuse (a module imported by many files is parsed once) up to
# this much source text. A finished tree is far smaller than the parse's peak: about 30
# bytes of memory per byte of source (measured over 22 MB of transformers' modeling
# files), so this is ~60 MB at most. Smaller bounds made transformers' files parse
# `modeling_utils.py` (300 KB) again for each of their models.
MAX_CACHED_BYTES = 2 * 1024 * 1024


_PARSED: dict[tuple[str, int, int], SourceFile] = {}  # (path, mtime_ns, size) -> parsed file
# Files parsed for some models only (read_for_models), by (path, mtime_ns, size, models).
_PRUNED: dict[tuple, SourceFile] = {}
MAX_PRUNED_BYTES = 1024 * 1024


def evict_oldest(cache: dict[Any, Any], limit: int = MAX_CACHED_BYTES) -> None:
    """Drop the oldest entries of `cache` (values: SourceFile, or tuples starting with
    one) until their source text is within `limit`; the newest entry always stays."""
    def size(value: Any) -> int:
        return len((value[0] if isinstance(value, tuple) else value).text)

    total = sum(size(v) for v in cache.values())
    while total > limit and len(cache) > 1:
        total -= size(cache.pop(next(iter(cache))))


def forget(path: str) -> None:
    """Drop `path` from the cache (after portlint itself rewrote it: a same-size edit
    within the file system's timestamp granularity would otherwise read as unchanged)."""
    real = os.path.realpath(path)
    for cache in (_PARSED, _PRUNED):
        for key in [k for k in cache if os.path.realpath(k[0]) == real]:
            del cache[key]


def _record(source: SourceFile) -> SourceFile:
    note_read(source.path, source.digest)
    return source


def read_source(path: str) -> SourceFile:
    """Read and parse `path`, once per version of the file; every failure becomes an
    `InputError` with one line."""
    return _record(_read_source(path))


def read_for_models(path: str, models: tuple[str, ...]) -> SourceFile:
    """`path` parsed for extracting `models` only (pruning.py: the top-level definitions
    they cannot reach are not parsed), or the whole file where that cannot be decided
    (a notebook, an editor's unsaved text, a model that is not a top-level definition).
    The SourceFile's text is the file's; it is never shared with other readers: its scope
    lacks the definitions left out (frontend/loader.py does not share it)."""
    from .pruning import needed_text

    p = Path(path)
    if (not models or path.endswith(".ipynb") or unsaved_text(path) is not None
            or not p.is_file()):
        return read_source(path)
    stat_ = p.stat()
    key = (path, stat_.st_mtime_ns, stat_.st_size, models)
    source = _PRUNED.pop(key, None)
    if source is None:
        data, text = _read_text(p, path)
        pruned = needed_text(text, models)
        if pruned is None:
            return read_source(path)
        source = parse_text(path, pruned[0])
        source.text, source.line_map = text, pruned[1]
        source.digest = digest_of(data)
        source.memo["pruned"] = True
    _PRUNED[key] = source
    evict_oldest(_PRUNED, MAX_PRUNED_BYTES)
    return _record(source)


def _read_source(path: str) -> SourceFile:
    if _OVERLAYS:
        real = os.path.realpath(path)
        if real in _OVERLAYS:
            text = _OVERLAYS[real]
            refuse_large_text(path, text)  # an unsaved buffer gets the guard a file gets
            key = (real, hash(text))
            if key not in _OVERLAY_PARSED:
                for stale in [k for k in _OVERLAY_PARSED if k[0] == real]:
                    del _OVERLAY_PARSED[stale]  # one version per open document
                _OVERLAY_PARSED[key] = _parse_decoded(path, text)
                _OVERLAY_PARSED[key].digest = digest_of(text.encode("utf-8", "surrogatepass"))
            return _OVERLAY_PARSED[key]
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such file")
    if p.is_file():
        stat = p.stat()
        key = (path, stat.st_mtime_ns, stat.st_size)
        source = _PARSED.pop(key, None) or _read_and_parse(p, path)
        _PARSED[key] = source  # the most recently used last
        remember_digest(path, stat.st_mtime_ns, stat.st_size, source.digest)
        evict_oldest(_PARSED)
        return source
    return _read_and_parse(p, path)


def _read_and_parse(p: Path, path: str) -> SourceFile:
    data, text = _read_text(p, path)
    source = _parse_decoded(path, text)
    source.digest = digest_of(data)
    return source


def _read_text(p: Path, path: str) -> tuple[bytes, str]:
    if p.is_dir():
        raise InputError(f"{path}: is a directory, expected a Python file")
    require_regular_file(path)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise TooLargeError(path, too_large(size))
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if path.endswith(".ipynb"):  # JSON: UTF-8, whatever a cell declares
        try:
            return data, data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UndecodableError(path, f"not UTF-8 text ({exc.reason} at byte "
                                         f"{exc.start})", _line_at(data, exc.start)) from None
    return data, decode_source(data, path)[0]


def decode_source(data: bytes, path: str) -> tuple[str, str]:
    """The text of Python source and its encoding, as CPython reads it (PEP 263): a UTF-8
    BOM, else a coding declaration in the first two lines, else UTF-8. `--fix` writes the
    text back in that encoding. UndecodableError when the bytes are not text in it."""
    if b"\x00" in data:
        raise UndecodableError(path, "binary file (contains NUL bytes), expected Python "
                                     "source", _line_at(data, data.index(b"\x00")))
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # an unknown encoding, a BOM with another declaration
        reason = str(exc).replace(" for '<unknown>'", "")
        raise UndecodableError(path, reason, exc.lineno or 1) from None
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        shown = "UTF-8" if encoding in ("utf-8", "utf-8-sig") else encoding
        raise UndecodableError(path, f"not {shown} text ({exc.reason} at byte {exc.start})",
                               _line_at(data, exc.start)) from None


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


# What a path names when it is not a regular file or a directory: reading a FIFO waits for
# a writer, a device may never end, so none is ever opened.
_SPECIAL_FILES = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                  (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def require_regular_file(path: str) -> str:
    """`path`, unless it names a FIFO, a device or a socket (InputError, without opening
    it). A path that cannot be stat'ed passes: reading it says why."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return path
    for test, kind in _SPECIAL_FILES:
        if test(mode):
            raise InputError(f"{path}: {kind}, not a regular file; portlint reads only "
                             f"regular files")
    return path


def refuse_large_text(path: str, text: str) -> None:
    if len(text) > MAX_BYTES // 4:  # at most 4 bytes a character: smaller ones pass
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_BYTES:
            raise TooLargeError(path, too_large(size))


def too_large(size: int) -> str:
    return (f"too large to analyse ({size:,} bytes; portlint reads model files of up "
            f"to {MAX_BYTES // 1024:,} KiB)")


def peek_text(path: str) -> str | None:
    """The text of a Python file, for cheap tests before parsing; None if it is not one
    (a notebook, unreadable, not UTF-8: `read_source` then says why)."""
    if path.endswith(".ipynb"):
        return None
    unsaved = unsaved_text(path)
    if unsaved is not None:
        return unsaved
    try:
        require_regular_file(path)
        return decode_source(Path(path).read_bytes(), path)[0]
    except (OSError, InputError):
        return None


def scan_source(path: str) -> tuple[str, str]:
    """The text and digest of `path`, checked to be Python that parses, without building
    a libcst tree: for files that hold no model, where only a syntax error matters. The
    stdlib parser is about ten times faster than libcst's; where it rejects the text,
    libcst decides (`read_source`), so the outcome is the same. InputError as
    `read_source`."""
    if path.endswith(".ipynb") or not os.path.isfile(path) or unsaved_text(path) is not None:
        source = read_source(path)
        return source.text, source.digest
    data, text = _read_text(Path(path), path)
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        read_source(path)  # raises the InputError if libcst rejects the text too
    return text, digest_of(data)


def _parse_decoded(path: str, text: str) -> SourceFile:
    if path.endswith(".ipynb"):
        from .notebook import NotebookError, read_notebook

        try:
            code, cells = read_notebook(text)
        except NotebookError as exc:
            raise InputError(f"{path}: {exc}") from None
        source = parse_text(path, code, cells)
        return source
    return parse_text(path, text)
