#!/usr/bin/env python3
"""Robustness run: `portlint check` over every Python file of large real packages.

    python scripts/robustness.py [--packages torch,tensorflow,keras,transformers]
        [--dirs PARENT[,PARENT...]] [--limit N] [--batch-size 200] [--parallel 1]
        [--state FILE] [--output FILE.md|FILE.json]

The bar is zero tracebacks. For each package (an installed top-level package found with
`importlib.util.find_spec` without importing it, a directory, or, for a package that is
not installed but pinned in bench/corpus.py (transformers), the `.py` files of its
downloaded wheel under the bench cache; with `--dirs PARENT`, also every subdirectory of
PARENT, e.g. wheels unpacked one per folder with their layout kept), every `*.py` file is
collected. Files are put in a stable pseudo-random order (SHA-1 of the package-relative
path), so `--limit N` takes a mix of every package and a longer run extends a shorter one.
Batches of `--batch-size` files are checked with one invocation each:

    python -m portlint check --exit-zero --format json --no-cache -j 1 FILE...

(cwd: a scratch directory; `--timeout-*` per batch). `--no-cache`: every result comes from
analysis, on a rerun and in the halves of a bisection alike. `-j 1`: no worker processes,
so an invocation's wall time, CPU time and peak RSS are those of one serial analysis (the
per-file timeout budget assumes that), and an internal error is raised where it happens;
`--parallel N` runs N batches at once instead. A batch that exits 2 (one bad file
stops the whole run: a syntax error, an undecodable file), crashes, times out, or writes
a traceback to stderr is split in halves and rerun until each failing file stands alone,
so every file ends up either analysed or the culprit of an error with its one-line
message. Reported: files analysed, findings by code, exit-2 errors (messages grouped),
tracebacks and "internal error" messages (each with its file), timeouts, failures that
did not recur when their batch was split (what the failed invocation said), warnings on
stderr (grouped), peak RSS, and the slowest files: the files of the `--profile-batches`
slowest batches are timed one by one in a single process (the CLI entry point called per
file; start-up paid once) plus every culprit timed alone.

The run is resumable: each finished batch is appended to `--state` (JSON lines, keyed by
the batch's file list), and a rerun with the same state skips them. Not part of the test
suite.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PACKAGES = ("torch", "tensorflow", "keras", "transformers")
TRACE_MARKERS = ("Traceback (most recent call last)", "internal error")


# --------------------------------------------------------------------------- files


def _bench_corpus():
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import corpus  # bench/corpus.py: pinned wheels in the bench cache
    finally:
        sys.path.pop(0)
    return corpus


def expand(names: list[str]) -> list[str]:
    """`site-packages`: every top-level package of this interpreter's site-packages;
    `wheels`: every package of bench/corpus.py's ROBUSTNESS_WHEELS not installed here;
    `wide` = both (over 20,000 files)."""
    out: list[str] = []
    for name in names:
        if name in ("site-packages", "wide"):
            import sysconfig

            purelib = Path(sysconfig.get_paths()["purelib"])
            out += sorted(d.name for d in purelib.iterdir()
                          if d.is_dir() and d.name.isidentifier() and d.name != "portlint"
                          and any(d.rglob("*.py")))
        if name in ("wheels", "wide"):
            out += [top for top in _bench_corpus().ROBUSTNESS_WHEELS
                    if importlib.util.find_spec(top) is None]
        if name not in ("site-packages", "wheels", "wide"):
            out.append(name)
    return list(dict.fromkeys(out))


def package_root(name: str, cache: Path) -> tuple[str, Path, str]:
    """(label, directory of the package, where it came from)."""
    if os.sep in name or os.path.isdir(name):
        path = Path(name).resolve()
        return path.name, path, _unpacked_from(path) or "directory"
    try:
        spec = importlib.util.find_spec(name)  # top-level: finds without importing
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        locations = list(spec.submodule_search_locations)
        version = _version(name)
        return name, Path(locations[0]), f"installed {version}".strip()
    corpus = _bench_corpus()
    if name in corpus.ROBUSTNESS_WHEELS:
        dist, version = corpus.ROBUSTNESS_WHEELS[name]
        path = corpus.extract_package(cache, dist, version, top=name)
        return name, path, f"wheel {dist}=={version} (not installed; bench cache)"
    raise SystemExit(f"robustness: package {name!r} is neither installed nor listed in "
                     f"bench/corpus.py ROBUSTNESS_WHEELS; pass a directory instead")


def _unpacked_from(path: Path) -> str:
    """`wheel NAME` when PARENT/SOURCES.tsv (directory, version, wheel, ...: written where
    wheels were unpacked one per folder) lists the directory."""
    table = path.parent / "SOURCES.tsv"
    if table.is_file():
        for line in table.read_text().splitlines()[1:]:
            cells = line.split("\t")
            if len(cells) > 2 and cells[0] == path.name:
                return f"wheel {cells[2]}"
    return ""


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    for candidate in (dist, f"{dist}-cpu", dist.replace("_", "-")):
        try:
            return version(candidate)
        except PackageNotFoundError:
            continue
    return ""


def collect(packages: list[str], cache: Path) -> tuple[list[dict], list[tuple[str, str]]]:
    """Every .py file: [{label, path}], ordered by a stable hash; and the package table."""
    files: list[dict] = []
    table = []
    for name in packages:
        label, root, origin = package_root(name, cache)
        count = 0
        for directory, dirs, names in os.walk(root):
            dirs.sort()
            for base in sorted(names):
                if base.endswith(".py"):
                    path = os.path.join(directory, base)
                    rel = f"{label}/{os.path.relpath(path, root)}"
                    files.append({"id": rel, "path": path})
                    count += 1
        table.append((label, f"{root} ({origin}): {count} files"))
    files.sort(key=lambda f: hashlib.sha1(f["id"].encode()).hexdigest())
    return files, table


# --------------------------------------------------------------------------- running


@dataclass
class Run:
    rc: int | None  # None: timed out
    wall: float
    cpu: float
    maxrss_kib: int
    stdout: str
    stderr: str


def run(cmd: list[str], timeout: float, cwd: str) -> Run:
    """Run `cmd` in its own process group; kill the group on timeout. CPU time and peak
    RSS come from wait4 on this child."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err, start_new_session=True)
        deadline = t0 + timeout
        status = rusage = None
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, rusage = os.wait4(proc.pid, 0)
                status = None
                break
            time.sleep(0.02)
        proc.returncode = 0  # reaped by wait4: keep Popen from waiting again
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    rc = None if status is None else os.waitstatus_to_exitcode(status)
    return Run(rc, wall, rusage.ru_utime + rusage.ru_stime, rusage.ru_maxrss, stdout, stderr)


