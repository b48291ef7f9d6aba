"""`python -m portlint`. Python puts the current directory first on sys.path for `-m`, so
a `typer.py` or `libcst.py` in the analysed project would be imported (and run) in place
of portlint's own dependency: static mode must never run the code it reads."""

import os
import sys

if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from portlint.cli import main  # noqa: E402

main()
