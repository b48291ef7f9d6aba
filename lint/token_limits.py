"""CPython's tokenizer limits, checked in one linear scan of the text before libcst parses
it. libcst's native parser has none: some 1,300 nested brackets overflow its C stack (a
SIGSEGV, no message), and in a file the stdlib parser rejects (so that its tree cannot
measure expressions, parsing.py) a chain like `a.b.c...` or `1+1+...` takes libcst
minutes or crashes it the same way. CPython refuses more than 200 nested brackets and 99
indentation levels in every version (3.12 also more than 150 nested f-strings), so such a
file is a syntax error wherever portlint runs, and is reported as one.

The scan knows strings (prefixes, triple quotes, escapes), f-string replacement fields
and format specs, comments, line continuations and CPython's indentation rules; it does
not check anything else (the parsers do).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BRACKETS = 200  # MAXLEVEL in CPython's tokenizer
MAX_INDENTS = 99  # MAXINDENT (100) counts the module's own level
MAX_FSTRINGS = 150  # MAXFSTRINGLEVEL (3.12+)
TAB_SIZE = 8

_PREFIX_LETTERS = frozenset("rRbBuUfFtT")
_CHAIN_KEYWORDS = frozenset({"not", "and", "or", "if", "else", "lambda", "await", "in",
                             "is", "yield"})
# What the code scan stops at; `:` only in a replacement field (it starts the format spec).
_CODE = re.compile(r"[\r\n\\#'\"()\[\]{}]")
_FIELD = re.compile(r"[\r\n\\#'\"()\[\]{}:]")
# The same, and what chains expressions: operators, names (some are keywords), `,` `;`.
_CHAIN_EXTRA = r"|[-+*/%@&|^~<>.=!,;]|[^\W\d]\w*"
_CODE_CHAINS = re.compile(_CODE.pattern + _CHAIN_EXTRA)
_FIELD_CHAINS = re.compile(_FIELD.pattern + _CHAIN_EXTRA)
_LITERAL = re.compile(r"[\r\n\\{}'\"]")  # in an f-string's text and format specs
_INDENT = re.compile(r"[ \t\f]*")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_GAP = re.compile(r"(?:\s|\\(?:\r\n|\r|\n)|#[^\r\n]*)*")  # between adjacent literals


def _string_end(quote: str) -> re.Pattern[str]:
    """Where a plain string's body ends: after its closing quote, or (one-line quotes)
    before the line break that leaves it unterminated. Unrolled loops: linear."""
    q = re.escape(quote[0])
    if len(quote) == 3:
        return re.compile(rf"[^{q}\\]*(?:(?:\\[\s\S]|{q}(?!{q}{q}))[^{q}\\]*)*{q}{q}{q}")
    return re.compile(rf"[^{q}\\\r\n]*(?:\\(?:\r\n|[\s\S])[^{q}\\\r\n]*)*{q}?")


_STRING_END = {quote: _string_end(quote) for quote in ("'", '"', "'''", '"""')}


@dataclass(frozen=True)
class Refusal:
    """Where and why the text is refused. `syntax`: CPython refuses it too (a syntax
    error); else it is beyond portlint's bound on expression chains."""

    line: int
    column: int
    message: str
    syntax: bool = True


class _TooDeep(Exception):
    def __init__(self, position: int, message: str, syntax: bool = True) -> None:
        self.position, self.message, self.syntax = position, message, syntax


@dataclass
class _FString:
    quote: str
    raw: bool
    level: int  # the bracket level where the f-string starts


@dataclass
class _Field:  # a replacement field: code until its `}` at `level`
    level: int
    spec: bool = False  # in the format spec (after a top-level `:`): literal text again


def refusal(text: str, max_chain: int | None = None) -> Refusal | None:
    """The first place where `text` goes beyond CPython's tokenizer limits, or where more
    than `max_chain` operators, trailers or adjacent string literals chain into one
    expression (an upper bound of libcst's nesting; None: chains are not counted, except
    adjacent literals, which CPython's tree does not show), or None."""
    try:
        _Scan(text, max_chain).run()
    except _TooDeep as exc:
        before = text[:exc.position]
        breaks = list(_LINE_BREAK.finditer(before))
        line_start = breaks[-1].end() if breaks else 0
        return Refusal(len(breaks) + 1, exc.position - line_start + 1, exc.message, exc.syntax)
    return None


