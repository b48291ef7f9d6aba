"""`portlint check [PATHS...]`: lint mode for pre-commit, CI and editors.

For the Python files among PATHS (directories are walked for `*.py`; `exclude` applies to
both):

- every configured pair (`[tool.portlint] pairs`) that has a side among the files, and
  every pair a given file declares with `# portlint: port-of PATH[::MODEL]` (the file is
  the port, PATH is relative to it), is compared; the other side is read from disk;
- the single-file rules run on every model of the files that no compared pair covers.

No PATHS: every configured pair. A given file that is not Python (a README handed over
by pre-commit) is skipped; a Python file that does not parse is an input error (exit 2);
one that is not text in its encoding (PEP 263) is reported as not checked, and the run
goes on; a Python file without a model is fine. `finalize` then merges the findings of all pairs
and files (the same finding once) and applies the selection, `per-file-ignores`, the
`severity` overrides and the suppression comments; `compare` uses it too.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import ir
from .compare import PairResult, compare, declared_input
from .config import DEFAULT_EXCLUDE_DIRS, Settings, rule_for
from .errors import InputError, TooLargeError, UndecodableError
from .findings import Finding
from .frontend import ModelRef, extract
from .frontend.candidacy import MODEL, NotFollowed
from .rule import FileContext, FileRule
from .shapes import infer
from .source_facts import attach_source_facts
from .ir import Span
from .file_reads import unsaved_text
from .source import (MAX_BYTES, SourceFile, display_path, peek_text, read_source,
                     recording_reads, require_regular_file, scan_source, too_large)
from .workers import run_tasks
from .rules.suppression import UnusedSuppression
from .suppress import apply_suppressions, comments

if TYPE_CHECKING:  # `compare` imports this module for `finalize`; the cache is for `check`
    from .cache import ResultCache
    from .progress import Progress

PYTHON_SUFFIXES = (".py", ".pyi", ".ipynb")  # notebooks: their code cells (lint/notebook.py)
STDIN = "-"  # `check -`: Python read from stdin, shown as `-` unless --stdin-filename names it
_PORT_OF = re.compile(r"#\s*portlint\s*:\s*port-of\s+(?P<ref>\S+)")
_SEVERAL = re.compile(r"several models; choose one of (?P<names>.*)$")
_NO_MODEL = re.compile(r"no Keras or PyTorch model found")
# The CPU time one file's models may take to analyse in `check` (a real model file takes
# well under a second; package code that imports half its package can take far longer):
# past it, the file's single-file rules are skipped, with a warning. CPU time, not wall
# time, so that the outcome does not depend on how busy the machine is.
FILE_SECONDS = 10.0
# A file whose text names no framework holds no model the single-file rules can check
# (a model built only from another file's classes is checked in that file).
_FRAMEWORK = re.compile(r"\b(?:torch|keras|tensorflow)\b")


@dataclass(frozen=True)
class PairJob:
    """A pair to compare: model references (paths as shown) and where it was declared.

    References, not their text: a path is never parsed as `PATH::MODEL` text again, so a
    file named `a::b.py` stays one path."""

    origin: ModelRef
    port: ModelRef
    input_shape: tuple[int, ...] | None = None
    declared: str = ""  # `pyproject.toml: [tool.portlint] pairs[0]` or `port.py:3`
    written: str = ""  # a `# portlint: port-of` reference as written

    def key(self) -> tuple:
        return (*((os.path.realpath(r.path), r.model, r.call) for r in (self.origin, self.port)),
                self.input_shape)


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    pairs: list[PairResult] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # the Python files checked, as shown
    warnings: list[str] = field(default_factory=list)  # one line each, for stderr


def _shown_ref(ref: str, base: Path | None = None) -> ModelRef:
    parsed = ModelRef.parse(ref)
    path = Path(parsed.path)
    if base is not None and not path.is_absolute():
        path = base / path
    return dataclasses.replace(parsed, path=display_path(path))


# --------------------------------------------------------------------------- files


def python_files(paths: Sequence[str], settings: Settings) -> list[str]:
    """The Python files among `paths` (directories walked), minus `exclude`; as shown."""
    out: list[str] = []
    seen: set[str] = set()

    def add(path: str) -> None:
        real = os.path.realpath(path)
        if real not in seen and not settings.excluded(path):
            seen.add(real)
            out.append(display_path(path))

    for path in paths:
        if os.path.isdir(path):
            if settings.excluded(path):
                continue
            for directory, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in DEFAULT_EXCLUDE_DIRS
                                 and not settings.excluded(os.path.join(directory, d)))
                for name in sorted(files):
                    # Regular files only: reading a FIFO met in a walk would wait forever.
                    if name.endswith(PYTHON_SUFFIXES) and os.path.isfile(
                            os.path.join(directory, name)):
                        add(os.path.join(directory, name))
        elif os.path.exists(path) or unsaved_text(path) is not None:
            if path.endswith(PYTHON_SUFFIXES) or path == STDIN:
                # an unsaved buffer stands in for the file; on disk, regular files only
                add(path if unsaved_text(path) is not None else require_regular_file(path))
        else:
            raise InputError(f"{path}: no such file or directory")
    return out


def inline_pairs(source: SourceFile) -> list[PairJob]:
    """The pairs a port declares with `# portlint: port-of PATH[::MODEL]`."""
    out: list[PairJob] = []
    if "port-of" not in source.text:  # tokenizing the file costs more than this test
        return out
    base = Path(source.path).parent
    for line, column, text in comments(source.text):
        match = _PORT_OF.search(text)
        if match is None:
            continue
        where = f"{source.path}:{line}:{column + 1 + match.start()}"
        ref = match.group("ref")
        try:
            origin = _shown_ref(ref, base)
        except InputError as exc:
            raise InputError(f"{where}: portlint: port-of {ref}: {exc}") from None
        out.append(PairJob(origin, ModelRef(source.path), None, where, ref))
    return out


def configured_pairs(settings: Settings) -> list[PairJob]:
    config = settings.config
    label = display_path(config.path) if config.path else "configuration"
    prefix = "[tool.portlint] " if config.path and config.path.name == "pyproject.toml" else ""
    return [PairJob(_shown_ref(spec.origin_ref), _shown_ref(spec.port_ref), spec.input_shape,
                    f"{label}: {prefix}pairs[{index}]")
            for index, spec in enumerate(config.pairs)]


def _touches(job: PairJob, files: set[str]) -> bool:
    return any(os.path.realpath(ref.path) in files for ref in (job.origin, job.port))


# --------------------------------------------------------------------------- the run


def check(paths: Sequence[str], settings: Settings, jobs: int = 1,
          cache: ResultCache | None = None, progress: Progress | None = None) -> CheckResult:
    """Check `paths` (none: every configured pair). Raises InputError on bad input.

    Each file is analysed on its own (`analyse_file`): by `jobs` worker processes when
    there are many files to analyse, and not at all when `cache` holds its result."""
    result = CheckResult()
    files = python_files(paths, settings)
    result.files = files
    if paths and not files:
        return result
    codes = tuple(rule.code for rule in _rules()
                  if issubclass(rule, FileRule) and settings.selected(rule))
    outcomes = analyse_files(files, settings.keras_version, codes, jobs, cache, progress)
    for path in files:  # the first bad file, in the order given, stops the run
        if outcomes[path].error:
            raise InputError(outcomes[path].error)
    real_files = {os.path.realpath(path) for path in files}

    pair_jobs: list[PairJob] = []
    if paths:
        pair_jobs += [job for job in configured_pairs(settings) if _touches(job, real_files)]
        for path in files:
            pair_jobs += [_existing(job) for job in outcomes[path].pairs]
    else:
        pair_jobs += configured_pairs(settings)

    coverage: dict[str, set[str]] = {}
    covered: set[tuple[str, str | None]] = set()  # (real path, model) compared in a pair
    findings: list[Finding] = []
    seen: set[tuple] = set()
    for job in pair_jobs:
        if job.key() in seen:
            continue
        seen.add(job.key())
        pair = _compare(job, settings)
        result.pairs.append(pair)
        findings += pair.findings
        for path, pair_codes in pair_coverage(pair, settings).items():
            coverage.setdefault(path, set()).update(pair_codes)
        for graph in (pair.alignment.keras, pair.alignment.torch):
            covered.add((os.path.realpath(graph.path), graph.model))
        for ref in (pair.origin, pair.port):
            if ref.model is None:  # the file's one obvious model: nothing else to check
                covered.add((os.path.realpath(ref.path), None))

    for path in files:
        outcome = outcomes[path]
        real = os.path.realpath(path)
        if (real, None) in covered:
            continue  # compared already: its single-file analysis is not needed
        result.warnings += outcome.warnings
        for model, model_findings in outcome.models:
            if (real, model) in covered:
                continue
            findings += model_findings
            coverage.setdefault(path, set()).update(codes)

    result.findings = finalize(findings, settings, coverage)
    return result


def _existing(job: PairJob) -> PairJob:
    """A `# portlint: port-of` pair, once its original is known to exist (checked on each
    run: the file's cached outcome cannot know)."""
    path = job.origin.path
    if not os.path.isfile(path):
        raise InputError(f"{job.declared}: portlint: port-of {job.written}: no such file "
                         f"({path}; the path is relative to the port's directory)")
    return job


# --------------------------------------------------------------------------- one file


@dataclass
class FileOutcome:
    """What analysing one file on its own gives: the pairs it declares, and the findings
    of the single-file rules for each of its models (dropped later for models that a
    compared pair covers), or the input error that makes the run exit 2."""

    error: str = ""
    pairs: list[PairJob] = field(default_factory=list)
    models: list[tuple[str | None, list[Finding]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        from .cache import finding_data

        return {"error": self.error,
                "pairs": [[_ref_data(p.origin), _ref_data(p.port), p.input_shape, p.declared,
                           p.written] for p in self.pairs],
                "models": [[model, [finding_data(f) for f in found]]
                           for model, found in self.models],
                "warnings": self.warnings}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> FileOutcome:
        from .cache import finding_from

        return cls(data["error"],
                   [PairJob(ModelRef(*o), ModelRef(*p), tuple(shape) if shape else None, d, w)
                    for o, p, shape, d, w in data["pairs"]],
                   [(model, [finding_from(f) for f in found]) for model, found in data["models"]],
                   data["warnings"])


def _ref_data(ref: ModelRef) -> list[str | None]:
    return [ref.path, ref.model, ref.call]


def analyse_file(path: str, keras_version: int,
                 codes: tuple[str, ...]) -> tuple[FileOutcome, dict[str, str]]:
    """Analyse one file (as shown): its outcome, and the files read (real path ->
    digest) for the cache."""
    outcome = FileOutcome()
    with recording_reads() as reads:
        try:
            if unsaved_text(path) is None and os.path.isfile(path) \
                    and os.path.getsize(path) > MAX_BYTES:
                return _too_large(path, f"this file is {too_large(os.path.getsize(path))}"), {}
            text = peek_text(path)
            if text is not None and "port-of" not in text and not _FRAMEWORK.search(text):
                reads[os.path.realpath(path)] = scan_source(path)[1]  # only a syntax check
                return outcome, dict(reads)
            source = read_source(path)
            outcome.pairs = inline_pairs(source)
            if codes and _FRAMEWORK.search(source.text):
                outcome.models = _checked_models(source, keras_version, codes, outcome.warnings)
        except TooLargeError as exc:
            return _too_large(path, f"this file holds {exc.reason}", exc.line), dict(reads)
        except UndecodableError as exc:
            if exc.path == path:  # not a module it imports: the file itself
                return _undecodable(path, exc), dict(reads)
            outcome = FileOutcome(error=str(exc))
        except InputError as exc:
            outcome = FileOutcome(error=str(exc))
        # Through its data form: the spans get resolved, and nothing of the file's syntax
        # tree stays referenced once the file is done (a run holds every file's outcome).
        return FileOutcome.from_data(outcome.to_data()), dict(reads)


def _too_large(path: str, reason: str, line: int = 1) -> FileOutcome:
    """A file too large to parse: an unresolved-construct finding when it names a
    framework (it may hold a model portlint did not check), else nothing (it holds no
    model; it is not parsed by libcst, so what libcst alone rejects goes unseen)."""
    text = unsaved_text(path)
    if text is None:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    if not _FRAMEWORK.search(text):
        return FileOutcome()
    from .rules.unresolved import UnresolvedConstruct

    finding = Finding(UnresolvedConstruct.code, UnresolvedConstruct.name,
                      UnresolvedConstruct.severity,
                      f"{reason}; its models are not checked", Span(path, line, 1, line, 1))
    return FileOutcome(models=[(None, [finding])])


def _undecodable(path: str, exc: UndecodableError) -> FileOutcome:
    """A file that is not text: an unresolved-construct finding (the run goes on with the
    other files), whether or not it names a framework, since its text cannot say."""
    from .rules.unresolved import UnresolvedConstruct

    finding = Finding(UnresolvedConstruct.code, UnresolvedConstruct.name,
                      UnresolvedConstruct.severity, f"{exc.reason}; the file is not checked",
                      Span(path, exc.line, 1, exc.line, 1))
    return FileOutcome(models=[(None, [finding])])


def _checked_models(source: SourceFile, keras_version: int, codes: tuple[str, ...],
                    warnings: list[str]) -> list[tuple[str | None, list[Finding]]]:
    rules = [rule() for rule in _rules() if rule.code in codes]
    out = []
    for graph in _models(source, keras_version, warnings):
        attach_source_facts(graph, source)
        context = FileContext(graph, source, keras_version)
        out.append((graph.model, [f for rule in rules for f in rule.check_file(context)]))
    return out


def analyse_files(files: Sequence[str], keras_version: int, codes: tuple[str, ...],
                  jobs: int = 1, cache: ResultCache | None = None,
                  progress: Progress | None = None) -> dict[str, FileOutcome]:
    """`analyse_file` for each file, from the cache where it holds a valid result;
    `progress` counts the files done."""
    outcomes: dict[str, FileOutcome] = {}
    todo: list[str] = []
    for path in files:
        data = cache.get(path) if cache is not None else None
        if data is not None:
            outcomes[path] = FileOutcome.from_data(data)
        else:
            todo.append(path)
    if progress is not None:
        progress.start(len(files))
        progress.advance(len(files) - len(todo))
    for path, (outcome, reads) in run_tasks(analyse_file, todo, (keras_version, codes), jobs):
        outcomes[path] = outcome
        if progress is not None:
            progress.advance()
        if cache is not None:
            cache.put(path, reads, outcome.to_data())
    return outcomes


def _rules() -> list[type]:
    from .rules.registry import pair_rules

    return list(pair_rules())


def pair_coverage(pair: PairResult, settings: Settings) -> dict[str, set[str]]:
    """The rules that ran on each file of a compared pair: every selected rule on the port
    (pair findings are located there), the single-file rules on both."""
    selected = [r for r in _rules() if settings.selected(r)]
    return {pair.origin.path: {r.code for r in selected if issubclass(r, FileRule)},
            pair.port.path: {r.code for r in selected}}


def _compare(job: PairJob, settings: Settings) -> PairResult:
    try:
        return compare(job.origin, job.port, settings.options(job.input_shape))
    except InputError as exc:
        raise InputError(f"{job.declared}: {exc}") from None


def _models(source: SourceFile, keras_version: int, warnings: list[str]) -> list[ir.Graph]:
    """Every model of a file, with shapes inferred; none when it has no model (that is
    not an error in check mode) or when the analysis fails (a warning)."""
    try:
        graphs = _extract_all(source, keras_version, warnings)
    except Exception as exc:  # never a traceback; PORTLINT_DEBUG=1 shows it
        if os.environ.get("PORTLINT_DEBUG"):
            raise
        detail = str(exc).splitlines()[0] if str(exc) else ""
        warnings.append(f"portlint: warning: {source.path}: internal error while reading its "
                        f"models, single-file rules skipped: {type(exc).__name__}: {detail}")
        return []
    for graph in graphs:
        if graph.framework == ir.KERAS:
            infer(graph, graph.input_shape)
        else:
            infer(graph, graph.input_shape or declared_input(graph))
    return graphs


def _extract_all(source: SourceFile, keras_version: int, warnings: list[str]) -> list[ir.Graph]:
    """The file's obvious model, or each of its models when it has several, within
    FILE_SECONDS for the whole file."""
    deadline = time.process_time() + FILE_SECONDS
    try:
        return [extract(ModelRef(source.path), keras_version, source, deadline=deadline)]
    except InputError as exc:
        match = _SEVERAL.search(str(exc))
        if match is None:
            _not_followed(exc, warnings)
            return []
        # `PATH::A, PATH::B`: split at the path itself, which may hold `::` or `, ` too.
        separator = f", {source.path}::"
        names = [name for name in f", {match.group('names')}".split(separator) if name]
    graphs = []
    for name in names:
        try:
            graphs.append(extract(ModelRef(source.path, name), keras_version, source,
                                  deadline=deadline))
        except InputError as exc:
            _not_followed(exc, warnings)
    return graphs


def _not_followed(exc: InputError, warnings: list[str]) -> None:
    """A file without a model is fine in check mode, and so is a class that is not a model
    (frontend/candidacy.py: no layer or weight, or a building block that needs arguments);
    a model that could not be followed is said (on stderr), with the cause, since its
    single-file rules did not run."""
    if isinstance(exc, NotFollowed) and exc.kind != MODEL:
        return
    if not _NO_MODEL.search(str(exc)):
        warnings.append(f"portlint: warning: {exc}; single-file rules skipped")


# --------------------------------------------------------------------------- findings


def _dedupe_key(finding: Finding) -> tuple:
    loc = finding.location
    where = (os.path.realpath(loc.path), loc.line, loc.column, loc.end_line,
             loc.end_column) if loc else None
    return (finding.code, finding.message, where)


def finalize(findings: Iterable[Finding], settings: Settings,
             coverage: Mapping[str, Iterable[str]] | None = None) -> list[Finding]:
    """Merge (the same finding once), select, apply `per-file-ignores`, `severity`
    overrides and suppression comments, report unused suppressions when asked, sort.
    `coverage` maps each file to the codes of the rules that ran on it."""
    unique: list[Finding] = []
    seen: set[tuple] = set()
    for finding in findings:
        key = _dedupe_key(finding)
        if key not in seen:
            seen.add(key)
            unique.append(finding)

    kept = _configured(unique, settings)
    report_unused = settings.selected(UnusedSuppression)
    ran: dict[str, set[str]] = {}
    if report_unused:
        for path, codes in (coverage or {}).items():
            ran[path] = {code for code in codes if _active(settings, path, code)}
    outcome = apply_suppressions(kept, coverage=ran, report_unused=report_unused)
    out = outcome.kept + _configured(outcome.unused, settings)
    return sorted(out, key=Finding.sort_key)


def _active(settings: Settings, path: str, code: str) -> bool:
    rule = rule_for(code)
    if rule is None:
        return False
    return (settings.selected(rule) and not settings.ignored_in(path, code, rule.name)
            and settings.severity_of(code, rule.name, rule.severity) != "off")


def _configured(findings: Iterable[Finding], settings: Settings) -> list[Finding]:
    """Selection, per-file-ignores and severity overrides."""
    out = []
    for finding in findings:
        rule = rule_for(finding.code)
        if rule is not None and not settings.selected(rule):
            continue
        if finding.location is not None and settings.ignored_in(finding.location.path,
                                                                finding.code, finding.rule):
            continue
        level = settings.severity_of(finding.code, finding.rule, finding.severity)
        if level == "off":
            continue
        if level != finding.severity:
            finding = dataclasses.replace(finding, severity=level)
        out.append(finding)
    return out
