"""The raw parse floor: parse every corpus file once, in one process, one thread.

    python bench/parse_floor.py --stage cst|ast CORPUS_DIR

`cst` is `libcst.parse_module` (what any libcst-based linter pays at least), `ast` is
`ast.parse` (CPython's C parser, for reference). Prints one JSON object: the import time
of the parser module, the parse time (wall and CPU) over all files, files, bytes and
parse failures. `bench/run.py` runs it in a fresh process per run and also times the whole
process from outside.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import corpus_files  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stage", choices=("cst", "ast"), required=True)
    ap.add_argument("corpus", type=Path)
    args = ap.parse_args()
    files = corpus_files(args.corpus)
    data = [f.read_bytes() for f in files]  # reading is not parsing: done before the clock

    t0 = time.perf_counter()
    if args.stage == "cst":
        import libcst

        parse = libcst.parse_module
    else:
        import ast

        parse = ast.parse
    import_s = time.perf_counter() - t0

    failures = []
    w0, c0 = time.perf_counter(), time.process_time()
    for path, source in zip(files, data):
        try:
            parse(source)
        except Exception as exc:  # a parse failure is data
            failures.append(f"{path}: {type(exc).__name__}")
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    print(json.dumps({"stage": args.stage, "files": len(files), "bytes": sum(map(len, data)),
                      "import_s": round(import_s, 4), "parse_wall_s": round(wall, 4),
                      "parse_cpu_s": round(cpu, 4), "failures": failures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
