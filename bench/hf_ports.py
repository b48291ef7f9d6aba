#!/usr/bin/env python3
"""How far `portlint compare` follows Hugging Face transformers' TF <-> PyTorch ports
(issue 16): every family with both modeling files, its base-model pair and one head pair.

    python bench/hf_ports.py --source /work/corpora/transformers-4.46.3/transformers \\
        --json results.json --markdown docs/hf-ports.md
    python bench/hf_ports.py --python /path/to/other/venv/bin/python -j 2 --timeout 120
    python bench/hf_ports.py --list                      # the families and classes only
    python bench/hf_ports.py --from-json results.json --markdown docs/hf-ports.md
    python bench/hf_ports.py --instantiate --instantiate-python .venv-hf/bin/python \\
        --config '{"num_hidden_layers": 2}' --families bert,gpt2,vit
    python bench/hf_ports.py --builds-from results.json   # saved built counts, new static runs

The source is read, never imported: `--source FOLDER` (the `transformers` package folder, or
the folder holding it), else the transformers distribution installed in this interpreter or
in `--python`, located through its metadata (hf_families.py). The harness installs nothing
and imports neither transformers, torch nor TensorFlow; portlint runs in `--python` (default:
this interpreter) as a subprocess per pair, `-j` at a time, each with `--timeout` seconds.
`--instantiate` builds each pair for real in `--instantiate-python` (hf_instantiate.py) and
checks the static totals against the built counts. Documented in docs/hf-ports.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hf_families  # noqa: E402
import hf_instantiate  # noqa: E402
import hf_runs  # noqa: E402
import hf_table  # noqa: E402

KINDS = ("base", "head")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", help="the transformers package folder (or its parent)")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter that runs portlint (default: this one)")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="pairs at a time (default 2)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per pair (default 120)")
    ap.add_argument("--families", help="comma-separated family names (default: all)")
    ap.add_argument("--kinds", default="base,head", help="base, head or both (default)")
    ap.add_argument("--deprecated", action="store_true", help="include models/deprecated/*")
    ap.add_argument("--portlint-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for every `portlint compare` (repeatable)")
    ap.add_argument("--list", action="store_true", help="print the families and pairs, run nothing")
    ap.add_argument("--from-json", type=Path, help="render a saved --json instead of running")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--markdown", type=Path, help="write the table into this file's generated section")
    dyn = ap.add_argument_group("instantiation (needs transformers, torch and TensorFlow)")
    dyn.add_argument("--instantiate", action="store_true",
                     help="build each pair from its config and compare the counts")
    dyn.add_argument("--instantiate-python", help="interpreter for that (default: --python)")
    dyn.add_argument("--instantiate-kinds", default="base", help="which pairs to build (default base)")
    dyn.add_argument("--instantiate-families", help="comma-separated families to build (default: all run)")
    dyn.add_argument("--config", help="config overrides for both sides, JSON text or a JSON file "
                                      "(e.g. '{\"num_hidden_layers\": 2}')")
    dyn.add_argument("--builds-from", type=Path, metavar="JSON",
                     help="take the built counts from a saved --json instead of building "
                          "(same families and --config); the static runs are made again")
    dyn.add_argument("--instantiate-timeout", type=float, default=300.0, help="seconds per pair")
    dyn.add_argument("--memory-limit", type=int, default=8192,
                     help="MB of address space a build may add to the imported frameworks")
    ns = ap.parse_args(argv)
    ns.python = _absolute(ns.python)
    ns.instantiate_python = _absolute(ns.instantiate_python or ns.python)
    ns.kinds = _choices(ns.kinds, "--kinds")
    ns.instantiate_kinds = _choices(ns.instantiate_kinds, "--instantiate-kinds")
    if ns.jobs < 1:
        ap.error("-j must be at least 1")
    return ns


def _absolute(python: str) -> str:
    """An absolute interpreter path that keeps a venv's symlink (resolving it would leave
    the venv); the runs happen in other working directories."""
    if os.sep not in python:
        return python
    return os.path.abspath(python)


def _choices(text: str, flag: str) -> tuple[str, ...]:
    chosen = tuple(k.strip() for k in text.split(",") if k.strip())
    bad = [k for k in chosen if k not in KINDS]
    if bad or not chosen:
        raise SystemExit(f"hf_ports: {flag}: expected base, head or base,head, got {text!r}")
    return chosen


def _names(text: str | None) -> set[str] | None:
    return {name.strip() for name in text.split(",") if name.strip()} if text else None


def load_overrides(text: str | None) -> dict:
    if not text:
        return {}
    try:
        data = json.loads(Path(text).read_text() if Path(text).is_file() else text)
    except (OSError, ValueError) as error:
        raise SystemExit(f"hf_ports: --config: not JSON text or a JSON file: {error}")
    if not isinstance(data, dict):
        raise SystemExit("hf_ports: --config: expected a JSON object of config keys")
    return data


def pair_jobs(families: list[hf_families.Family], kinds: tuple[str, ...]) -> list[dict]:
    """One row per pair to run, in family order, base before head."""
    rows = []
    for family in families:
        for kind in kinds:
            classes = getattr(family, kind)
            if classes:
                rows.append({"family": family.name, "kind": kind,
                             "tf_class": classes[0], "torch_class": classes[1],
                             "tf_ref": hf_families.reference(family.tf_file, classes[0]),
                             "torch_ref": hf_families.reference(family.torch_file, classes[1]),
                             "tf_file": family.tf_file, "torch_file": family.torch_file})
    return rows


def portlint_config_args(python: str, overrides: dict, tmp: Path) -> list[str]:
    """`--keras-config F --torch-config F` when this portlint takes them (issue 16 item 3),
    so that the static side sees the config the instantiated side is built with."""
    if not overrides:
        return []
    done = subprocess.run([python, "-m", "portlint", "compare", "--help"], capture_output=True,
                          text=True, timeout=120)
    if "--keras-config" not in done.stdout or "--torch-config" not in done.stdout:
        return []
    path = tmp / "config-overrides.json"
    path.write_text(json.dumps(overrides))
    return ["--keras-config", str(path), "--torch-config", str(path)]


def describe_portlint(python: str) -> str:
    probe = "import portlint, os; print(os.path.dirname(os.path.dirname(portlint.__file__)))"
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"hf_ports: {python} cannot import portlint: "
                         f"{(done.stderr.strip().splitlines() or ['?'])[-1]}")
    folder = done.stdout.strip()
    rev = subprocess.run(["git", "-C", folder, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True)
    return f"{folder}@{rev.stdout.strip()}" if rev.returncode == 0 else folder


def run_static(rows: list[dict], python: str, root: Path, ns, extra: list[str]) -> None:
    def one(row: dict) -> dict:
        result = hf_runs.run_pair(python, root, row["tf_ref"], row["torch_ref"], ns.timeout, extra)
        mark = "followed" if result["followed"] else "NOT followed"
        print(f"hf_ports: {row['family']} {row['kind']}: {mark} in {result['seconds']} s"
              f"{'' if result['followed'] else ': ' + str(result['reason'])[:120]}",
              file=sys.stderr, flush=True)
        return result

    with ThreadPoolExecutor(max_workers=ns.jobs) as pool:
        for row, result in zip(rows, pool.map(one, rows)):
            row.update(result)


def _chosen(rows: list[dict], ns) -> list[dict]:
    wanted = _names(ns.instantiate_families)
    return [r for r in rows if r["kind"] in ns.instantiate_kinds
            and (wanted is None or r["family"] in wanted)]


def _check_counts(row: dict, built: dict, overrides: dict, static_sees_config: bool) -> None:
    row["instantiated"] = built
    if overrides and not static_sees_config:
        row["counts_match"] = {"keras": "not comparable", "torch": "not comparable"}
    else:
        row["counts_match"] = hf_instantiate.compare_counts(row.get("static"), built)


def load_builds(path: Path) -> tuple[dict, str]:
    """The built counts of a saved --json, by (family, kind), and how they were made."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        built = {(r["family"], r["kind"]): r["instantiated"] for r in saved.get("pairs", [])
                 if isinstance(r, dict) and isinstance(r.get("instantiated"), dict)}
        origin = saved.get("meta", {}).get("instantiate") or "a saved run"
    except (OSError, ValueError, KeyError, AttributeError) as error:
        raise SystemExit(f"hf_ports: --builds-from: {error}")
    return built, str(origin)


