#!/usr/bin/env python3
"""portlint's benchmark harness (issue 7): start-up, pair compare, corpus check, floors, peers.

    python bench/run.py                 # N=5 runs of everything, writes docs/benchmarks.md
    python bench/run.py --quick         # one run of each (a smoke test of the harness)
    python bench/run.py -n 3 --peer-runs 1 --output docs/benchmarks.md --json results.json

Builds (or reuses) the corpus of real model code (bench/corpus.py: torchvision models,
Keras Applications, timm models, transformers 4.x PyTorch + TF modeling files) in the
cache (`~/.cache/portlint-bench`, `--cache`), then measures, in one run on one machine,
each command in a fresh process, N times, round-robin (one run of every command per
round, so slow drift of a shared machine's load spreads over all of them):

* floors: `python -c pass`, `python -c "import libcst"`, `libcst.parse_module` and
  `ast.parse` over the corpus files in one process (bench/parse_floor.py: the in-process
  parse time and the whole process);
* `portlint --help`, `portlint --version`, `portlint rule`;
* `portlint compare` on the seed pair (examples/seed), cold (a fresh process);
* `portlint check` over the corpus, cold and warm (the same run again right after; a
  `.portlint_cache` left in the corpus is removed before each cold run);
* the language server's re-check of an edited file, in one long-lived process
  (bench/edit_latency.py: the seed port with its pair, and four corpus model files);
* peers over the same corpus when installed (Fixit's `fixit lint`, `torchfix`): looked up
  next to this interpreter, then in `--peers-venv` (default CACHE/peers-venv; TorchFix
  pins libcst < 1.6, so it lives in its own venv: `--install-peers` creates it).

Each run's wall time is measured from outside; CPU time (user + sys) and peak RSS come
from `os.wait4` on that child (peak RSS is the largest of the process and the children it
waited for, i.e. of one worker when a tool forks workers). Which heavy modules each
portlint command imported is recorded by running it once under an import probe. The load
average is recorded before and after; if it is above 1.0 at the start the harness waits
up to 2 minutes for it to drop and says whether it did. Results are written as a table
with the ratios against issue 7's targets to `--output` (default docs/benchmarks.md) and
the raw numbers to `--json`. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import corpus as corpus_mod  # noqa: E402

SEED_KERAS = REPO / "examples" / "seed" / "keras_model.py"
SEED_TORCH = REPO / "examples" / "seed" / "torch_model.py"
CACHE_DIRS = (".portlint_cache",)  # removed from the corpus before a cold run
HEAVY = ("libcst", "libcst.matchers", "libcst.codemod", "libcst.metadata", "typer", "rich",
         "pydantic",
         "click", "torch", "tensorflow", "keras", "numpy")

# Runs a portlint command in this process, then (at exit, after sys.exit) writes which of
# the HEAVY modules were imported and how many modules in all to the file in argv[1].
PROBE = r"""
import atexit, json, runpy, sys
out, args = sys.argv[1], sys.argv[2:]
heavy = %r
def report():
    with open(out, "w") as stream:
        json.dump({"imported": [m for m in heavy if m in sys.modules],
                   "modules": len(sys.modules)}, stream)
atexit.register(report)
sys.argv = ["portlint", *args]
runpy.run_module("portlint", run_name="__main__", alter_sys=True)
""" % (HEAVY,)


# --------------------------------------------------------------------------- measuring


@dataclass
class Sample:
    wall: float
    cpu: float
    maxrss_mib: float
    rc: int
    stdout_bytes: int = 0
    extra: dict = field(default_factory=dict)


TIME = shutil.which("time") or "/usr/bin/time"


def run_once(cmd: list[str], cwd: Path | None = None, env: dict | None = None,
             capture_json: bool = False, keep_output: Path | None = None) -> Sample:
    """One fresh process; wall from outside, CPU from wait4. Peak RSS comes from GNU
    time's %M (the command's own high-water mark, the largest of it and the children it
    waited for): wait4 on a child forked from this Python would report this process's
    RSS at fork time as the child's peak when the command itself is smaller."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile(suffix=".rss") as rss, \
            tempfile.TemporaryFile() as err:
        wrapped = [TIME, "-f", "%M", "-o", rss.name, *cmd] if os.path.exists(TIME) else cmd
        t0 = time.perf_counter()
        proc = subprocess.Popen(wrapped, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err if keep_output else subprocess.DEVNULL)
        _, status, rusage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        try:
            peak_kib = int(Path(rss.name).read_text().split()[-1])
        except (OSError, ValueError, IndexError):
            peak_kib = rusage.ru_maxrss
        size = out.tell()
        extra = {}
        if capture_json or keep_output:
            out.seek(0)
            data = out.read()
            if keep_output:
                keep_output.write_bytes(data)
                err.seek(0)
                keep_output.with_suffix(".stderr").write_bytes(err.read())
            if capture_json:
                try:
                    extra = json.loads(data.decode().strip().splitlines()[-1])
                except (ValueError, IndexError):
                    extra = {}
    return Sample(wall, rusage.ru_utime + rusage.ru_stime, peak_kib / 1024,
                  proc.returncode, size, extra)


