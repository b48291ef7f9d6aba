"""What one keystroke costs in the editor: `portlint server`'s re-check of an edited file.

    python bench/edit_latency.py [--edits 5] [--pair KERAS TORCH] FILE...

The language server keeps a worker process: after a change (and its 0.2 s quiet period) it
sets the editor's text as an overlay and runs `check` on that file, reusing every parse
and interpreted module of earlier checks. This does the same in one process, without the
JSON-RPC around it: for each file, a first check (parses the file and the modules it
imports), then `--edits` checks each after an edit (a comment line added at the end: the
file is parsed and interpreted again, its imports are not). `--pair` copies a Keras/torch
pair into a scratch project whose pyproject.toml declares it, so the port's check runs
`compare` too. Prints one JSON object: per file, the first check's and each edit's wall
time and the findings. `bench/run.py` runs it once per bench.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edits", type=int, default=5)
    ap.add_argument("--pair", nargs=2, type=Path, metavar=("KERAS", "TORCH"))
    ap.add_argument("files", nargs="*", type=Path)
    args = ap.parse_args()

    started = time.perf_counter()
    from portlint.check import check
    from portlint.config import Settings, discover
    from portlint.source import set_overlay
    from portlint.workers import tune_garbage_collector

    tune_garbage_collector()  # as `portlint server` does
    imports = time.perf_counter() - started

    scratch = Path(tempfile.mkdtemp(prefix="portlint-edit-"))
    files = [path.resolve() for path in args.files]
    if args.pair:
        keras, torch = (shutil.copy(path, scratch / path.name) for path in args.pair)
        (scratch / "pyproject.toml").write_text(
            f'[tool.portlint]\npairs = [{{keras = "{Path(keras).name}", '
            f'torch = "{Path(torch).name}"}}]\n')
        files.insert(0, Path(torch))
    results = {}
    try:
        for path in files:
            text = path.read_text(encoding="utf-8")
            times, findings = [], 0
            for edit in range(args.edits + 1):
                # edit 0 is the file as it is; later ones add a line, as typing would
                set_overlay(str(path), text if edit == 0 else f"{text}\n# edit {edit}\n")
                t0 = time.perf_counter()
                settings = Settings.make(discover(start=path.parent))
                findings = len(check([str(path)], settings).findings)
                times.append(time.perf_counter() - t0)
            set_overlay(str(path), None)
            results[str(path)] = {"first_s": times[0], "edits_s": times[1:],
                                  "findings": findings}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps({"imports_s": imports, "files": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
