"""The globs of `exclude` and `per-file-ignores`: gitignore-like patterns over paths relative
to the configuration's directory.

A glob is matched by simulating all its positions at once (a Thompson-style automaton), never
by backtracking: the time is O(len(path) * len(pattern)) whatever the stars, so a hostile
`pyproject.toml` (`*a*a*a*a*a*a*a*a*b`) cannot hang a run.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Token kinds. A token either consumes one character and moves on, loops on itself, or (for
# `**/`) is an optional "any characters, then a slash" group.
LITERAL, ONE, CLASS, STAR, ANY, DIRS = "literal", "one", "class", "star", "any", "dirs"


@dataclass(frozen=True)
class Glob:
    """A compiled glob: `fullmatch(text)`, and `matches_a_prefix(path)` for "this path or a
    directory containing it"."""
    tokens: tuple[tuple[str, object], ...]

    def fullmatch(self, text: str) -> bool:
        return self._run(text, stop_at_slash=False)

    def matches_a_prefix(self, path: str) -> bool:
        """Whether the whole of `path`, or the part before one of its `/`, matches."""
        return self._run(path, stop_at_slash=True)

    def _run(self, text: str, stop_at_slash: bool) -> bool:
        accept = (len(self.tokens), False)
        states = self._closure({(0, False)})
        for char in text:
            if stop_at_slash and char == "/" and accept in states:
                return True
            states = self._closure(self._step(states, char))
            if not states:
                return False
        return accept in states

    def _closure(self, states: set[tuple[int, bool]]) -> set[tuple[int, bool]]:
        """Add the states reachable without consuming: past a star, into or past a `**/`."""
        todo, seen = list(states), set(states)
        while todo:
            index, inside = todo.pop()
            if index == len(self.tokens) or inside:
                continue
            kind = self.tokens[index][0]
            following = [(index + 1, False)] if kind in (STAR, ANY, DIRS) else []
            if kind == DIRS:
                following.append((index, True))
            for state in following:
                if state not in seen:
                    seen.add(state)
                    todo.append(state)
        return seen

    def _step(self, states: set[tuple[int, bool]], char: str) -> set[tuple[int, bool]]:
        out: set[tuple[int, bool]] = set()
        for index, inside in states:
            if index == len(self.tokens):
                continue
            kind, arg = self.tokens[index]
            if inside:                                  # the `.*/` of a `**/`
                out.add((index, True))
                if char == "/":
                    out.add((index + 1, False))
            elif kind in _CONSUMES and _CONSUMES[kind](arg, char):
                out.add((index + 1, False))
            elif kind in _LOOPS and _LOOPS[kind](char):
                out.add((index, False))
        return out


_CONSUMES = {
    LITERAL: lambda arg, char: char == arg,
    ONE: lambda arg, char: char != "/",
    CLASS: lambda arg, char: arg.fullmatch(char) is not None,
}
_LOOPS = {
    STAR: lambda char: char != "/",
    ANY: lambda char: True,
}


@lru_cache(maxsize=256)
def compile_glob(pattern: str) -> Glob:
    """`*` any characters but `/`, `**` any characters, `**/` any directories, `?` one
    character but `/`, `[...]` a class (`[!...]` negated). Raises `re.error` for a class
    that is not one."""
    tokens: list[tuple[str, object]] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            tokens.append((DIRS, None))
            i += 3
        elif pattern.startswith("**", i):
            tokens.append((ANY, None))
            i += 2
        elif c == "*":
            tokens.append((STAR, None))
            i += 1
        elif c == "?":
            tokens.append((ONE, None))
            i += 1
        elif c == "[" and (end := _class_end(pattern, i)) >= 0:
            body = pattern[i + 1:end]
            if body.startswith("!"):
                body = "^" + body[1:]
            elif body.startswith("^"):  # literal in a glob, as fnmatch reads it
                body = "\\" + body
            tokens.append((CLASS, _class(body)))
            i = end + 1
        else:
            tokens.append((LITERAL, c))
            i += 1
    return Glob(tuple(tokens))


def _class(body: str) -> re.Pattern[str]:
    """One class, matched against one character at a time: no backtracking possible. A `[`
    inside is literal, as it always was (escaped, and re's warnings about set operations
    like `--` silenced: they are about a future meaning, not this one)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile("[" + body.replace("[", "\\[") + "]")


def _class_end(pattern: str, start: int) -> int:
    """The index of the `]` closing the class opened at `start`, or -1. A `]` first in the
    class (after a `!`, if any) is a member, as in fnmatch: `[]a]`, `[!]]`."""
    first = start + 1
    if pattern[first:first + 1] == "!":
        first += 1
    if pattern[first:first + 1] == "]":
        first += 1
    return pattern.find("]", first)


def glob_matches(pattern: str, path: Path | str, root: Path) -> bool:
    """Whether `path` (or a directory containing it) matches `pattern`, a glob relative to
    `root`. A pattern without `/` also matches any single file or directory name."""
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(os.path.abspath(root)).as_posix()
    except ValueError:
        relative = None
    pattern = pattern.strip().removeprefix("./").rstrip("/")
    glob = compile_glob(pattern)
    if relative is not None and glob.matches_a_prefix(relative):
        return True
    if "/" not in pattern:
        names = relative.split("/") if relative is not None else [absolute.name]
        return any(glob.fullmatch(name) for name in names)
    return False
