"""portlint's temporary files, beside the file they will replace (atomic writes: `--fix`,
`--output-file`, `verify --emit-mapping`).

A temporary file is named `.NAME.PID.RANDOM.portlint-tmp`: our suffix, the name of the file
it stands in for and the id of the process writing it. A run killed between creating and
renaming it (SIGKILL, power loss) leaves it behind; a later run that writes into the same
directory removes every such file whose process is no longer alive (`remove_stale`). The
suffix is not a Python one, so `check` never walks, parses or reports one as a source.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile

SUFFIX = ".portlint-tmp"
# mkstemp's random part is letters, digits and `_`: never a dot, so the pid is unambiguous.
_CLEANED: set[str] = set()  # directories swept in this run: once each is enough
_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+" + re.escape(SUFFIX) + "$")


def create(target: str) -> tuple[int, str]:
    """A new temporary file (descriptor, path) in the directory of `target`; OSError when
    it cannot be created. Stale temporary files there are removed first."""
    directory = os.path.dirname(target) or "."
    if os.path.realpath(directory) not in _CLEANED:
        _CLEANED.add(os.path.realpath(directory))
        remove_stale(directory)
    return tempfile.mkstemp(prefix=f".{os.path.basename(target)}.{os.getpid()}.",
                            suffix=SUFFIX, dir=directory)


def owner(name: str) -> int | None:
    """The process id in a temporary file's name, None when `name` is not one of ours."""
    match = _NAME.match(name)
    return int(match.group("pid")) if match else None


def alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return True  # cannot tell: keep the file
    return True


def remove_stale(directory: str) -> list[str]:
    """Remove the temporary files in `directory` whose writing process is gone; returns
    their paths. Only regular files named as ours; never raises."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.endswith(SUFFIX):
            continue
        pid = owner(entry.name)
        if pid is None or pid == os.getpid() or alive(pid):
            continue
        try:
            if stat.S_ISREG(entry.stat(follow_symlinks=False).st_mode):
                os.unlink(entry.path)
                removed.append(entry.path)
        except OSError:
            pass  # another run removed it, or the directory is read-only
    return removed