def reuse_builds(rows: list[dict], ns, saved: tuple[dict, str], overrides: dict,
                 static_sees_config: bool) -> str:
    """`--builds-from`: the built counts of a saved run, checked against this run's
    static totals (building takes minutes per model; the counts do not change)."""
    built, origin = saved
    chosen = [r for r in _chosen(rows, ns) if (r["family"], r["kind"]) in built]
    for row in chosen:
        _check_counts(row, built[(row["family"], row["kind"])], overrides, static_sees_config)
    return f"{len(chosen)} pairs' counts from `{ns.builds_from.name}` ({origin})"


def run_instantiate(rows: list[dict], ns, overrides: dict, static_sees_config: bool) -> str:
    """Build the chosen pairs; returns the line the doc prints about it."""
    why_not = hf_instantiate.available(ns.instantiate_python)
    if why_not:
        print(f"hf_ports: --instantiate skipped: {why_not}", file=sys.stderr)
        return f"skipped ({why_not})"
    chosen = _chosen(rows, ns)

    def one(row: dict) -> dict:
        built = hf_instantiate.instantiate(ns.instantiate_python, row["tf_file"], row["tf_class"],
                                           row["torch_file"], row["torch_class"], overrides,
                                           ns.instantiate_timeout, ns.memory_limit)
        print(f"hf_ports: built {row['family']} {row['kind']} in {built['seconds']} s",
              file=sys.stderr, flush=True)
        return built

    with ThreadPoolExecutor(max_workers=ns.jobs) as pool:
        for row, built in zip(chosen, pool.map(one, chosen)):
            _check_counts(row, built, overrides, static_sees_config)
    config = json.dumps(overrides) if overrides else "the configuration classes' defaults"
    note = "" if static_sees_config or not overrides else (
        "; this portlint takes no --keras-config/--torch-config, so the static totals are "
        "of the defaults and not comparable")
    return (f"{len(chosen)} {'/'.join(ns.instantiate_kinds)} pairs in "
            f"`{ns.instantiate_python}`, from {config}{note}")