@dataclass
class Bench:
    key: str
    label: str
    cmd: list[str]
    cwd: Path | None = None
    runs: int = 5
    capture_json: bool = False
    before: object = None  # callable run before each measured run
    samples: list[Sample] = field(default_factory=list)

    def stats(self) -> dict:
        if not self.samples:
            return {}
        walls = [s.wall for s in self.samples]
        cpus = [s.cpu for s in self.samples]
        out = {"runs": len(walls), "wall_median": statistics.median(walls),
               "wall_min": min(walls), "wall_max": max(walls),
               "cpu_median": statistics.median(cpus),
               "peak_mib": max(s.maxrss_mib for s in self.samples),
               "exit_codes": sorted({s.rc for s in self.samples}),
               "stdout_bytes": self.samples[-1].stdout_bytes}
        if self.capture_json:
            for name in ("import_s", "parse_wall_s", "parse_cpu_s"):
                values = [s.extra.get(name) for s in self.samples if s.extra.get(name)]
                if values:
                    out[name + "_median"] = statistics.median(values)
            out["failures"] = len(self.samples[-1].extra.get("failures", []))
        return out


def loadavg() -> tuple[float, float, float]:
    return os.getloadavg()


def wait_for_quiet(limit: float = 120.0, threshold: float = 1.0) -> dict:
    start = loadavg()
    waited = 0.0
    while loadavg()[0] > threshold and waited < limit:
        time.sleep(5)
        waited += 5
    now = loadavg()
    return {"at_start": start, "after_wait": now, "waited_s": waited,
            "loaded": now[0] > threshold}


def machine() -> dict:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass

    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "lint", "rules"],
                               cwd=REPO, capture_output=True, text=True).stdout.strip()
    except OSError:
        commit, dirty = "?", ""
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory": mem,
            "platform": platform.platform(), "python": platform.python_version(),
            "executable": sys.executable, "libcst": version("libcst"),
            "typer": version("typer"), "portlint": version("portlint"),
            "commit": commit + (" (lint/ or rules/ modified in the work tree)" if dirty else ""),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def prepare_bytecode(python: str) -> str:
    """Measure what users run: compiled bytecode. pip compiles an installed package, but
    an editable checkout compiles on first import, and not at all when
    PYTHONDONTWRITEBYTECODE is set (it is on some machines), which would add the
    compilation of portlint's sources (~0.15 s) to every start-up measured."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # inherited by every measured command
    code = ("import compileall, pathlib, portlint, portlint.rules as r; "
            "ok = all(compileall.compile_dir(str(pathlib.Path(m.__file__).parent), quiet=1) "
            "for m in (portlint, r)); print(ok)")
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    return ("portlint's sources byte-compiled before measuring "
            f"({'ok' if proc.stdout.strip() == 'True' else 'failed: ' + proc.stderr[-200:]}); "
            "PYTHONDONTWRITEBYTECODE unset for the measured commands")


def portlint_cmd(python: str) -> list[str]:
    """`portlint` as installed next to the interpreter (the console script users run)."""
    script = Path(python).parent / "portlint"
    return [str(script)] if script.is_file() else [python, "-m", "portlint"]


def find_peer(name: str, python: str, peers_venv: Path) -> list[str] | None:
    for directory in (Path(python).parent, peers_venv / "bin"):
        exe = directory / name
        if exe.is_file():
            return [str(exe)]
    return None


def peer_version(cmd: list[str], dist: str) -> str:
    python = Path(cmd[0]).parent / "python"
    try:
        out = subprocess.run([str(python), "-c",
                              f"import importlib.metadata as m; print(m.version({dist!r}), "
                              f"m.version('libcst'))"],
                             capture_output=True, text=True, timeout=60).stdout.split()
        return f"{dist} {out[0]} (libcst {out[1]})"
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return dist


def install_peers(peers_venv: Path) -> str:
    """Create the peers' venv and `pip install fixit torchfix` into it; returns a note."""
    if not (peers_venv / "bin" / "python").is_file():
        subprocess.run([sys.executable, "-m", "venv", str(peers_venv)], check=True)
    proc = subprocess.run([str(peers_venv / "bin" / "pip"), "install", "-q",
                           "--disable-pip-version-check", "fixit", "torchfix"],
                          capture_output=True, text=True)
    if proc.returncode:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
        return f"pip install fixit torchfix failed: {tail[0]}"
    return "installed fixit and torchfix into " + str(peers_venv)


def import_probe(python: str, args: list[str], cwd: Path) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        target = handle.name
    try:
        subprocess.run([python, "-c", PROBE, target, *args], cwd=cwd, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900)
        return json.loads(Path(target).read_text() or "{}")
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return {}
    finally:
        os.unlink(target)