# --no-cache: results from analysis, never from a cache (a rerun, the halves of a bisection).
# -j 1: one serial process per invocation (see the docstring); --parallel uses the cores.
CHECK_ARGS = ["check", "--exit-zero", "--format", "json", "--no-cache", "-j", "1"]


def portlint_cmd(python: str, files: list[str]) -> list[str]:
    return [python, "-m", "portlint", *CHECK_ARGS, *files]


def has_trace(stderr: str) -> bool:
    return any(marker in stderr for marker in TRACE_MARKERS)


def trace_summary(stderr: str) -> str:
    """The last frame and the exception line of a traceback, or the internal-error line."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    if "Traceback (most recent call last)" in stderr:
        start = max(i for i, line in enumerate(lines) if line.startswith("Traceback"))
        tail = lines[start:]
        frames = [line.strip() for line in tail if line.strip().startswith('File "')]
        exc = next((line for line in reversed(tail) if not line.startswith(" ")), tail[-1])
        return f"{exc.strip()} (at {frames[-1] if frames else '?'})"
    for line in lines:
        if "internal error" in line:
            return line.strip()
    return lines[-1] if lines else ""


@dataclass
class Outcome:
    """What happened to one batch (after bisecting its failures)."""

    files: list[str]
    analysed: list[str] = field(default_factory=list)
    findings: dict[str, int] = field(default_factory=dict)  # code -> count
    files_with_findings: int = 0
    errors: list[dict] = field(default_factory=list)  # {file, message}
    traces: list[dict] = field(default_factory=list)  # {file, message, stderr}
    timeouts: list[dict] = field(default_factory=list)  # {file, seconds}
    warnings: list[str] = field(default_factory=list)
    invocations: int = 0
    wall: float = 0.0  # of the first (whole-batch) invocation
    cpu: float = 0.0
    maxrss_kib: int = 0
    culprit_times: dict[str, float] = field(default_factory=dict)
    # A failed invocation whose halves all passed: {files, kind, message, stderr}.
    unattributed: list[dict] = field(default_factory=list)


WARNING_FILE = re.compile(r"portlint: warning: (?P<path>/[^:]+?\.py)[:]")


def check_files(files: list[str], python: str, cwd: str, per_file: float, fixed: float,
                outcome: Outcome, top: bool = True) -> None:
    """Check `files` in one invocation; bisect on failure."""
    timeout = fixed + per_file * len(files)
    result = run(portlint_cmd(python, files), timeout, cwd)
    outcome.invocations += 1
    outcome.maxrss_kib = max(outcome.maxrss_kib, result.maxrss_kib)
    if top:
        outcome.wall, outcome.cpu = result.wall, result.cpu
    document = None
    if result.rc == 0:
        try:
            document = json.loads(result.stdout)
        except ValueError:
            document = None
    trace = has_trace(result.stderr)
    # Internal errors reported as warnings name their file: attribute them directly.
    if document is not None and trace and "Traceback" not in result.stderr:
        other = []
        for line in result.stderr.splitlines():
            match = WARNING_FILE.match(line)
            if "internal error" in line and match and match.group("path") in files:
                outcome.traces.append({"file": match.group("path"), "message": line.strip(),
                                       "kind": "internal-error warning (exit 0)"})
            elif "internal error" in line:
                other.append(line)
        trace = bool(other)
    if document is not None and not trace:
        outcome.analysed += files
        per_file_hits: set[str] = set()
        for finding in document.get("findings", []):
            code = finding.get("code", "?")
            outcome.findings[code] = outcome.findings.get(code, 0) + 1
            loc = finding.get("location") or {}
            per_file_hits.add(loc.get("path", ""))
        outcome.files_with_findings += len(per_file_hits)
        outcome.warnings += [line for line in result.stderr.splitlines()
                             if line.startswith("portlint: warning:")
                             and "internal error" not in line]
        return
    if len(files) > 1:
        def failures() -> int:
            return sum(map(len, (outcome.errors, outcome.traces, outcome.timeouts,
                                 outcome.unattributed)))

        before = failures()
        half = len(files) // 2
        check_files(files[:half], python, cwd, per_file, fixed, outcome, top=False)
        check_files(files[half:], python, cwd, per_file, fixed, outcome, top=False)
        if failures() == before:
            # Not reproduced file by file (load, the order of the files, a flaky error):
            # keep what the failure said instead of losing it.
            kind = "timeout" if result.rc is None else (
                "traceback" if trace else f"exit {result.rc}")
            outcome.unattributed.append({
                "files": len(files), "first": files[0], "kind": kind,
                "seconds": round(result.wall, 1),
                "message": trace_summary(result.stderr) or f"exit code {result.rc}",
                "stderr": result.stderr[-4000:]})
        return
    (file,) = files
    outcome.culprit_times[file] = result.wall
    if result.rc is None:
        outcome.timeouts.append({"file": file, "seconds": round(result.wall, 1)})
    elif trace or result.rc not in (0, 2):
        outcome.traces.append({
            "file": file, "kind": f"exit {result.rc}",
            "message": trace_summary(result.stderr) or f"exit code {result.rc}, no stderr",
            "stderr": result.stderr[-4000:]})
    elif result.rc == 2:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        message = lines[-1] if lines else "(exit 2 without a message)"
        outcome.errors.append({"file": file, "message": message,
                               "one_line": len(lines) == 1})
    else:  # rc 0 but the output was not JSON
        outcome.traces.append({"file": file, "kind": "invalid JSON on stdout",
                               "message": result.stdout[:200], "stderr": result.stderr[-2000:]})


PER_FILE_DRIVER = r"""
import io, json, sys, time, contextlib
from portlint import cli
files, check_args = json.load(sys.stdin)
out = []
for index, path in enumerate([files[0]] + files if files else []):
    sys.argv = ["portlint", *check_args, path]
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            cli.main()
        except SystemExit:
            pass
        except BaseException as exc:
            pass
    if index:  # the first run only warms up lazy imports
        out.append([path, time.perf_counter() - t0])