def list_families(families: list[hf_families.Family]) -> None:
    for f in families:
        base = " / ".join(f.base) if f.base else f"no base pair ({f.base_note})"
        head = " / ".join(f.head) if f.head else "no head pair"
        print(f"{f.name}\t{f.folder}\tbase: {base}\thead: {head}")
    print(f"{len(families)} families, {sum(1 for f in families if f.base)} base pairs, "
          f"{sum(1 for f in families if f.head)} head pairs")


def report(results: dict, ns, table=hf_table) -> None:
    """Write `--json` and `--markdown`, print the summary and the commonest reasons
    (`table`: the harness's table module, hf_table or pypi_table)."""
    if ns.json:
        ns.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    if ns.markdown:
        table.write_markdown(ns.markdown, results)
    print(table.summary(results))
    for pattern, count, _ in table.top_reasons(results["pairs"]):
        print(f"  {count:3d}  {pattern}")


def read_results(path: Path, program: str) -> dict:
    """A saved `--json`, for `--from-json`; a bad file ends the program with one line."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SystemExit(f"{program}: --from-json: {error}")


def main(argv: list[str] | None = None) -> int:
    ns = parse_args(argv)
    if ns.from_json:
        report(read_results(ns.from_json, "hf_ports"), ns)
        return 0
    package = hf_families.locate_source(ns.source, ns.python)
    families = hf_families.enumerate_families(package, ns.deprecated)
    total = len(families)
    if ns.families:
        wanted = _names(ns.families)
        unknown = wanted - {f.name for f in families}
        if unknown:
            raise SystemExit(f"hf_ports: no such family: {', '.join(sorted(unknown))}")
        families = [f for f in families if f.name in wanted]
    if ns.list:
        list_families(families)
        return 0
    overrides = load_overrides(ns.config)
    saved_builds = load_builds(ns.builds_from) if ns.builds_from is not None else None
    rows = pair_jobs(families, ns.kinds)
    with tempfile.TemporaryDirectory(prefix="hf-ports-") as tmp:
        building = ns.instantiate or ns.builds_from is not None
        config_args = portlint_config_args(ns.python, overrides, Path(tmp)) if building else []
        meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "portlint": describe_portlint(ns.python), "python": ns.python,
                "transformers": hf_families.source_version(package), "source": str(package),
                "jobs": ns.jobs, "timeout": ns.timeout, "load": round(os.getloadavg()[0], 2),
                "portlint_args": ns.portlint_arg + config_args}
        results = {"meta": meta, "families_total": total if not ns.families else len(families),
                   "families": [f.to_json() for f in families],
                   "no_base_pair": [f.name for f in families if not f.base], "pairs": rows}
        run_static(rows, ns.python, package.parent, ns, ns.portlint_arg + config_args)
        if saved_builds is not None:
            meta["instantiate"] = reuse_builds(rows, ns, saved_builds, overrides,
                                               bool(config_args))
        elif ns.instantiate:
            if ns.json:  # the static results are kept should the builds be interrupted
                ns.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
            meta["instantiate"] = run_instantiate(rows, ns, overrides, bool(config_args))
    report(results, ns)
    return 0


if __name__ == "__main__":
    sys.exit(main())
