#!/usr/bin/env python3
"""Peak memory of `portlint verify`'s worker on big models (a benchmark, not a test).

Builds, through the same worker code path `portlint verify` uses
(`portlint.dynamic.runner.run_worker` -> `python -m portlint.dynamic.worker`):

* bench/fixtures/llama_torch.py::Llama    LLaMA-7B-shaped torch model (6.74 B parameters)
* bench/fixtures/big_keras.py::build_model Keras model of 1.16 B weights

each without allocating weights (torch meta device, Keras stateless scope: verify's
default), and, for contrast where it fits in memory, with allocated weights. For every run
it reports the worker's peak resident memory (ru_maxrss of that child from wait4, the
kernel's high-water mark VmHWM) and the counts, and writes the table into docs/verify.md
between the `memory-table` markers.

    python bench/verify_memory.py                 # all runs, update docs/verify.md
    python bench/verify_memory.py --no-allocated  # only the lazy (default) builds
    python bench/verify_memory.py --output -      # print the table only
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "bench" / "fixtures"
DOC = REPO / "docs" / "verify.md"
START, END = "<!-- memory-table:start -->", "<!-- memory-table:end -->"

RUNS = [
    # (label, framework, file, name, lazy, memory limit MB or None)
    ("LLaMA-7B-shaped (torch)", "torch", "llama_torch.py", "Llama", True, 8192),
    ("1.16 B Dense/Embedding stack (Keras)", "keras", "big_keras.py", "build_model", True, 8192),
    ("1.16 B Dense/Embedding stack (Keras)", "keras", "big_keras.py", "build_model", False, 16384),
]
# The torch model with allocated weights needs 27 GB (float32): not run.


def version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def memory_total_gb() -> str:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.0f} GB"
    except OSError:
        pass
    return "?"


def run(label: str, framework: str, file: str, name: str, lazy: bool,
        limit: int | None, timeout: float) -> dict:
    sys.path.insert(0, str(REPO))
    from portlint.dynamic import protocol
    from portlint.dynamic.runner import run_worker

    path = FIXTURES / file
    spec = protocol.model_spec(framework, str(path), name,
                               display_path=str(path.relative_to(REPO)))
    request = protocol.request([spec], lazy=lazy, memory_limit_mb=limit)
    record = run_worker(request, timeout=timeout)
    row = {"label": label, "framework": framework, "model": f"{file}::{name}", "lazy": lazy,
           "ok": record.get("ok", False), "wall_s": record.get("wall_s"),
           "peak_rss_kb": record.get("peak_rss_kb"),
           "ready_rss_kb": (record.get("ready") or {}).get("rss_kb")}
    if not row["ok"]:
        row["error"] = record.get("error", {}).get("message", "?")
        return row
    model = record["models"][0]
    counts = record["steps"]["count"]["models"][0]["total"]
    row.update({"mode": model["mode"], "notes": model["notes"], "build_s": model["seconds"],
                "counts": counts})
    return row


def counts_text(row: dict) -> str:
    c = row["counts"]
    if row["framework"] == "torch":
        return f"{c['parameters']:,} parameters + {c['buffers']:,} buffer elements"
    return f"{c['trainable']:,} trainable + {c['non_trainable']:,} non-trainable"


MODE = {"meta": "meta device (no weights)", "cpu": "CPU (weights allocated)",
        "stateless": "stateless scope (no weights)", "eager": "eager (weights allocated)"}


def table(rows: list[dict]) -> str:
    lines = [
        (f"Measured {datetime.date.today().isoformat()} on {platform.machine()} "
         f"({os.cpu_count()} CPUs, {memory_total_gb()} RAM), Python "
         f"{platform.python_version()}, torch {version('torch')}, keras {version('keras')}, "
         f"tensorflow-cpu {version('tensorflow-cpu')}. Reproduce with "
         f"`python bench/verify_memory.py`."),
        "",
        ("| model | built | counts | worker peak RSS | after importing the framework | "
         "build time | worker wall time |"),
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if not row["ok"]:
            lines.append(f"| {row['label']} | {'lazy' if row['lazy'] else 'allocated'} | "
                         f"failed: {row['error']} | | | | |")
            continue
        peak = row["peak_rss_kb"] / 1024
        ready = (row["ready_rss_kb"] or 0) / 1024
        lines.append(f"| {row['label']} (`{row['model']}`) | {MODE[row['mode']]} | "
                     f"{counts_text(row)} | {peak:,.0f} MB | {ready:,.0f} MB | "
                     f"{row['build_s']:.2f} s | {row['wall_s']:.1f} s |")
    lines.append("")
    lines.append("Peak RSS is the worker process's own high-water mark (`ru_maxrss` from "
                 "`wait4`), framework included; the column after it is the resident memory "
                 "once the framework is imported, before the model's code runs. The "
                 "LLaMA-shaped torch model is not built with allocated weights here: that "
                 "needs 27 GB of float32 weights.")
    return "\n".join(lines)


def write_doc(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    if START not in doc or END not in doc:
        raise SystemExit(f"{DOC}: no {START} ... {END} markers")
    head, _, rest = doc.partition(START)
    _, _, tail = rest.partition(END)
    DOC.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-allocated", action="store_true",
                        help="skip the runs that allocate the weights")
    parser.add_argument("--output", default=str(DOC),
                        help="markdown file to update (between the markers), or - to print")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    rows = []
    for label, framework, file, name, lazy, limit in RUNS:
        if args.no_allocated and not lazy:
            continue
        row = run(label, framework, file, name, lazy, limit, args.timeout)
        rows.append(row)
        status = (f"{counts_text(row)}, peak RSS {row['peak_rss_kb'] / 1024:,.0f} MB, "
                  f"{row['mode']}" if row["ok"] else f"failed: {row['error']}")
        print(f"{label} ({'lazy' if lazy else 'allocated'}): {status}", file=sys.stderr,
              flush=True)
    text = table(rows)
    if args.output == "-":
        print(text)
    else:
        write_doc(text)
        print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
