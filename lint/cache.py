"""`.portlint_cache`: the per-file results of `check`, reused while nothing they depend
on has changed.

One JSON entry per analysed file, named by the SHA-1 of its real path, holding:

- the key: the file's content digest, the engine fingerprint (portlint's version and its
  own source files, so that an edited checkout never reuses stale results) and the
  settings the per-file analysis depends on (Keras version, selected single-file rules);
- the digest of every other file the analysis read (the project modules it followed
  through imports): an entry is reused only if each still has that content;
- the outcome (findings, declared pairs, warnings, or the input error).

JSON, not pickle: the cache lives in the project tree, and loading a pickle someone
committed there would run code. Entries are written atomically (a temporary file, then
`os.replace`), so a crash or two concurrent runs leave either the old entry or the new
one; an unreadable entry, or one of the wrong shape (cache_entry.py), is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .cache_entry import valid_entry
from .findings import Edit, Finding, Fix, Related
from .ir import Span

CACHE_DIR_NAME = ".portlint_cache"
FORMAT = 1

_fingerprint: str | None = None


def engine_fingerprint() -> str:
    """portlint's version plus the size and modification time of each of its source
    files (a stat per file, no reading)."""
    global _fingerprint
    if _fingerprint is None:
        from . import __version__
        from .rules import __file__ as rules_init

        parts = [__version__, str(FORMAT)]
        for root in (Path(__file__).parent, Path(rules_init).parent):
            for path in sorted(root.rglob("*.py")):
                stat = path.stat()
                parts.append(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}")
        _fingerprint = hashlib.sha1("\n".join(parts).encode()).hexdigest()
    return _fingerprint


def settings_key(settings: Any) -> str:
    """What of the configuration a file's own analysis depends on: the Keras version and
    the single-file rules selected. (Pairs, severities, ignores and suppressions are
    applied to the results on every run, so changing them needs no new analysis.)"""
    from .rule import FileRule
    from .rules.registry import pair_rules

    codes = sorted(r.code for r in pair_rules() if issubclass(r, FileRule) and settings.selected(r))
    key = f"keras={settings.keras_version};rules={','.join(codes)}"
    configs = (getattr(settings, "keras_config", None), getattr(settings, "torch_config", None))
    return key + (f";configs={configs!r}" if any(configs) else "")


class ResultCache:
    """Entries under `directory` for one engine fingerprint and one set of settings."""

    def __init__(self, directory: str | os.PathLike, settings_key: str) -> None:
        self.directory = Path(directory)
        self.key = hashlib.sha1(f"{engine_fingerprint()}\n{settings_key}".encode()).hexdigest()
        self._digests: dict[str, str | None] = {}  # real path -> current digest, per run
        # False: entries are written, never read (`--fix` applies only fixes it computed).
        self.reuse = True
        self.hits = 0
        self.misses = 0

    def digest(self, path: str) -> str | None:
        """The SHA-1 of a file's bytes now (None if it cannot be read), once per run."""
        real = os.path.realpath(path)
        if real not in self._digests:
            try:
                self._digests[real] = hashlib.sha1(Path(real).read_bytes()).hexdigest()
            except OSError:
                self._digests[real] = None
        return self._digests[real]

    def _entry_path(self, path: str) -> Path:
        name = hashlib.sha1(os.path.realpath(path).encode("utf-8", "surrogateescape")).hexdigest()
        return self.directory / name[:2] / f"{name[2:]}.json"

    def get(self, path: str) -> dict[str, Any] | None:
        """The stored outcome for `path` (as shown), if its key and every dependency
        still match."""
        digest = self.digest(path) if self.reuse else None
        try:
            entry = json.loads(self._entry_path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            entry = None
        # The shape first (cache_entry.py): a wrong type is a miss, never an error.
        if (digest is None or not valid_entry(entry, path) or entry["key"] != self.key
                or entry["digest"] != digest
                or any(self.digest(dep) != dep_digest
                       for dep, dep_digest in entry.get("deps", {}).items())):
            self.misses += 1
            return None
        self.hits += 1
        return entry["outcome"]

    def put(self, path: str, deps: dict[str, str], outcome: dict[str, Any]) -> None:
        """Store the outcome of analysing `path`; `deps` maps the real path of every
        file read to the digest of what was read. Skipped if the file changed meanwhile."""
        digest = deps.get(os.path.realpath(path)) or self.digest(path)
        if digest != self.digest(path) or outcome.get("error"):
            return  # changed meanwhile; or an input error, which is found again at once
        entry = {"key": self.key, "shown": path, "digest": digest,
                 "deps": {p: d for p, d in deps.items() if p != os.path.realpath(path)},
                 "outcome": outcome}
        target = self._entry_path(path)
        try:
            self._prepare(target.parent)
            fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(entry, out, separators=(",", ":"))
            os.replace(temporary, target)
        except OSError:
            pass  # a read-only tree: no cache, same results

    def _prepare(self, folder: Path) -> None:
        if not self.directory.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            # Like other tools' caches: ignored by git, skipped by backup tools.
            (self.directory / ".gitignore").write_text("# created by portlint\n*\n")
            (self.directory / "CACHEDIR.TAG").write_text(
                "Signature: 8a477f597d28d172789f06886806bc55\n"
                "# This file is a cache directory tag created by portlint.\n")
        folder.mkdir(exist_ok=True)


# --- findings as JSON data, losslessly --------------------------------------------------


def span_data(span: Span | None) -> list | None:
    if span is None:
        return None
    return [span.path, span.line, span.column, span.end_line, span.end_column,
            span.cell, span.cell_line, span.cell_end_line]


def span_from(data: list | None) -> Span | None:
    return None if data is None else Span(*data)


def finding_data(finding: Finding) -> dict[str, Any]:
    fix = finding.fix
    return {"code": finding.code, "rule": finding.rule, "severity": finding.severity,
            "message": finding.message, "location": span_data(finding.location),
            "related": [[span_data(r.span), r.message] for r in finding.related],
            "fix": None if fix is None else {
                "applicability": fix.applicability, "title": fix.title,
                "edits": [[span_data(e.span), e.content] for e in fix.edits]}}


def finding_from(data: dict[str, Any]) -> Finding:
    fix = data["fix"]
    return Finding(code=data["code"], rule=data["rule"], severity=data["severity"],
                   message=data["message"], location=span_from(data["location"]),
                   related=[Related(span_from(span), message) for span, message in data["related"]],
                   fix=None if fix is None else Fix(
                       fix["applicability"],
                       tuple(Edit(span_from(span), content) for span, content in fix["edits"]),
                       fix["title"]))
