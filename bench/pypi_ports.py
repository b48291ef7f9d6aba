#!/usr/bin/env python3
"""How far `portlint compare` follows the Keras <-> PyTorch port packages on PyPI (issue 19):
keras-cv-attention-models against timm, vit-keras against timm's ViT, efficientnet against
efficientnet_pytorch, keras-tcn against pytorch-tcn, segmentation-models against
segmentation-models-pytorch.

    python bench/pypi_ports.py --json results.json --markdown docs/pypi-ports.md
    python bench/pypi_ports.py --source-root /path/to/site-packages-like/folder -j 1
    python bench/pypi_ports.py --list                     # the pairs only, run nothing
    python bench/pypi_ports.py --groups named --only convnext,tcn
    python bench/pypi_ports.py --from-json results.json --markdown docs/pypi-ports.md

The packages are downloaded by pip (`pip download --no-deps`, wheels, an sdist where there
is no wheel) into `--cache` and unpacked into its `site/` folder (pypi_sources.py), or read
from `--source-root`; never installed, imported or copied into the repository. The pairs are
pypi_pairs.py's. Each runs as `python -m portlint compare KERAS_REF TORCH_REF --format json`
in `--python`, in the site folder, `-j` at a time, each with `--timeout` seconds
(hf_runs.py). Documented in docs/pypi-ports.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hf_ports  # noqa: E402
import hf_runs  # noqa: E402
import pypi_pairs  # noqa: E402
import pypi_sources  # noqa: E402
import pypi_table  # noqa: E402

GROUPS = ("named", "matched")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source-root", type=Path,
                    help="a folder holding the unpacked packages (skips the download)")
    ap.add_argument("--cache", type=Path, default=pypi_sources.default_cache(),
                    help="where downloads and the unpacked site/ go (default %(default)s)")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter that runs portlint and pip (default: this one)")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="pairs at a time (default 1)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per pair (default 120)")
    ap.add_argument("--groups", default="named,matched", help="named, matched or both (default)")
    ap.add_argument("--only", help="comma-separated words: run the pairs whose name or "
                                   "references contain one (case-insensitive)")
    ap.add_argument("--every", type=int, default=1, metavar="K",
                    help="run every K-th matched pair only (a sample, in name order; default 1)")
    ap.add_argument("--portlint-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for every `portlint compare` (repeatable)")
    ap.add_argument("--sides", action="store_true",
                    help="also run each side against a one-layer stand-in of the other "
                         "framework: is that side followed on its own")
    ap.add_argument("--list", action="store_true", help="print the pairs, run nothing")
    ap.add_argument("--from-json", type=Path, help="render a saved --json instead of running")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--markdown", type=Path, help="write the table into this file's generated section")
    ns = ap.parse_args(argv)
    ns.python = hf_ports._absolute(ns.python)
    ns.groups = tuple(g.strip() for g in ns.groups.split(",") if g.strip())
    if not ns.groups or any(g not in GROUPS for g in ns.groups):
        ap.error("--groups: expected named, matched or named,matched")
    if ns.jobs < 1 or ns.every < 1:
        ap.error("-j and --every must be at least 1")
    return ns


def build_pairs(site: Path, groups: tuple[str, ...],
                every: int = 1) -> tuple[list[pypi_pairs.Pair], dict]:
    kecam = pypi_pairs.registered(site, pypi_pairs.KECAM)
    timm = pypi_pairs.registered(site, pypi_pairs.TIMM)
    matching = pypi_pairs.match(kecam, timm)
    pairs = pypi_pairs.named_pairs(site, kecam, timm) if "named" in groups else []
    if "matched" in groups:
        pairs += pypi_pairs.matched_pairs(matching)[::every]
    info = {"kecam_models": sum(map(len, kecam.values())),
            "timm_models": sum(map(len, timm.values())),
            "pairs": len(matching.pairs),
            "by_size": sum(1 for *_, how in matching.pairs if how != "name"),
            "unmatched": matching.unmatched, "ambiguous": matching.ambiguous}
    return pairs, info


def _selected(pair: pypi_pairs.Pair, words: list[str]) -> bool:
    text = f"{pair.name} {pair.keras_ref} {pair.torch_ref}".lower()
    return any(w in text for w in words)


def _entry(ref: str) -> str:
    return ref.split("::", 1)[-1].split("(", 1)[0]


def row_of(pair: pypi_pairs.Pair) -> dict:
    return {"name": pair.name, "group": pair.group, "keras_ref": pair.keras_ref,
            "torch_ref": pair.torch_ref, "args": pair.args, "note": pair.note,
            "tf_class": _entry(pair.keras_ref), "torch_class": _entry(pair.torch_ref)}


# The stand-ins a side is compared with when it runs alone (--sides): one layer with weights
# of the other framework, so that the run says whether this side is followed.
STAND_IN_KERAS = """\
import keras


def stand_in():
    inputs = keras.Input({shape})
    return keras.Model(inputs, keras.layers.Dense(8)(inputs))
"""
STAND_IN_TORCH = """\
from torch import nn


