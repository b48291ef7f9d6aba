"""Colour for the formats people read (`text`, `concise`), never for the machine formats.

`--color auto|always|never` (default auto) decides, then the environment:

- `always` / `never`: as said, whatever the environment;
- `auto`: no colour when `NO_COLOR` is set to anything non-empty (no-color.org); colour when
  `FORCE_COLOR` is non-empty (and not `0`); else colour only when the report goes to a
  terminal (stdout is a TTY, no `--output-file`) and `TERM` is not `dumb`.

The renderers call `paint(role, text)` on fields they have already rendered (and escaped):
colour wraps a field, it never changes what is inside. While colour is off (the default,
and always for json, sarif, github and rdjson, which never call `paint`) `paint` returns
the text unchanged, so the bytes of an uncoloured report do not depend on this module.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TextIO

MODES = ("auto", "always", "never")
COLOURED_FORMATS = frozenset({"text", "concise"})

RESET = "\x1b[0m"
# Select Graphic Rendition codes per role: Ruff's choices where it has one.
STYLES: dict[str, str] = {
    "path": "1",          # bold
    "position": "36",     # cyan: line:col and the source lines' numbers
    "code": "1;31",       # bold red, as Ruff prints rule codes
    "rule": "2",          # dim: the rule's name, after the code
    "error": "1;31",
    "warning": "1;33",
    "info": "1;34",
    "fixable": "1;36",    # the `[*]` mark
}

_enabled = False


def wanted(mode: str, stream: TextIO | None, env: Mapping[str, str] | None = None) -> bool:
    """Whether to colour a report written to `stream` (None: a file, never a terminal)."""
    env = os.environ if env is None else env
    if mode == "always":
        return True
    if mode == "never":
        return False
    if env.get("NO_COLOR", ""):
        return False
    if env.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    if stream is None or env.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def enable(on: bool) -> None:
    global _enabled
    _enabled = on


def paint(role: str, text: str) -> str:
    """`text` in the colour of `role` while colour is enabled; else `text` itself."""
    if not _enabled or not text:
        return text
    style = STYLES.get(role)
    return f"\x1b[{style}m{text}{RESET}" if style else text