class _Scan:
    def __init__(self, text: str, max_chain: int | None) -> None:
        self.text = text
        self.max_chain = max_chain
        self.pos = 0
        self.level = 0  # open brackets, replacement fields included (as 3.12 counts)
        self.indents = [0]
        self.stack: list[_FString | _Field] = []  # f-strings and fields, innermost last
        self.fstrings = 0
        self.chain = [0]  # per bracket level: chained tokens since the last `,` `;`
        self.chained = 0  # their sum
        self.literals = 0  # adjacent string literals so far
        self.literal_end = -1

    def run(self) -> None:
        self._line_start()
        while self.pos < len(self.text):
            top = self.stack[-1] if self.stack else None
            if isinstance(top, _FString) or (isinstance(top, _Field) and top.spec):
                self._literal_text()
            else:
                self._code(top)

    # ------------------------------------------------------------------ code

    def _code(self, field: _Field | None) -> None:
        chains = self.max_chain is not None
        pattern = (_FIELD_CHAINS if chains else _FIELD) if field else (
            _CODE_CHAINS if chains else _CODE)
        match = pattern.search(self.text, self.pos)
        if match is None:
            self.pos = len(self.text)
            return
        start, token = match.start(), match.group()
        self.pos = match.end()
        char = token[0]
        if char in "\r\n":
            self._line_break(field)
        elif char == "\\":
            self.pos = self._after_continuation(start)
        elif char == "#":
            end = _LINE_BREAK.search(self.text, start)
            self.pos = end.start() if end else len(self.text)
        elif char in "'\"":
            self._string(start)
        elif char in "([{":
            self._chained(start)
            self._open(start)
        elif char in ")]}":
            self._close(field, char)
        elif char == ":":  # in a field, at its own level: the format spec
            if field is not None and self.level == field.level:
                field.spec = True
        elif token in _CHAIN_KEYWORDS or not (char.isalpha() or char == "_"):
            if char in ",;":
                self.chained -= self.chain[-1]
                self.chain[-1] = 0
            else:
                self._chained(start)

    def _line_break(self, field: _Field | None) -> None:
        if field is not None:
            if len(self._fstring().quote) == 1:
                self._unterminated()  # a one-line f-string ends at the line's end
            return
        if self.level == 0:
            self._logical_line_end()

    def _logical_line_end(self) -> None:
        self.chained = self.chain[0] = 0
        self.literals, self.literal_end = 0, -1
        self._line_start()

    def _line_start(self) -> None:
        """CPython's indentation levels, at the start of a logical line (blank and
        comment-only lines do not count)."""
        indent = _INDENT.match(self.text, self.pos)
        column = 0
        for char in indent.group():
            column = 0 if char == "\f" else (
                column // TAB_SIZE + 1) * TAB_SIZE if char == "\t" else column + 1
        after = indent.end()
        if after >= len(self.text) or self.text[after] in "\r\n#\\":
            return
        if column > self.indents[-1]:
            self.indents.append(column)
            if len(self.indents) - 1 > MAX_INDENTS:
                raise _TooDeep(self.pos, "too many levels of indentation "
                               f"(Python allows {MAX_INDENTS})")
        while column < self.indents[-1]:
            self.indents.pop()

    def _after_continuation(self, backslash: int) -> int:
        """Past a backslash and the line break it continues (a stray one: past it)."""
        end = _LINE_BREAK.match(self.text, backslash + 1)
        return end.end() if end else backslash + 1

    def _open(self, start: int) -> None:
        self.level += 1
        self.chain.append(0)
        if self.level > MAX_BRACKETS:
            raise _TooDeep(start, f"too many nested parentheses (Python allows {MAX_BRACKETS})")

    def _close(self, field: _Field | None, char: str) -> None:
        if field is not None and self.level == field.level:
            if char == "}":  # the field's end
                self.stack.pop()
                self._drop_level()
            return  # a stray `)` or `]` does not close the field
        if self.level > 0:
            self._drop_level()

    def _drop_level(self) -> None:
        self.level -= 1
        self.chained -= self.chain.pop()

    def _chained(self, start: int) -> None:
        if self.max_chain is None:
            return
        self.chain[-1] += 1
        self.chained += 1
        if self.chained > self.max_chain:
            raise _TooDeep(start, f"an expression chaining over {self.max_chain:,} "
                           "operators, calls or subscripts", syntax=False)

    # ------------------------------------------------------------------ strings

    def _string(self, quote_at: int) -> None:
        text = self.text
        begin = quote_at
        while begin > 0 and quote_at - begin < 2 and text[begin - 1] in _PREFIX_LETTERS:
            begin -= 1
        if begin > 0 and (text[begin - 1].isalnum() or text[begin - 1] == "_"):
            begin = quote_at  # the letters end a name: no prefix
        prefix = text[begin:quote_at].lower()
        quote = text[quote_at] * 3 if text.startswith(text[quote_at] * 3, quote_at) else text[quote_at]
        self._adjacent_literal(begin)
        self._chained(begin)
        body = quote_at + len(quote)
        if "f" in prefix or "t" in prefix:
            self.stack.append(_FString(quote, "r" in prefix, self.level))
            self.fstrings += 1
            if self.fstrings > MAX_FSTRINGS:
                raise _TooDeep(begin, f"too many nested f-strings (Python allows {MAX_FSTRINGS})")
            self.pos = body
            return
        end = _STRING_END[quote].match(text, body)
        self.pos = end.end() if end else len(text)  # unterminated: the rest is the string
        self.literal_end = self.pos

    def _adjacent_literal(self, begin: int) -> None:
        """Adjacent literals ("a" "b" ...) nest one level each in libcst (its
        ConcatenatedString), where CPython's tree has one node."""
        gap = _GAP.match(self.text, self.literal_end) if self.literal_end >= 0 else None
        adjacent = gap is not None and gap.end() >= begin
        self.literals = self.literals + 1 if adjacent else 1
        limit = self.max_chain if self.max_chain is not None else _MAX_LITERALS
        if self.literals > limit:
            raise _TooDeep(begin, f"over {limit:,} adjacent string literals in one "
                           "expression", syntax=False)

    def _literal_text(self) -> None:
        """The text of an f-string or of a format spec, up to a field, its end or an
        escape."""
        fstring = self._fstring()
        top = self.stack[-1]
        text = self.text
        match = _LITERAL.search(text, self.pos)
        if match is None:
            self.pos = len(text)
            return
        at, char = match.start(), match.group()
        self.pos = at + 1
        if char in "'\"":
            if text.startswith(fstring.quote, at):
                self.pos = at + len(fstring.quote)
                self._close_fstring()
        elif char in "\r\n":
            if len(fstring.quote) == 1:
                self._unterminated()
        elif char == "\\":
            self.pos = self._after_escape(at, fstring.raw)
        elif char == "{":
            if isinstance(top, _FString) and text.startswith("{", at + 1):
                self.pos = at + 2  # `{{`: a brace
            else:
                self._open(at)
                self.stack.append(_Field(self.level))
        elif isinstance(top, _Field):  # `}` ends the format spec and its field
            self.stack.pop()
            self._drop_level()
        elif text.startswith("}", at + 1):
            self.pos = at + 2  # `}}`

    def _after_escape(self, backslash: int, raw: bool) -> int:
        text = self.text
        following = text[backslash + 1:backslash + 2]
        if not raw and text.startswith("N{", backslash + 1):  # \N{NAME}: not a field
            close = text.find("}", backslash)
            return close + 1 if close >= 0 else len(text)
        if following in ("{", "}") or (raw and following not in ("\\", "'", '"')):
            return backslash + 1  # the brace (or the raw text) is read on its own
        if following == "\r" and text.startswith("\n", backslash + 2):
            return backslash + 3
        return backslash + 2

    def _fstring(self) -> _FString:
        return next(item for item in reversed(self.stack) if isinstance(item, _FString))

    def _close_fstring(self) -> None:
        """At the f-string's closing quote: it ends, with what it left open."""
        self._end_fstring()
        self.literal_end = self.pos

    def _unterminated(self) -> None:
        """A line break ends a one-line f-string (a syntax error the parsers report)."""
        self._end_fstring()
        if not self.stack and self.level == 0:
            self._logical_line_end()

    def _end_fstring(self) -> None:
        fstring = self._fstring()
        while self.stack.pop() is not fstring:
            pass
        self.fstrings -= 1
        while self.level > fstring.level:
            self._drop_level()


# Adjacent literals are counted in every file (CPython's tree does not show them); real
# code joins a few dozen at most.
_MAX_LITERALS = 1000
