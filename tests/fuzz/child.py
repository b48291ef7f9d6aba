"""The fuzz lane's worker: one process that runs many cases through the real CLI entry
point (`portlint.cli.main`, as `python -m portlint` runs it), so that start-up is paid
once. It reads one case per line on stdin (JSON: the files to write, base64, and the
command line) and answers one line (JSON: exit code, stdout, stderr). A case that kills
it (a signal, a C stack overflow) kills only this process: the parent records the case
and starts another. Not a test module; run by tests/fuzz/runner.py.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import shutil
import sys
import traceback

# As `python -m portlint` does: the analysed folder must not shadow portlint's imports.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from portlint.cli import main  # noqa: E402


def run_case(case: dict, number: int) -> dict:
    folder = f"case{number}"
    os.makedirs(folder)
    try:
        for name, data in case["files"].items():
            path = os.path.join(folder, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(base64.b64decode(data))
        out, err = io.StringIO(), io.StringIO()
        code: object = 0
        sys.argv = ["portlint", *[arg.replace("{dir}", folder) for arg in case["argv"]]]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as exc:
                code = exc.code if exc.code is not None else 0
            except BaseException:  # noqa: BLE001  what a user would see: a traceback
                traceback.print_exc()
                code = "traceback"
        return {"rc": code, "stdout": out.getvalue(), "stderr": err.getvalue()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def serve() -> None:
    stdin = sys.stdin
    answer = sys.stdout
    for number, line in enumerate(stdin):
        result = run_case(json.loads(line), number)
        answer.write(json.dumps(result) + "\n")
        answer.flush()


if __name__ == "__main__":
    serve()