print(json.dumps(out))
"""


def time_one_by_one(files: list[str], python: str, cwd: str, timeout: float) -> dict[str, float]:
    """Each file's time in one process (the CLI entry point per file, start-up paid once)."""
    try:
        proc = subprocess.run([python, "-c", PER_FILE_DRIVER],
                              input=json.dumps([files, CHECK_ARGS]), capture_output=True,
                              text=True, cwd=cwd, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {}
    try:
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        return {}


# --------------------------------------------------------------------------- report


def normalise_warning(line: str) -> str:
    text = line.removeprefix("portlint: warning: ")
    text = re.sub(r"^\S+?\.py(::\S+)?:\s*", "", text)
    text = re.sub(r"`[^`]*`", "`X`", text)
    text = re.sub(r"'[^']*'", "'X'", text)
    text = re.sub(r"\b\d+\b", "N", text)
    return text[:160]


def normalise_error(message: str) -> str:
    text = message.removeprefix("portlint: ")
    text = re.sub(r"^/\S+?\.py(:\d+)*(:\s*)?", "FILE: ", text)
    text = re.sub(r"line \d+", "line N", text)
    text = re.sub(r"'[^']*'", "'X'", text)
    return text[:200]


def summarise(records: list[dict], files_total: int, packages: list, elapsed: float,
              by_id: dict[str, str], per_file_times: dict[str, float]) -> dict:
    findings: collections.Counter = collections.Counter()
    errors, traces, timeouts, warnings = [], [], [], collections.Counter()
    unattributed = []
    analysed = files_with_findings = invocations = 0
    wall = cpu = 0.0
    maxrss = 0
    batch_walls = []
    for rec in records:
        analysed += rec["analysed"]
        files_with_findings += rec["files_with_findings"]
        findings.update(rec["findings"])
        errors += rec["errors"]
        traces += rec["traces"]
        timeouts += rec["timeouts"]
        unattributed += rec.get("unattributed", [])
        warnings.update(normalise_warning(w) for w in rec["warnings"])
        invocations += rec["invocations"]
        wall += rec["wall"]
        cpu += rec["cpu"]
        maxrss = max(maxrss, rec["maxrss_kib"])
        batch_walls.append((rec["wall"], rec["batch"], len(rec["files"])))
    checked = sum(len(rec["files"]) for rec in records)
    grouped = collections.Counter(normalise_error(e["message"]) for e in errors)
    times = dict(per_file_times)
    slowest = sorted(times.items(), key=lambda kv: -kv[1])[:20]
    return {
        "packages": packages,
        "files_selected": files_total,
        "files_checked": checked,
        "files_analysed": analysed,
        "files_with_findings": files_with_findings,
        "findings_total": sum(findings.values()),
        "findings_by_code": dict(sorted(findings.items())),
        "exit2_errors": len(errors),
        "exit2_not_one_line": sum(1 for e in errors if not e.get("one_line", True)),
        "exit2_grouped": grouped.most_common(),
        "exit2_files": [{"file": by_id.get(e["file"], e["file"]), "message": e["message"]}
                        for e in errors],
        "tracebacks": [{"file": by_id.get(t["file"], t["file"]), "kind": t.get("kind", ""),
                        "message": t["message"], "stderr": t.get("stderr", "")}
                       for t in traces],
        "timeouts": [{"file": by_id.get(t["file"], t["file"]), "seconds": t["seconds"]}
                     for t in timeouts],
        "unattributed": [{**u, "first": by_id.get(u["first"], u["first"])}
                         for u in unattributed],
        "warnings_grouped": warnings.most_common(25),
        "warnings_total": sum(warnings.values()),
        "batches": len(records),
        "invocations": invocations,
        "batch_wall_s_total": round(wall, 1),
        "batch_cpu_s_total": round(cpu, 1),
        "seconds_per_file": round(wall / checked, 4) if checked else None,
        "peak_rss_mib": round(maxrss / 1024, 1),
        "slowest_batches": [{"batch": b, "files": n, "wall_s": round(w, 1)}
                            for w, b, n in sorted(batch_walls, reverse=True)[:5]],
        "slowest_files": [{"file": by_id.get(f, f), "seconds": round(s, 2)} for f, s in slowest],
        "elapsed_s_this_invocation": round(elapsed, 1),
    }


def markdown(summary: dict, command: str) -> str:
    s = summary
    out = ["# portlint robustness run", "", f"Command: `{command}`", "",
           "Packages:", ""]
    out += [f"- `{label}`: {where}" for label, where in s["packages"]]
    out += ["", "| measure | value |", "|---|---|",
            f"| files selected | {s['files_selected']:,} |",
            f"| files checked | {s['files_checked']:,} |",
            f"| files analysed (exit 0, no traceback) | {s['files_analysed']:,} |",
            f"| files with findings | {s['files_with_findings']:,} |",
            f"| findings | {s['findings_total']:,} |",
            f"| exit-2 errors | {s['exit2_errors']:,} ({s['exit2_not_one_line']} not one line) |",
            f"| **tracebacks / internal errors** | **{len(s['tracebacks'])}** |",
            f"| timeouts | {len(s['timeouts'])} |",
            f"| failures not reproduced when bisected | {len(s['unattributed'])} |",
            f"| batches / invocations | {s['batches']} / {s['invocations']} |",
            f"| batch wall time, total | {s['batch_wall_s_total']:,} s "
            f"({s['seconds_per_file']} s per file) |",
            f"| peak RSS of one invocation | {s['peak_rss_mib']} MiB |", ""]
    out += ["## Findings by code", ""]
    out += [f"- {code}: {n}" for code, n in s["findings_by_code"].items()] or ["- none"]
    out += ["", "## Exit-2 errors (grouped)", ""]
    out += [f"- {n} x `{msg}`" for msg, n in s["exit2_grouped"]] or ["- none"]
    if s["exit2_files"]:
        out += ["", "<details><summary>files</summary>", ""]
        out += [f"- `{e['file']}`: {e['message']}" for e in s["exit2_files"]]
        out += ["", "</details>"]
    out += ["", "## Tracebacks and internal errors", ""]
    out += [f"- `{t['file']}` ({t['kind']}): {t['message']}" for t in s["tracebacks"]] \
        or ["- none"]
    out += ["", "## Timeouts", ""]
    out += [f"- `{t['file']}` ({t['seconds']} s)" for t in s["timeouts"]] or ["- none"]
    out += ["", "## Failures not reproduced when bisected", "",
            ("An invocation failed but each half passed (load against the time limits, the "
             "order of the files, a flaky error)."), ""]
    out += [f"- {u['kind']} of {u['files']} files from `{u['first']}` after {u['seconds']} s: "
            f"{u['message']}" for u in s["unattributed"]] or ["- none"]
    out += ["", f"## Warnings on stderr ({s['warnings_total']:,}, grouped, top 25)", ""]
    out += [f"- {n} x {msg}" for msg, n in s["warnings_grouped"]] or ["- none"]
    out += ["", "## Slowest files", "",
            "Timed one by one in one process (the CLI entry point called per file, start-up "
            "paid once): the files of the slowest batches and every culprit.", ""]
    out += [f"- {f['seconds']} s `{f['file']}`" for f in s["slowest_files"]] or ["- none"]
    out += ["", "## Slowest batches", ""]
    out += [f"- batch {b['batch']}: {b['files']} files, {b['wall_s']} s"
            for b in s["slowest_batches"]]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packages", default=",".join(DEFAULT_PACKAGES),
                    help="comma-separated package names or directories; `wide`: every "
                         "package of site-packages plus the wheels of bench/corpus.py "
                         "ROBUSTNESS_WHEELS (over 20,000 files)")
    ap.add_argument("--dirs", default="",
                    help="comma-separated parent directories: each of their subdirectories "
                         "is checked as a package directory (e.g. wheels unpacked one per "
                         "folder), after --packages")
    ap.add_argument("--limit", type=int, default=0, help="check only the first N files")
    ap.add_argument("--batch-size", type=int, default=200)
    ap.add_argument("--parallel", type=int, default=1,
                    help="batches checked at once (each invocation runs `check -j 1`)")
    ap.add_argument("--timeout-per-file", type=float, default=10.0,
                    help="seconds per file added to an invocation's time limit (`check` "
                         "gives one file's analysis up to 10 s of wall time, "
                         "lint/check.py FILE_SECONDS, and more under load)")
    ap.add_argument("--timeout-fixed", type=float, default=120.0,
                    help="seconds every invocation may take on top (start-up, one slow file)")
    ap.add_argument("--state", type=Path, default=None,
                    help="JSON-lines file of finished batches; a rerun resumes from it")
    ap.add_argument("--output", type=Path, default=None,
                    help="write the summary (.json: JSON, else Markdown)")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter with portlint installed (default: this one)")
    ap.add_argument("--profile-batches", type=int, default=3,
                    help="time the files of the N slowest batches one by one")
    ap.add_argument("--max-minutes", type=float, default=0,
                    help="stop starting new batches after this many minutes (0: no limit)")
    ap.add_argument("--cache", type=Path,
                    default=Path(os.environ.get("PORTLINT_BENCH_CACHE",
                                                Path.home() / ".cache" / "portlint-bench")))
    args = ap.parse_args()

    started = time.perf_counter()
    packages = expand([p.strip() for p in args.packages.split(",") if p.strip()])
    for parent in (p.strip() for p in args.dirs.split(",") if p.strip()):
        if not os.path.isdir(parent):
            raise SystemExit(f"robustness: --dirs {parent}: not a directory")
        packages += [str(d) for d in sorted(Path(parent).resolve().iterdir())
                     if d.is_dir() and not d.name.startswith(".")]
    files, table = collect(packages, args.cache)
    total = len(files)
    for label, where in table:
        print(f"robustness: {label}: {where}", flush=True)
    if args.limit:
        files = files[: args.limit]
    print(f"robustness: {total:,} files in all; checking {len(files):,} in batches of "
          f"{args.batch_size}", flush=True)
    by_id = {f["path"]: f["id"] for f in files}
    paths = [f["path"] for f in files]
    batches = [paths[i:i + args.batch_size] for i in range(0, len(paths), args.batch_size)]

    done: dict[str, dict] = {}
    if args.state and args.state.is_file():
        for line in args.state.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                done[rec["key"]] = rec
    records: list[dict] = []
    scratch = tempfile.mkdtemp(prefix="portlint-robustness-")
    stopped_early = False

    def check_batch(index: int, batch: list[str], key: str) -> tuple[dict, Outcome]:
        outcome = Outcome(files=batch)
        check_files(batch, args.python, scratch, args.timeout_per_file, args.timeout_fixed,
                    outcome)
        rec = {"key": key, "batch": index, "files": batch, "analysed": len(outcome.analysed),
               "findings": outcome.findings, "files_with_findings": outcome.files_with_findings,
               "errors": outcome.errors, "traces": outcome.traces,
               "timeouts": outcome.timeouts, "warnings": outcome.warnings,
               "invocations": outcome.invocations, "wall": round(outcome.wall, 3),
               "cpu": round(outcome.cpu, 3), "maxrss_kib": outcome.maxrss_kib,
               "culprit_times": outcome.culprit_times, "unattributed": outcome.unattributed}
        return rec, outcome

    def finish(rec: dict, outcome: Outcome) -> None:
        records.append(rec)
        if args.state:
            with open(args.state, "a", encoding="utf-8") as stream:
                stream.write(json.dumps(rec) + "\n")
        print(f"robustness: batch {rec['batch'] + 1}/{len(batches)}: {len(rec['files'])} files, "
              f"{outcome.wall:.1f} s, {sum(outcome.findings.values())} findings, "
              f"{len(outcome.errors)} exit-2, {len(outcome.traces)} traces, "
              f"{len(outcome.timeouts)} timeouts, {outcome.invocations} invocations, "
              f"{outcome.maxrss_kib / 1024:.0f} MiB", flush=True)

    # --parallel N: N batches at once, each waited for by a thread (the work is in the
    # subprocesses); batches are recorded as they finish, reported in batch order.
    pool = ThreadPoolExecutor(args.parallel) if args.parallel > 1 else None
    pending: set = set()
    for index, batch in enumerate(batches):
        key = hashlib.sha1("\n".join(batch).encode()).hexdigest()
        if key in done:
            records.append(done[key])
            continue
        if args.max_minutes and time.perf_counter() - started > args.max_minutes * 60:
            stopped_early = True
            break
        if pool is None:
            finish(*check_batch(index, batch, key))
            continue
        while len(pending) >= args.parallel:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                finish(*future.result())
        pending.add(pool.submit(check_batch, index, batch, key))
    if pool is not None:
        for future in as_completed(pending):
            finish(*future.result())
        pool.shutdown()
    records.sort(key=lambda rec: rec["batch"])

    per_file_times: dict[str, float] = {}
    if args.profile_batches and records:
        slow = sorted(records, key=lambda r: -r["wall"])[: args.profile_batches]
        for rec in slow:
            clean = [f for f in rec["files"]
                     if f not in {e["file"] for e in rec["errors"] + rec["traces"]
                                  + rec["timeouts"]}]
            per_file_times.update(time_one_by_one(clean, args.python, scratch,
                                                  timeout=max(600.0, 3 * rec["wall"])))
        culprits = [item["file"] for rec in records for item in rec["errors"] + rec["traces"]]
        if culprits:  # timeouts are not retimed: they already took their limit
            per_file_times.update(time_one_by_one(culprits, args.python, scratch, 1800.0))

    summary = summarise(records, total, table, time.perf_counter() - started, by_id,
                        per_file_times)
    summary["stopped_early"] = stopped_early
    if summary["files_checked"] and summary["files_checked"] < total:
        per = summary["batch_wall_s_total"] / summary["files_checked"]
        summary["full_run_estimate_min"] = round(per * total / 60, 1)
    command = "python scripts/robustness.py " + " ".join(sys.argv[1:])
    text = markdown(summary, command)
    print()
    print(text)
    if "full_run_estimate_min" in summary:
        print(f"Full run estimate ({total:,} files at this rate): "
              f"{summary['full_run_estimate_min']} min")
    if args.output:
        if args.output.suffix == ".json":
            args.output.write_text(json.dumps(summary, indent=2) + "\n")
        else:
            extra = ""
            if "full_run_estimate_min" in summary:
                extra = (f"\nFull run estimate ({total:,} files at this rate): "
                         f"{summary['full_run_estimate_min']} min\n")
            args.output.write_text(text + extra)
    flaky = [u for u in summary["unattributed"] if u["kind"] != "timeout"]
    return 1 if summary["tracebacks"] or flaky else 0


if __name__ == "__main__":
    sys.exit(main())
