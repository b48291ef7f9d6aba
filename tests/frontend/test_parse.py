"""Parsing a large file in pieces (lint/source.py `_parse_in_chunks`, issue 7): libcst's
parser peaks at about 350 bytes of memory per byte of source, so files over CHUNK_CHARS
are parsed a run of top-level statements at a time and joined. The joined module must be
the module a whole parse gives: the same code and the same position for every node."""

from __future__ import annotations

import libcst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from portlint import source as source_module
from portlint.source import CHUNK_CHARS, parse_text

# Top-level statements of every kind a piece may start or end with: comments and blank
# lines between them (they move to the next piece's first statement), decorators, two
# statements on one line, an indented block ending in comments, a docstring.
UNIT = '''\
# a comment before the class
@decorator(1)
@other
class Block{i}(nn.Module):
    """A block."""

    def __init__(self, width={i}):
        super().__init__()
        self.fc = nn.Linear(width, width)  # trailing comment
        # a comment at the end of the block

    def forward(self, x):
        return self.fc(x)
# a comment at column 0 after the block

WIDTH_{i} = {i}; DEPTH_{i} = 2


if WIDTH_{i} > 3:
    HEAD_{i} = nn.Linear(WIDTH_{i}, 2)
else:
    HEAD_{i} = None
'''


def big_source(newline: str = "\n") -> str:
    header = '"""A large generated module."""\n# header comment\n\nimport torch.nn as nn\n\n\n'
    text = header + "\n\n".join(UNIT.format(i=i) for i in range(CHUNK_CHARS // len(UNIT) * 3))
    text += "\n# the last comment\n"
    return text.replace("\n", newline)


def positions(module: libcst.Module) -> list[tuple]:
    found = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return sorted((p.start.line, p.start.column, p.end.line, p.end.column, type(n).__name__)
                  for n, p in found.items())


def test_a_large_file_is_parsed_in_pieces_into_the_same_module(monkeypatch):
    text = big_source()
    pieces: list[str] = []
    parse = libcst.parse_module

    def recording_parse(source, *args, **kwargs):
        pieces.append(source)
        return parse(source, *args, **kwargs)

    monkeypatch.setattr(libcst, "parse_module", recording_parse)
    joined = parse_text("big.py", text).module
    assert len(pieces) >= 3 and max(map(len, pieces)) < 2 * CHUNK_CHARS
    assert joined.code == text
    monkeypatch.setattr(libcst, "parse_module", parse)
    assert positions(joined) == positions(libcst.parse_module(text))


def test_other_line_breaks_are_parsed_whole(monkeypatch):
    text = big_source("\r\n")
    calls: list[int] = []
    parse = libcst.parse_module
    monkeypatch.setattr(libcst, "parse_module",
                        lambda source, *a, **k: calls.append(len(source)) or parse(source, *a, **k))
    assert parse_text("big.py", text).module.code == text
    assert calls == [len(text)]


def test_a_syntax_error_is_reported_where_python_reports_it():
    text = big_source()
    broken = text.replace("class Block5(nn.Module):", "class Block5(nn.Module:")
    with pytest.raises(source_module.InputError, match=r"big\.py:\d+:\d+: syntax error"):
        parse_text("big.py", broken)


def test_positions_are_those_of_libcsts_metadata_resolver():
    """`source._positions` computes libcst's PositionProvider positions with a faster
    code generation state (positions.py); every node must get the position the public
    API gives."""
    module = libcst.parse_module("".join(UNIT.format(i=i) for i in range(3)))
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    found = source_module._positions(module)
    assert len(found) == len(expected) > 100
    assert all(found[id(node)] == (r.start.line, r.start.column, r.end.line, r.end.column)
               for node, r in expected.items())


AWKWARD = [
    "x = (1 +\\\n 2)\r\ny = 'a\\\r\nb'\r\n",  # \r\n newlines, line continuations
    "z = 1\ry = 2\r",  # old Mac newlines
    "if a:\n\tb = [\n\t\t1,\n\t]\n# end",  # tabs, no trailing newline
    "@d\n# c\nclass A(B, metaclass=M):\n    '''doc\n    more'''\n\n"
    "    def f(self, *a, **k) -> int:\n        return (yield from g())  # t\n",
    "f(a)[b:c, ...].d(*e, **{'k': (lambda x=1: x)})\n",
    "",
]


@pytest.mark.parametrize("text", AWKWARD)
def test_positions_match_libcst_on_awkward_text(text):
    from portlint.positions import _libcst_positions, node_positions

    module = libcst.parse_module(text)
    assert node_positions(module) == _libcst_positions(module)


def test_a_parsed_files_outline_is_that_of_its_text():
    """parse_text makes the outline from the stdlib tree of its syntax check."""
    from portlint.outline import outline

    text = "".join(UNIT.format(i=i) for i in range(3))
    parsed = parse_text("units.py", text)
    assert parsed.memo["outline"] == outline(text)
    assert {"Block0", "Block2", "WIDTH_1", "HEAD_2"} <= set(parsed.memo["outline"])


def test_literals_are_evaluated_without_cyclic_garbage():
    """`ast.literal_eval` leaves a cycle of closures per call in Python 3.11, which the
    garbage collector must then find; the interpreter's `_literal` must not."""
    import gc

    from portlint.frontend.interpreter import _literal

    cases = {"1_000": 1000, "0x1F": 31, "0o17": 15, "0b101": 5, "1e-3": 1e-3, "2.5j": 2.5j,
             "'a\\n'": "a\n", 'b"\\x00"': b"\x00", 'r"\\d"': "\\d", "'''x'''": "x"}
    assert {text: _literal(text) for text in cases} == cases
    with pytest.raises((ValueError, SyntaxError)):
        _literal("f(1)")
    with pytest.raises((ValueError, SyntaxError)):
        _literal("9" * 5000)  # beyond Python's digit limit
    _literal.cache_clear()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for text in cases:
            _literal(text)
        gc.collect()
        left = len(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert left == 0
