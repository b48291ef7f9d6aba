"""The pre-parse scan (lint/token_limits.py) against CPython's own tokenizer: it refuses
exactly the nesting CPython refuses (more than 200 brackets, more than 99 indentation
levels), whatever strings, f-strings, comments and continuations surround it, and
refuses nothing in real code."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from portlint.token_limits import MAX_BRACKETS, MAX_INDENTS, refusal

CPYTHON_LIMITS = ("too many nested parentheses", "too many levels of indentation")

# Noise that holds brackets CPython does not count: strings of every kind, comments.
NOISE = st.sampled_from([
    "", " ", "'(('", '"[["', "'''{{\n(('''", '"""\n]]"""', "r'\\('", "b'(('", "f'{{(('",
    "f'{1}(('", "f'{x:>{w}}'", "rb'\\''", "'\\'(('", "  # (((\n", "\\\n",
])


@st.composite
def nested(draw) -> tuple[str, int]:
    """An expression nested `depth` brackets deep, with noise at every level."""
    depth = draw(st.sampled_from([0, 1, 150, 199, 200, 201, 202, 300]))
    kinds = draw(st.lists(st.sampled_from(["()", "[]", "{}", "f()"]), min_size=1, max_size=4))
    opening, closing = [], []
    for level in range(depth):
        kind = kinds[level % len(kinds)]
        noise = draw(NOISE) if level % 37 == 0 else ""
        opening.append(kind[:-1] + (noise + ", " if noise and kind != "{}" else ""))
        closing.append(kind[-1])
    return "X = " + "".join(opening) + "1" + "".join(reversed(closing)) + "\n", depth


def cpython_refuses(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError as exc:
        return any(limit in str(exc.msg) for limit in CPYTHON_LIMITS)
    return False


@settings(max_examples=150, deadline=None)
@given(nested())
def test_brackets_are_refused_exactly_where_cpython_refuses_them(case) -> None:
    text, depth = case
    found = refusal(text)
    assert (found is not None) == (depth > MAX_BRACKETS) == cpython_refuses(text), (depth, found)
    if found is not None:
        assert found.syntax and "too many nested parentheses" in found.message


@settings(max_examples=60, deadline=None)
@given(st.integers(90, 110), st.sampled_from(["    ", " ", "\t", " \t"]), st.booleans())
def test_indentation_is_refused_exactly_where_cpython_refuses_it(levels, unit, blank_lines) -> None:
    lines = []
    for level in range(levels):
        lines.append(unit * level + "if x:  # ((\n")
        if blank_lines:
            lines.append("\n" + unit * (level + 5) + "# a comment at any indentation\n")
    lines.append(unit * levels + "pass\n")
    text = "".join(lines)
    found = refusal(text)
    assert (found is not None) == (levels > MAX_INDENTS) == cpython_refuses(text)


def test_brackets_inside_strings_comments_and_continued_lines_do_not_count() -> None:
    text = ("X = ('''" + "(" * 500 + "''', \"" + "[" * 500 + "\",  # " + "{" * 500 + "\n"
            "     f'{{" + "(" * 500 + "}}', rf'\\{1}' \\\n     )\n")
    assert refusal(text) is None
    assert not cpython_refuses(text)


REAL = [Path(p) for p in ("/work/corpora/torchvision-0.29.1/torchvision/models",
                          "/work/corpora/keras-3.15.1/keras/src/applications")]


@pytest.mark.skipif(not all(p.is_dir() for p in REAL), reason="real sources not unpacked")
def test_real_code_is_never_refused() -> None:
    refused = []
    for root in REAL:
        for path in sorted(root.rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for chains in (None, 1000):
                if refusal(text, chains) is not None:
                    refused.append((os.fspath(path), chains))
    assert not refused