class StandIn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        return self.conv(x)
"""
SIDE_KEYS = ("followed", "reason", "reason_at", "seconds", "exit")


def _shape(args: list[str]) -> str:
    """The pair's `--input-shape`, else an image's, as a Python tuple."""
    text = args[args.index("--input-shape") + 1] if "--input-shape" in args[:-1] else "224,224,3"
    return f"({text},)" if "," not in text else f"({text})"


def run_sides(row: dict, index: int, site: Path, ns, folder: Path) -> None:
    """Each side of the pair against the other framework's stand-in (in `folder`)."""
    keras_stand_in = folder / f"stand_in_keras_{index}.py"
    keras_stand_in.write_text(STAND_IN_KERAS.format(shape=_shape(row["args"])))
    torch_stand_in = folder / "stand_in_torch.py"
    for side, keras_ref, torch_ref in (
            ("keras_alone", row["keras_ref"], f"{torch_stand_in}::StandIn"),
            ("torch_alone", f"{keras_stand_in}::stand_in", row["torch_ref"])):
        result = hf_runs.run_pair(ns.python, site, keras_ref, torch_ref, ns.timeout,
                                  [*row["args"], *ns.portlint_arg])
        row[side] = {key: result.get(key) for key in SIDE_KEYS}


def run_rows(rows: list[dict], site: Path, ns, missing: dict[int, str]) -> None:
    """Run each distinct (refs, arguments) once: a named kecam pair is also a matched one."""
    done: dict[tuple, dict] = {}
    folder = Path(tempfile.mkdtemp(prefix="pypi-ports-"))
    (folder / "stand_in_torch.py").write_text(STAND_IN_TORCH)

    def one(index: int) -> dict:
        row = rows[index]
        if index in missing:
            return {"exit": None, "followed": False, "seconds": None,
                    "reason": missing[index], "reason_at": None}
        result = hf_runs.run_pair(ns.python, site, row["keras_ref"], row["torch_ref"],
                                  ns.timeout, [*row["args"], *ns.portlint_arg])
        mark = "followed" if result["followed"] else "NOT followed"
        if ns.sides:
            run_sides(row, index, site, ns, folder)
            result.update({k: row[k] for k in ("keras_alone", "torch_alone")})
            mark += (f" (Keras alone {'yes' if row['keras_alone']['followed'] else 'no'}, "
                     f"torch alone {'yes' if row['torch_alone']['followed'] else 'no'})")
        print(f"pypi_ports: {row['name']}: {mark} in {result['seconds']} s"
              f"{'' if result['followed'] else ': ' + str(result['reason'])[:120]}",
              file=sys.stderr, flush=True)
        return result

    firsts: dict[tuple, int] = {}
    for i, row in enumerate(rows):
        firsts.setdefault((row["keras_ref"], row["torch_ref"], tuple(row["args"])), i)
    with ThreadPoolExecutor(max_workers=ns.jobs) as pool:
        indexes = sorted(set(firsts.values()))
        for index, result in zip(indexes, pool.map(one, indexes)):
            done[index] = result
    shutil.rmtree(folder, ignore_errors=True)
    for row in rows:
        row.update(done[firsts[(row["keras_ref"], row["torch_ref"], tuple(row["args"]))]])


def report(results: dict, ns) -> None:
    hf_ports.report(results, ns, pypi_table)


def main(argv: list[str] | None = None) -> int:
    ns = parse_args(argv)
    if ns.from_json:
        report(hf_ports.read_results(ns.from_json, "pypi_ports"), ns)
        return 0
    if ns.source_root is not None:
        site = ns.source_root.resolve()
        if not site.is_dir():
            raise SystemExit(f"pypi_ports: --source-root {site}: not a folder")
    else:
        site = pypi_sources.fetch(ns.python, ns.cache.resolve())
    pairs, matching = build_pairs(site, ns.groups, ns.every)
    if ns.only:
        words = [w.strip().lower() for w in ns.only.split(",") if w.strip()]
        pairs = [p for p in pairs if _selected(p, words)]
    if ns.list:
        for p in pairs:
            state = f"\tMISSING: {p.missing}" if p.missing else ""
            print(f"{p.group}\t{p.name}\t{p.keras_ref}\t{p.torch_ref}\t{' '.join(p.args)}{state}")
        print(f"{len(pairs)} pairs; name matching: {matching['pairs']} kecam/timm pairs")
        return 0
    rows = [row_of(p) for p in pairs]
    missing = {i: p.missing for i, p in enumerate(pairs) if p.missing}
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "portlint": hf_ports.describe_portlint(ns.python), "python": ns.python,
            "source": str(site), "versions": pypi_sources.versions(site), "jobs": ns.jobs,
            "timeout": ns.timeout, "load": round(os.getloadavg()[0], 2),
            "portlint_args": ns.portlint_arg, "sides": ns.sides, "every": ns.every}
    results = {"meta": meta, "matching": matching, "pairs": rows}
    run_rows(rows, site, ns, missing)
    report(results, ns)
    return 0


if __name__ == "__main__":
    sys.exit(main())
