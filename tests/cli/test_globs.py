"""The glob matcher of `exclude` and `per-file-ignores` (lint/globs.py): the same answers as
the regex translation it replaced, on many generated patterns and paths, and no backtracking:
a pathological pattern in a real `pyproject.toml` with a long file name ends at once."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support import assert_input_error, portlint, seed_pair, shown, write
from portlint.config import glob_matches
from portlint.globs import compile_glob


def old_regex(pattern: str) -> re.Pattern[str]:
    """The translation lint/globs.py used before (one backtracking regex per glob), kept here
    as the reference the new matcher must agree with."""
    out, i, n = [], 0, len(pattern)
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
                out.append(f"[{'^' + body[1:] if body.startswith('!') else body}]")
                i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "possible nested set": `[[`
        return re.compile("".join(out))


PATTERN_PIECES = st.sampled_from(["a", "b", ".", "/", "*", "**", "**/", "?", "[ab]", "[!a]",
                                  "[a-c]", "[]a]", "[!]]", "[", "]", "!", "-", "^", "py"])
PATH_CHARS = st.sampled_from("ab./-]![^c")
HYPOTHESIS = {"deadline": None, "database": None, "max_examples": 2000,
              "suppress_health_check": [HealthCheck.too_slow]}


@settings(**HYPOTHESIS)
@given(pieces=st.lists(PATTERN_PIECES, max_size=8), path=st.text(PATH_CHARS, max_size=12))
def test_fullmatch_agrees_with_the_old_regex(pieces: list[str], path: str):
    pattern = "".join(pieces)
    # The old translation closed `[!]]` at its first `]` and spilled the rest into a broken
    # regex; the new one reads it as fnmatch does (not `]`), tested below.
    assume("[!]" not in pattern)
    # It also passed a set's leading `^` to re, where it negates (`[^]*` became a broken
    # set); a glob reads it literally, as fnmatch does (hypothesis found it; tested below).
    assume("[^" not in pattern)
    try:
        expected = old_regex(pattern).fullmatch(path) is not None
    except re.error:
        with pytest.raises(re.error):
            compile_glob(pattern)
        return
    assert compile_glob(pattern).fullmatch(path) is expected, (pattern, path)


@settings(**{**HYPOTHESIS, "max_examples": 500})
@given(pieces=st.lists(PATTERN_PIECES.filter(lambda p: "[" not in p), max_size=6),
       parts=st.lists(st.text(st.sampled_from("ab.-"), min_size=1, max_size=4)
                      .filter(lambda name: name not in (".", "..")), min_size=1, max_size=4))
def test_path_matching_agrees_with_the_old_prefix_and_name_rules(pieces, parts):
    """A path matches when it or a directory containing it matches, and a pattern without
    `/` also matches any one name: the old rules, computed here from the old regex."""
    pattern = "".join(pieces).strip().removeprefix("./").rstrip("/")
    regex = old_regex(pattern)
    expected = any(regex.fullmatch("/".join(parts[:end])) for end in range(len(parts), 0, -1))
    if "/" not in pattern:
        expected = expected or any(regex.fullmatch(name) for name in parts)
    root = Path("/project")
    assert glob_matches("".join(pieces), root / "/".join(parts), root) is expected, (pieces, parts)


@pytest.mark.parametrize("pattern, text, expected", [
    ("[!]]", "]", False), ("[!]]", "a", True), ("[]]x", "]x", True), ("[!]", "[!]", True),
    ("a[[]b", "a[b", True), ("[a-c]", "/", False), ("[!a]", "/", True),
])
def test_classes(pattern: str, text: str, expected: bool):
    assert compile_glob(pattern).fullmatch(text) is expected


@pytest.mark.parametrize("stars", [8, 20])
def test_pathological_glob_is_linear(stars: int):
    glob = compile_glob("*a" * stars + "*b")
    assert not glob.fullmatch("a" * 240 + ".py")
    assert glob.fullmatch("a" * 240 + "b")


def test_pathological_exclude_in_pyproject_does_not_hang(tmp_path: Path):
    """`*a*a*a*a*a*a*a*a*b` took minutes against a long name with the backtracking regex; the
    generous timeout only catches a hang."""
    seed_pair(tmp_path)
    write(tmp_path / "nets" / ("a" * 200 + ".py"), "x = 1\n")
    write(tmp_path / "pyproject.toml", '[tool.portlint]\nexclude = ["*a*a*a*a*a*a*a*a*b", '
                                        '"**/*a*a*a*a*a*a*a*a*a*a*b/**"]\n')
    result = portlint("check", ".", "--format", "json", cwd=tmp_path, timeout=120)
    assert result.returncode in (0, 1), shown(result)


def test_invalid_exclude_glob_is_a_configuration_error(tmp_path: Path):
    seed_pair(tmp_path)
    write(tmp_path / "pyproject.toml", '[tool.portlint]\nexclude = ["build", "[z-a].py"]\n')
    assert_input_error(portlint("check", ".", cwd=tmp_path), r"exclude\[1\]: invalid glob")


@pytest.mark.parametrize("path", ["^", "^abc", "a", "]", ""])
def test_a_leading_caret_in_a_class_is_literal_as_in_fnmatch(path: str):
    import fnmatch

    for pattern in ("[^]*", "[^a]", "[^]"):
        assert bool(compile_glob(pattern).fullmatch(path)) is fnmatch.fnmatchcase(path, pattern), pattern
