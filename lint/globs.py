"""The globs of `exclude` and `per-file-ignores`: gitignore-like patterns over paths relative
to the configuration's directory."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """`*` any characters but `/`, `**` any directories, `?` one character, `[...]` a
    class; a pattern without `/` matches a file or directory name at any depth."""
    out = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1:i + 2] in ("!", "]") else i + 1)
            if end < 0:
                out.append(re.escape(c))
                i += 1
            else:
                body = pattern[i + 1:end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out))


def glob_matches(pattern: str, path: Path | str, root: Path) -> bool:
    """Whether `path` (or a directory containing it) matches `pattern`, a glob relative to
    `root`. A pattern without `/` also matches any single file or directory name."""
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(os.path.abspath(root)).as_posix()
    except ValueError:
        relative = None
    pattern = pattern.strip().removeprefix("./").rstrip("/")
    regex = glob_regex(pattern)
    if relative is not None:
        parts = relative.split("/")
        for end in range(len(parts), 0, -1):
            if regex.fullmatch("/".join(parts[:end])):
                return True
    if "/" not in pattern:
        names = relative.split("/") if relative is not None else [absolute.name]
        return any(regex.fullmatch(name) for name in names)
    return False