def importtime(python: str, args: list[str], cwd: Path, top: int = 8) -> list[tuple]:
    """`python -X importtime -m portlint ARGS`: the top cumulative top-level packages and
    the top modules by self time (microseconds)."""
    proc = subprocess.run([python, "-X", "importtime", "-m", "portlint", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=900)
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        parts = line.split("|")
        self_us = int(parts[0].split(":")[1])
        cumulative = int(parts[1])
        raw = parts[2]
        name = raw.strip()
        rows.append((name, self_us, cumulative, 0))
    total = sum(r[1] for r in rows)
    by_root: dict[str, int] = {}
    for name, self_us, _, _ in rows:
        root = name.split(".")[0]
        by_root[root] = by_root.get(root, 0) + self_us
    tops = sorted(by_root.items(), key=lambda r: -r[1])[:top]
    selfs = sorted(((r[0], r[1]) for r in rows), key=lambda r: -r[1])[:top]
    return [("total", total), *tops], selfs


PHASES = (  # (stage, file suffix, function) looked up in a profile
    ("read + parse every file (libcst.parse_module)", "libcst/_parser/entrypoints.py", "parse_module"),
    ("model extraction, all of it", "frontend/__init__.py", "extract"),
    ("... interpreting modules (incl. imported ones)", "frontend/interpreter.py", "load_module"),
    ("... finding candidate models", "frontend/__init__.py", "_candidates"),
    ("... choosing the file's model (`_mentions` scans)", "frontend/__init__.py", "_choose"),
    ("... building the layer graph", "frontend/builder.py", "extract"),
    ("... positions (libcst PositionProvider)", "libcst/metadata/wrapper.py", "resolve"),
    ("shape inference", "lint/shapes.py", "infer"),
    ("single-file rules", "rules/single_file.py", "check_file"),
    ("finalize (suppressions, sorting)", "lint/check.py", "finalize"),
)


EDITED_FILES = ("torchvision/models/resnet.py", "keras/src/applications/resnet.py",
                "timm/models/resnet.py", "transformers/models/bert/modeling_bert.py")


def edit_latency(python: str, root: Path, edits: int = 9) -> dict:
    """The language server's re-check of an edited file (bench/edit_latency.py)."""
    files = [str(root / name) for name in EDITED_FILES if (root / name).is_file()]
    done = subprocess.run([python, str(HERE / "edit_latency.py"), "--edits", str(edits),
                           "--pair", str(SEED_KERAS), str(SEED_TORCH), *files],
                          capture_output=True, text=True, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(done.stdout)


def profile_check(python: str, files: list[Path], top: int = 20) -> str:
    """`python -m cProfile` of one `portlint check` over `files`: Markdown tables of the
    top entries by cumulative time (portlint's and libcst's own functions, not the CLI
    wrappers) and by self time."""
    with tempfile.TemporaryDirectory(prefix="portlint-bench-prof-") as tmp:
        out = Path(tmp) / "check.prof"
        cmd = [python, "-m", "cProfile", "-o", str(out), "-m", "portlint", "check",
               "--exit-zero", "--format", "json", *map(str, files)]
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        return summarise_profile(out, files, wall, top)


def summarise_profile(out: Path, files: list[Path], wall: float, top: int = 20) -> str:
    import pstats

    stats = pstats.Stats(str(out)).stats  # (file, line, name) -> (cc, nc, tt, ct, callers)
    total = max(v[3] for v in stats.values())  # the outermost frame's cumulative time

    def where(key: tuple) -> str:
        path, line, name = key
        for marker in ("/lint/", "/rules/", "site-packages/"):
            if marker in path:
                path = path.split(marker, 1)[1]
                path = ("portlint/" if marker == "/lint/" else
                        "portlint/rules/" if marker == "/rules/" else "") + path
                break
        return f"{path}:{line}({name})" if line else name

    wrappers = ("typer", "click", "runpy", "cli.py", "__main__", "check.py:", "<built-in",
                "{built-in")
    rows = sorted(stats.items(), key=lambda kv: -kv[1][3])
    cumulative = [(where(k), v[1], v[3]) for k, v in rows
                  if not any(w in where(k) or w in k[0] for w in wrappers)
                  and ("/lint/" in k[0] or "/rules/" in k[0] or "libcst" in k[0])][:top]
    own = sorted(stats.items(), key=lambda kv: -kv[1][2])[:10]
    phases = []  # the pipeline's stages, by the function that does each (nested: overlap)
    for label, path_part, name in PHASES:
        hits = [(k, v) for k, v in stats.items() if k[0].endswith(path_part) and k[2] == name]
        if hits:
            k, v = max(hits, key=lambda kv: kv[1][3])
            phases.append((label, where(k), v[1], v[3]))
    size = sum(f.stat().st_size for f in files)
    lines = [f"`python -m cProfile -s cumtime -m portlint check --exit-zero --format json "
             f"FILES` over {len(files)} corpus files (every second file of the manifest, "
             f"{size:,} bytes): {wall:.1f} s wall under the profiler, {total:.1f} s profiled "
             "(cProfile slows Python code roughly 1.5-2x and native code not at all, so "
             "shares of Python-heavy work are overstated).", "",
             "Stages (cumulative; nested stages overlap):", "",
             "| stage | cumulative s | % | calls | function |", "|---|---|---|---|---|"]
    lines += [f"| {label} | {ct:.1f} | {ct / total:.0%} | {nc:,} | `{name}` |"
              for label, name, nc, ct in phases]
    lines += ["", f"Top {top} by cumulative time (portlint and libcst):", "",
              "| cumulative s | % | calls | function |", "|---|---|---|---|"]
    lines += [f"| {ct:.1f} | {ct / total:.0%} | {nc:,} | `{name}` |" for name, nc, ct in cumulative]
    lines += ["", "Top self time:", "", "| self s | % | calls | function |", "|---|---|---|---|"]
    lines += [f"| {v[2]:.1f} | {v[2] / total:.0%} | {v[1]:,} | `{where(k)}` |" for k, v in own]
    return "\n".join(lines)


# --------------------------------------------------------------------------- report


def fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def status(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**not met**")


def render(meta: dict, benches: dict[str, Bench], corpus: dict, extra: dict) -> str:
    st = {k: b.stats() for k, b in benches.items()}
    m = meta["machine"]
    load = meta["load"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `bench/run.py` (issue 7); do not edit by hand: rerun it. Absolute times "
        "depend on the machine and its load, so every target is a ratio to a floor measured "
        "in the same run on the same machine (or, for start-up, a fixed bound).",
        "",
        "## Machine and run",
        "",
        f"- {m['date']}; {m['cpus']} CPUs ({m['cpu_model']}), {m['memory']}; "
        f"{m['platform']}; Python {m['python']}; libcst {m['libcst']}, typer {m['typer']}; "
        f"portlint {m['portlint']} at commit {m['commit']}.",
        f"- Load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load['at_start'])}"
        + (f"; waited {load['waited_s']:.0f} s for it to drop below 1.0: "
           f"{', '.join(f'{x:.2f}' for x in load['after_wait'])}" if load["waited_s"] else "")
        + f"; after the run: {', '.join(f'{x:.2f}' for x in meta['load_after'])}.",
        ("- **The machine was loaded** when the run started (load average above 1.0 after "
         "waiting up to 2 minutes): other processes share its cores, so absolute times are "
         "inflated and spreads are wide; the ratios, measured round-robin in the same run, "
         "are the figures to compare." if load["loaded"] else
         "- The machine's load was below 1.0 when the run started; other processes may "
         "still share it (it is a shared 2-core machine)."),
        f"- Each measured command ran in a fresh process, {meta['runs']} time(s) "
        f"({meta.get('corpus_runs', meta['runs'])} for the corpus-scale commands, "
        f"{meta['peer_runs']} for each peer), round-robin (one run of every command per "
        "round); medians, with [min-max]. Wall time "
        "from outside; CPU = user + sys of the process and its waited-for children (`wait4`); "
        "peak = GNU time's `%M`, the largest RSS of the process and its waited-for children "
        "(so of one worker when a tool forks workers).",
        *([f"- {meta['bytecode']}."] if meta.get("bytecode") else []),
        "",
        "## Corpus",
        "",
        f"`{corpus['root']}` (bench/corpus.py; pinned wheels, model files only, package "
        f"layout and relative imports as shipped): **{corpus['files']} files, "
        f"{corpus['bytes']:,} bytes, {corpus['lines']:,} lines**.",
        "",
        "| source | version | files | bytes |",
        "|---|---|---|---|",
    ]
    for name, src in corpus["sources"].items():
        lines.append(f"| {name} | {src['distribution']} {src['version']} | {src['files']} | "
                     f"{src['bytes']:,} |")
    lines += [
        "",
        f"transformers architectures: {', '.join(corpus['archs'])} "
        "(`modeling_<arch>.py`, `modeling_tf_<arch>.py` where a TF port exists, "
        "`configuration_<arch>.py`).",
        "",
        "## Results",
        "",
        "| command | runs | wall s median [min-max] | CPU s | peak MiB | exit |",
        "|---|---|---|---|---|---|",
    ]
    for key, bench in benches.items():
        s = st[key]
        if not s:
            lines.append(f"| {bench.label} | 0 | not run | | | |")
            continue
        lines.append(f"| {bench.label} | {s['runs']} | {fmt(s['wall_median'])} "
                     f"[{fmt(s['wall_min'])}-{fmt(s['wall_max'])}] | {fmt(s['cpu_median'])} | "
                     f"{s['peak_mib']:.1f} | {','.join(map(str, s['exit_codes']))} |")
    for key in ("parse_cst", "parse_ast"):
        s = st.get(key) or {}
        if s.get("parse_wall_s_median"):
            lines.append(f"| ... of which in-process `{'libcst.parse_module' if key == 'parse_cst' else 'ast.parse'}` "
                         f"over the corpus | {s['runs']} | {fmt(s['parse_wall_s_median'])} | "
                         f"{fmt(s.get('parse_cpu_s_median'))} | | |")
    if extra.get("check_findings") is not None:
        lines += ["", f"`portlint check` over the corpus reported {extra['check_findings']} "
                  f"finding(s) ({extra['check_findings_by_code']}) and "
                  f"{extra.get('check_warnings', 0)} warning line(s) on stderr"
                  + (f", {len(extra['check_internal_errors'])} of them internal errors: "
                     + "; ".join(f"`{e}`" for e in extra["check_internal_errors"][:5])
                     if extra.get("check_internal_errors") else ", no internal error")
                  + "."]

    # ---- targets
    def med(key: str, name: str = "wall_median"):
        return (st.get(key) or {}).get(name)

    def ratio_row(label: str, num: str, den: str, bound: float, pct: bool = False,
                  num_field: str = "", den_field: str = "") -> tuple | None:
        cells, oks = [], []
        for column in ("wall_median", "cpu_median"):
            a = med(num, num_field or column)
            b = med(den, den_field.replace("wall", "cpu") if den_field and column ==
                    "cpu_median" else den_field or column)
            if not a or not b:
                cells.append("-")
                oks.append(None)
                continue
            r = a / b
            shown = f"{r:.0%}" if pct else f"{r:.2f}x"
            cells.append(f"{fmt(a)} s / {fmt(b)} s = **{shown}**")
            oks.append(r <= bound)
        if oks[0] is None and oks[1] is None:
            return None
        return (label, cells[0], cells[1], f"<= {bound:.0%}" if pct else f"<= {bound}x",
                status(oks[0]), status(oks[1]))

    rows = []
    rows.append(ratio_row("pair `compare` cold vs `python -c \"import libcst\"`", "compare",
                          "import_libcst", 1.5))
    for key, what in (("help", "`portlint --help`"), ("version", "`portlint --version`"),
                      ("rule", "`portlint rule`")):
        wall, cpu = med(key), med(key, "cpu_median")
        if wall is None:
            continue
        probe = extra.get("imports", {}).get(key, {})
        imported = probe.get("imported", [])
        libcst_in = any(mod.startswith("libcst") for mod in imported)
        rows.append((f"{what} time", f"{fmt(wall)} s", f"{fmt(cpu)} s", "<= 0.2 s",
                     status(wall <= 0.2), status(cpu <= 0.2)))
        rows.append((f"{what} without importing libcst",
                     "libcst imported" if libcst_in else "libcst not imported", "",
                     "not imported", status(not libcst_in) if probe else "n/a", ""))
    rows.append(ratio_row("corpus `check` cold vs the raw parse floor (one process importing "
                          "libcst and parsing every corpus file)", "check_cold", "parse_cst",
                          1.5))
    rows.append(ratio_row("(stricter) corpus `check` cold vs the in-process parse time alone",
                          "check_cold", "parse_cst", 1.5, den_field="parse_wall_s_median"))
    rows.append(ratio_row("corpus `check` warm (second run) vs cold", "check_warm",
                          "check_cold", 0.10, pct=True))
    rows = [row for row in rows if row]
    check_cold = med("check_cold")
    peak = med("check_cold", "peak_mib")
    if peak:
        cpu = med("check_cold", "cpu_median")
        rows.append(("peak memory per worker (corpus `check`: the largest of the main "
                     "process and its workers)",
                     f"{peak:.1f} MiB", "", "<= 150 MiB", status(peak <= 150), ""))
    if check_cold and med("check_cold", "cpu_median"):
        ratio = med("check_cold", "cpu_median") / check_cold
        rows.append(("corpus `check` uses all cores for many files (CPU s / wall s; a "
                     "serial program on a loaded machine shows less than 1)",
                     f"{ratio:.2f} on {m['cpus']} CPUs", "", f"close to {m['cpus']}",
                     status(ratio >= 0.75 * (m["cpus"] or 1)), ""))
    lines += ["", "## Targets (issue 7)", "",
              "Each ratio on wall time (what the issue defines) and, because the machine is "
              "shared, also on CPU time (user + sys), which other processes disturb far "
              "less.", "",
              "| target | wall time | CPU time | bound | status (wall) | status (CPU) |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} | {e} | {f} |" for a, b, c, d, e, f in rows]
    lines += ["",
              "Cold runs start without a `.portlint_cache`; the warm run is the same command "
              "right after, reusing the cache the cold run wrote."]

    # ---- imports
    probes = extra.get("imports", {})
    if probes:
        lines += ["", "## What each command imports", "",
                  "Each portlint command run once under an import probe (`runpy` of "
                  "`portlint`, then `sys.modules` at exit):", "",
                  "| command | heavy modules imported | modules in all |", "|---|---|---|"]
        for key, probe in probes.items():
            lines.append(f"| {benches[key].label if key in benches else key} | "
                         f"{', '.join(probe.get('imported', [])) or 'none'} | "
                         f"{probe.get('modules', '?')} |")
        lines += ["", f"Modules probed: {', '.join(HEAVY)}."]
    for key, (tops, selfs) in extra.get("importtime", {}).items():
        total = dict(tops).get("total", 0)
        lines += ["", f"`python -X importtime -m portlint {key}`: {total / 1e6:.3f} s of "
                  "imports in all (one run). Import time by top-level package (self times summed): "
                  + ", ".join(f"{n} {us / 1e6:.3f} s" for n, us in tops if n != "total")
                  + ". Largest modules by self time: "
                  + ", ".join(f"{n} {us / 1e6:.3f} s" for n, us in selfs) + "."]

    # ---- editing
    edit = extra.get("edit_latency")
    if edit:
        lines += ["", "## Editing: the language server's re-check", "",
                  "`portlint server` re-checks a changed file in a long-lived worker process once "
                  "the text has been quiet for 0.2 s, reusing the parses and interpreted "
                  "modules of earlier checks. bench/edit_latency.py does the same in one "
                  "process without the JSON-RPC: a first check of each file, then a check "
                  "after each of several edits (a line added: the file is parsed and "
                  "interpreted again, its imports are not). The seed port is checked in a "
                  "project declaring the pair, so each of its checks runs `compare` too.", ""]
        if "error" in edit:
            lines.append(f"Not measured: {edit['error']}")
        else:
            lines += [f"Importing portlint's `check` took {edit['imports_s']:.3f} s; the "
                      "first check includes importing libcst.", "",
                      "| file | first check s | after an edit s, median [min-max] | edits "
                      "| findings |", "|---|---|---|---|---|"]
            for path, item in edit["files"].items():
                times = item["edits_s"]
                name = ("seed port (pair declared)" if Path(path).name == SEED_TORCH.name
                        and not path.startswith(corpus["root"]) else _short(path, corpus["root"]))
                lines.append(f"| {name} | {item['first_s']:.3f} | "
                             f"{statistics.median(times):.3f} [{min(times):.3f}-"
                             f"{max(times):.3f}] | {len(times)} | {item['findings']} |")

    # ---- peers
    lines += ["", "## Peers", ""]
    lines += [f"- {note}" for note in extra.get("peer_notes", [])] or ["- none"]
    if extra.get("profile"):
        lines += ["", "## Where `check` spends its time", "", extra["profile"]]
    if extra.get("notes"):
        lines += ["", "## Reading", "", extra["notes"]]

    # ---- reproduce
    lines += ["", "## Reproduce", "", "```sh",
              "python3 -m venv .venv && .venv/bin/pip install -e .   # the project's venv",
              "python bench/corpus.py                  # builds ~/.cache/portlint-bench/corpus",
              "python bench/run.py --install-peers     # peers (Fixit, TorchFix) in their own venv",
              f"python bench/run.py -n {meta['runs']} --corpus-runs {meta['corpus_runs']} "
              f"--peer-runs {meta['peer_runs']}"
              + (f" --profile-files {meta['profile_files']}" if meta.get("profile_files") else "")
              + "   # this page (with the project's venv python)",
              "```", "", "The commands it times (cwd: the repository; `python` and `portlint` "
              "from the project's venv; CORPUS = the corpus directory, CACHE = the bench "
              "cache):", "", "```sh"]
    bindir = str(Path(m["executable"]).parent) + "/"
    for bench in benches.values():
        shown = " ".join(_short(part, corpus["root"]).replace(bindir, "")
                         .replace(str(Path(corpus["root"]).parent), "CACHE")
                         for part in bench.cmd)
        where = f"(cd {_short(str(bench.cwd), corpus['root'])} && {shown})" if bench.cwd \
            and Path(bench.cwd) != REPO else shown
        lines.append(where)
    lines += ["```", ""]
    return "\n".join(lines)


def _short(part: str, root: str) -> str:
    part = part.replace(root, "CORPUS")
    if part.startswith(str(REPO) + "/"):
        part = part[len(str(REPO)) + 1:]
    if "\n" in part:
        return repr(part)
    return part if " " not in part else f"'{part}'"


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--runs", type=int, default=5, help="runs per command (median)")
    ap.add_argument("--quick", action="store_true", help="one run of each command")
    ap.add_argument("--corpus-runs", type=int, default=None,
                    help="runs of the corpus-scale commands (default: --runs)")
    ap.add_argument("--peer-runs", type=int, default=1,
                    help="runs of each peer over the corpus (each takes minutes)")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--install-peers", action="store_true",
                    help="create --peers-venv with fixit and torchfix, then exit")
    ap.add_argument("--cache", type=Path, default=corpus_mod.DEFAULT_CACHE)
    ap.add_argument("--corpus", type=Path, default=None, help="corpus dir (default CACHE/corpus)")
    ap.add_argument("--peers-venv", type=Path, default=None,
                    help="venv holding fixit/torchfix (default CACHE/peers-venv)")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter with portlint installed (default: this one)")
    ap.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md",
                    help="Markdown report ('-': stdout only)")
    ap.add_argument("--json", type=Path, default=None, help="raw results as JSON")
    ap.add_argument("--profile-files", type=int, default=0,
                    help="also profile one `portlint check` over N corpus files (cProfile)")
    ap.add_argument("--notes", type=Path, default=HERE / "benchmarks-notes.md",
                    help="Markdown added verbatim as a 'Reading' section, if the file exists")
    ap.add_argument("--max-wait", type=float, default=120.0,
                    help="seconds to wait for the load average to drop below 1.0")
    ap.add_argument("--only", default="",
                    help="comma-separated keys to run (e.g. help,version,compare,edit)")
    ap.add_argument("--render", type=Path, default=None,
                    help="only rewrite --output from a --json file of an earlier run")
    args = ap.parse_args()

    if args.render:
        saved = json.loads(args.render.read_text())
        benches = {}
        for key, item in saved["results"].items():
            bench = Bench(key, item["label"], item["cmd"],
                          Path(item["cwd"]) if item.get("cwd") else None,
                          capture_json=key.startswith("parse_"))
            bench.samples = [Sample(**sample) for sample in item["samples"]]
            benches[key] = bench
        if args.notes and args.notes.is_file():
            saved["extra"]["notes"] = args.notes.read_text().strip()
        text = render(saved["meta"], benches, saved["corpus"], saved["extra"])
        if str(args.output) == "-":
            print(text)
        else:
            args.output.write_text(text)
        return 0

    peers_venv = args.peers_venv or args.cache / "peers-venv"
    if args.install_peers:
        print(install_peers(peers_venv))
        return 0
    runs = 1 if args.quick else args.runs
    corpus_runs = 1 if args.quick else (args.corpus_runs or runs)
    peer_runs = 1 if args.quick else args.peer_runs

    meta_corpus = corpus_mod.build(args.cache, args.corpus)
    root = Path(meta_corpus["root"])
    py = args.python
    bytecode_note = prepare_bytecode(py)
    pl = portlint_cmd(py)

    def clear_cache() -> None:
        for name in CACHE_DIRS:
            for base in (root, REPO, Path.cwd()):
                shutil.rmtree(base / name, ignore_errors=True)

    benches: dict[str, Bench] = {}

    def add(key, label, cmd, cwd=REPO, n=runs, **kw):
        benches[key] = Bench(key, label, cmd, cwd, n, **kw)

    add("pass", "`python -c pass` (interpreter floor)", [py, "-c", "pass"])
    add("import_libcst", "`python -c \"import libcst\"` (floor)", [py, "-c", "import libcst"])
    add("help", "`portlint --help`", [*pl, "--help"])
    add("version", "`portlint --version`", [*pl, "--version"])
    add("rule", "`portlint rule` (list)", [*pl, "rule"])
    add("compare", "`portlint compare` seed pair, cold",
        [*pl, "compare", str(SEED_KERAS.relative_to(REPO)), str(SEED_TORCH.relative_to(REPO))])
    add("parse_cst", "`libcst.parse_module` over the corpus, one process (raw parse floor)",
        [py, str(HERE / "parse_floor.py"), "--stage", "cst", str(root)], n=corpus_runs,
        capture_json=True)
    add("parse_ast", "`ast.parse` over the corpus, one process (reference)",
        [py, str(HERE / "parse_floor.py"), "--stage", "ast", str(root)], n=corpus_runs,
        capture_json=True)
    add("check_cold", "`portlint check` corpus, cold",
        [*pl, "check", "--exit-zero", "--format", "json", str(root)], n=corpus_runs,
        before=clear_cache)
    add("check_warm", "`portlint check` corpus, warm (second run, reusing its cache)",
        [*pl, "check", "--exit-zero", "--format", "json", str(root)], n=corpus_runs)
    peer_notes: list[str] = []
    if not args.no_peers:
        fixit = find_peer("fixit", py, peers_venv)
        torchfix = find_peer("torchfix", py, peers_venv)
        if fixit:
            add("fixit", f"`fixit lint .` corpus ({peer_version(fixit, 'fixit')})",
                [*fixit, "lint", "."], cwd=root, n=peer_runs)
        if torchfix:
            add("torchfix", f"`torchfix .` corpus ({peer_version(torchfix, 'torchfix')})",
                [*torchfix, "."], cwd=root, n=peer_runs)
        for name, found in (("fixit", fixit), ("torchfix", torchfix)):
            if not found:
                peer_notes.append(f"{name}: not found next to {py} nor in {peers_venv} "
                                  f"(`python bench/run.py --install-peers` installs it): "
                                  f"not measured")
        if fixit or torchfix:
            peer_notes.append(
                f"Fixit and TorchFix run from {peers_venv}: TorchFix pins libcst < 1.6, so "
                "installing it into the project's venv would downgrade the libcst portlint "
                "is measured with; the peers therefore run on libcst 1.5.1 (anchors: 1.9.0 "
                "parses ~11-13% faster). Each walks the corpus with its default rules and "
                "its own worker pool (all cores).")
    else:
        peer_notes.append("peers not measured (--no-peers)")
    only = {k.strip() for k in args.only.split(",") if k.strip()}
    if only:
        benches = {k: b for k, b in benches.items() if k in only}

    machine_at_start = machine()  # the commit measured (an editable install follows edits)
    load = wait_for_quiet(args.max_wait)
    print(f"bench: load {load['at_start']} -> {load['after_wait']} (waited {load['waited_s']} s)",
          file=sys.stderr, flush=True)
    started = time.perf_counter()
    rounds = max(b.runs for b in benches.values())
    first_check = Path(tempfile.mkstemp(suffix=".json")[1])
    for index in range(rounds):
        for key, bench in benches.items():
            if index >= bench.runs:
                continue
            if bench.before:
                bench.before()
            keep = first_check if key == "check_cold" and index == 0 else None
            sample = run_once(bench.cmd, bench.cwd, capture_json=bench.capture_json,
                              keep_output=keep)
            bench.samples.append(sample)
            print(f"bench: round {index + 1}/{rounds} {key}: {sample.wall:.3f} s wall, "
                  f"{sample.cpu:.3f} s CPU, {sample.maxrss_mib:.1f} MiB, exit {sample.rc}",
                  file=sys.stderr, flush=True)

    load_after = loadavg()  # measured runs done (the probes and the profile follow)
    extra: dict = {"peer_notes": peer_notes}
    if first_check.stat().st_size:
        try:
            document = json.loads(first_check.read_text())
            codes: dict[str, int] = {}
            for finding in document.get("findings", []):
                codes[finding["code"]] = codes.get(finding["code"], 0) + 1
            extra["check_findings"] = sum(codes.values())
            extra["check_findings_by_code"] = ", ".join(f"{c}: {n}" for c, n in
                                                        sorted(codes.items())) or "none"
        except ValueError:
            pass
    first_check.unlink()
    stderr_file = first_check.with_suffix(".stderr")
    if stderr_file.is_file():  # the first cold check's stderr
        text = stderr_file.read_text(errors="replace")
        extra["check_warnings"] = sum(1 for line in text.splitlines()
                                      if line.startswith("portlint: warning"))
        extra["check_internal_errors"] = [line for line in text.splitlines()
                                          if "internal error" in line or "Traceback" in line]
        stderr_file.unlink()
    probes = {}
    for key, probe_args in (("help", ["--help"]), ("version", ["--version"]),
                            ("rule", ["rule"]),
                            ("compare", ["compare", str(SEED_KERAS), str(SEED_TORCH)])):
        if key in benches:
            probes[key] = import_probe(py, probe_args, REPO)
    extra["imports"] = probes
    if "compare" in benches or "help" in benches:
        extra["importtime"] = {
            "--help": importtime(py, ["--help"], REPO),
            "compare (seed pair)": importtime(py, ["compare", str(SEED_KERAS),
                                                   str(SEED_TORCH)], REPO),
        }
    if not only or "edit" in only:
        print("bench: editing latency", file=sys.stderr, flush=True)
        extra["edit_latency"] = edit_latency(py, root)
    if args.profile_files:
        files = corpus_mod.corpus_files(root)[::2][: args.profile_files]
        print(f"bench: profiling check over {len(files)} files", file=sys.stderr, flush=True)
        extra["profile"] = profile_check(py, files)
    if args.notes and args.notes.is_file():
        extra["notes"] = args.notes.read_text().strip()

    at_end = machine()
    if at_end["commit"] != machine_at_start["commit"]:
        machine_at_start["commit"] += f" at the start, {at_end['commit']} at the end"
    meta = {"machine": machine_at_start, "load": load, "load_after": load_after, "runs": runs,
            "profile_files": args.profile_files,
            "corpus_runs": corpus_runs, "peer_runs": peer_runs, "bytecode": bytecode_note,
            "elapsed_s": round(time.perf_counter() - started, 1)}
    text = render(meta, benches, meta_corpus, extra)
    if str(args.output) == "-":
        print(text)
    else:
        args.output.write_text(text)
        print(f"bench: wrote {args.output} ({meta['elapsed_s']} s of measuring)",
              file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps({
            "meta": meta, "corpus": meta_corpus, "extra": extra,
            "results": {k: {"label": b.label, "cmd": b.cmd, "stats": b.stats(),
                            "cwd": str(b.cwd) if b.cwd else None,
                            "samples": [s.__dict__ for s in b.samples]}
                        for k, b in benches.items()}}, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
