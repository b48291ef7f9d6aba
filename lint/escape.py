"""Untrusted text (file names, layer and model names, messages quoting them, source lines)
made safe for the channel it is written to.

A report line is built by portlint; what it quotes comes from the analysed files and their
names. Written raw, such text could drive the terminal (ANSI/OSC escapes: colour, window
title, clear screen), reorder what is shown (bidi overrides, "Trojan Source"), start a new
line, or be executed by the GitHub Actions runner, which reads every line of a step's
output as a possible workflow command:

- a line is a command when it starts with `::` after leading whitespace
  (`ActionCommand.TryParseV2`: `message.TrimStart()`, then `StartsWith("::")`);
- the legacy form `##[name]data` is a command *anywhere* in a line
  (`ActionCommand.TryParse`: `message.IndexOf("##[")`), for any registered command,
  `add-mask` and `stop-commands` included.

Channels:

- `terminal`: the text and concise reports and stderr. Control characters (C0, DEL, C1),
  line and paragraph separators, bidi controls and lone surrogates (a file name that is
  not UTF-8) are shown as visible escapes (`\\x1b`, `\\n`, `\\u202e`; a name's raw byte
  as `\\xff`), and `##[` as `#\\x23[`. `line_start` also puts `./` before a path that
  would begin a line with `::`.
- `github_data` / `github_property`: the runner's own escaping (`%`, CR, LF in data; also
  `:` and `,` in properties, so that a value cannot end its property or the command), plus
  the visible escapes for the other control characters and `##[`.

Backslashes are not doubled: the escapes make text harmless and visible, not reversible
(JSON, SARIF and rdjson are reversible: `json.dumps` writes ASCII only).
"""

from __future__ import annotations

import re

# Everything that moves the cursor, ends a line, switches the terminal's state or reorders
# text; tab too, but in quoted source lines (`keep_tabs`: their indentation).
_UNSAFE = ("\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
           "\u2066-\u2069\ud800-\udfff")
_UNSAFE_WITH_TAB = re.compile(f"[\t{_UNSAFE}]|##\\[")
_UNSAFE_KEEP_TAB = re.compile(f"[{_UNSAFE}]|##\\[")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "##[": "#\\x23["}
# What the runner decodes (actions/toolkit `command.ts`, runner `ActionCommand.cs`).
_GITHUB_BREAKS = {"\r": "%0D", "\n": "%0A"}


def _visible(match: re.Match) -> str:
    text = match.group()
    if text in _NAMED:
        return _NAMED[text]
    code = ord(text)
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a non-UTF-8 file name (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal(text: str, keep_tabs: bool = False) -> str:
    """`text` for a terminal or a log: one line, no escape sequence, no workflow command."""
    pattern = _UNSAFE_KEEP_TAB if keep_tabs else _UNSAFE_WITH_TAB
    return pattern.sub(_visible, str(text))


def line_start(text: str) -> str:
    """`terminal(text)` for text that begins an output line (a finding's path): a leading
    `::` would make the line a workflow command, `./` keeps the path the same file."""
    safe = terminal(text)
    return f"./{safe}" if safe.lstrip().startswith("::") else safe


def report_line(line: str) -> str:
    """A whole report line built from untrusted parts (verify's sections), escaped, tabs
    kept; a line that would start with `::` starts with a visible `\\x3a` instead."""
    safe = terminal(line, keep_tabs=True)
    stripped = safe.lstrip()
    if stripped.startswith("::"):
        safe = safe[: len(safe) - len(stripped)] + "\\x3a" + stripped[1:]
    return safe


def _github(text: str, breaks: dict[str, str]) -> str:
    def visible(match: re.Match) -> str:
        return breaks.get(match.group()) or _visible(match)

    return _UNSAFE_WITH_TAB.sub(visible, str(text).replace("%", "%25"))


def github_data(text: str) -> str:
    """The data of a workflow command (after `::name props::`): line breaks as the runner
    decodes them (`%0A`), other control characters visible."""
    return _github(text, _GITHUB_BREAKS)


def github_property(text: str) -> str:
    """A property value (`file=...`): as data, and `:` and `,` too, so that the value can
    end neither its property nor the command."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")
