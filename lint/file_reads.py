"""What an analysis read: the digest of each file (from its stat while unchanged), an
editor's unsaved text standing in for a file (the language server), and the log of reads
the result cache keys a result on."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from typing import Any


_OVERLAYS: dict[str, str] = {}  # real path -> unsaved editor text (the language server)
_OVERLAY_PARSED: dict[tuple[str, int], Any] = {}  # (real path, hash) -> SourceFile


def set_overlay(path: str, text: str | None) -> None:
    """Read `path` as `text` instead of its content on disk (None: the disk again)."""
    real = os.path.realpath(path)
    if text is None:
        _OVERLAYS.pop(real, None)
    else:
        _OVERLAYS[real] = text
    for key in [k for k in _OVERLAY_PARSED if k[0] == real]:
        del _OVERLAY_PARSED[key]


def overlay_text(path: str) -> str | None:
    """The editor's unsaved text standing in for `path`, if any."""
    return _OVERLAYS.get(os.path.realpath(path)) if _OVERLAYS else None


# Files read while `recording_reads` is active: real path -> digest. The result cache
# stores them as what a file's result depends on (the file and the modules it imports).
_READ_LOG: list[dict[str, str]] = []


@contextlib.contextmanager
def recording_reads() -> Iterator[dict[str, str]]:
    log: dict[str, str] = {}
    _READ_LOG.append(log)
    try:
        yield log
    finally:
        # By identity: `remove` compares dicts by value, and an inner log equal to an
        # outer one (both empty) took the outer one's place (torchvision autoaugment.py).
        for index in range(len(_READ_LOG) - 1, -1, -1):
            if _READ_LOG[index] is log:
                del _READ_LOG[index]
                break


def note_read(path: str, digest: str) -> None:
    """Record that the analysis depends on `path` as it read with `digest` (also when a
    cached result of reading it is reused)."""
    for log in _READ_LOG:
        log[os.path.realpath(path)] = digest


# real path -> (mtime_ns, size, digest) of files read: `current_digest` needs no reading
# while a file's stat is unchanged.
_DIGESTS: dict[str, tuple[int, int, str]] = {}


def current_digest(path: str) -> str | None:
    """The digest `read_source(path)` would give now, without parsing (None if the file
    cannot be read); an editor's unsaved text counts."""
    real = os.path.realpath(path)
    if real in _OVERLAYS:
        return digest_of(_OVERLAYS[real].encode("utf-8", "surrogatepass"))
    try:
        stat = os.stat(real)
        known = _DIGESTS.get(real)
        if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        with open(real, "rb") as handle:
            digest = digest_of(handle.read())
    except OSError:
        return None
    _DIGESTS[real] = (stat.st_mtime_ns, stat.st_size, digest)
    return digest


def digest_of(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def display_path(path: str | os.PathLike) -> str:
    """How a path is shown: relative to the current directory when below it."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:  # another drive (Windows)
        return absolute
    return absolute if relative.startswith("..") else relative


def remember_digest(path: str, mtime_ns: int, size: int, digest: str) -> None:
    """The digest of `path` as read at this stat (`current_digest` then needs no read)."""
    _DIGESTS[os.path.realpath(path)] = (mtime_ns, size, digest)
