"""Parsing source text with libcst within bounds: expressions too deep and statements too
large are refused first (libcst's parser would crash or take gigabytes), large files are
parsed a run of statements at a time, and syntax errors become one-line InputErrors."""

from __future__ import annotations

import ast
import contextlib
import re
from collections.abc import Callable, Iterator
from typing import Any

from .errors import InputError, TooLargeError
from .outline import outline
from .source_file import SourceFile
from .token_limits import refusal


# libcst's native parser takes time super-linear in the length of an operator chain and
# overflows its C stack (a SIGSEGV, no message) on chains some thousands long (LibCST
# issues #619, #1000), which CPython parses flat. Deeper expressions than this are refused
# before libcst sees them; real code stays far below (transformers' deepest is ~30).
MAX_EXPRESSION_DEPTH = 1000
_TOO_DEEP_FOR_PYTHON = 1 << 62  # CPython's own parser ran out of stack
_CHARACTER_ERRORS = ("invalid character", "invalid non-printable character")


def parse_text(path: str, text: str, cells: Any = None) -> SourceFile:
    import libcst as cst

    _refuse_too_deep(path, text, cells, max_chain=None)
    tree = _python_tree(text)
    if isinstance(tree, ast.Module):
        length = _byte_length_in(text)
        depth = _expression_depth(tree, length)
        _check_statement_sizes(path, tree, length)
    else:  # no stdlib tree to measure chains: the text bounds them
        depth = tree if isinstance(tree, int) else None
        _refuse_too_deep(path, text, cells, max_chain=MAX_EXPRESSION_DEPTH,
                         python_error=tree if isinstance(tree, SyntaxError) else None)
        if isinstance(tree, SyntaxError) and tree.msg.startswith(_CHARACTER_ERRORS):
            # libcst's tokenizer takes characters CPython refuses in names; its nodes then
            # fail validation when first visited (a fuzz case: U+13D3D in `__init__`)
            raise InputError(_in_cell(f"{path}:{tree.lineno or 1}:{tree.offset or 1}: "
                                      f"syntax error: {tree.msg}", path, tree.lineno or 1, cells))
    if depth is not None and depth > MAX_EXPRESSION_DEPTH:
        levels = f"{depth:,} levels" if depth < _TOO_DEEP_FOR_PYTHON else "too deep for Python"
        found = refusal(text, MAX_EXPRESSION_DEPTH)  # only to say where
        where = f"{path}:{found.line}:{found.column}" if found else path
        raise InputError(f"{where}: expression nesting too deep to parse ({levels}; "
                         f"portlint reads up to {MAX_EXPRESSION_DEPTH:,})")
    try:
        with _unvalidated_nodes():
            module = None
            if isinstance(tree, ast.Module) and len(text) > CHUNK_CHARS:
                module = _parse_in_chunks(text, tree)
            if module is None:
                module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        message = _syntax_error_message(path, text, exc)
        line = _syntax_error_line(text, exc)
        raise InputError(_in_cell(message, path, line, cells)) from None
    except RecursionError:
        raise InputError(f"{path}: expression nesting too deep to parse") from None
    source = SourceFile(path=path, text=text, module=module, cells=cells)
    if isinstance(tree, ast.Module):  # the outline needs this tree: not parsed again
        source.memo["outline"] = outline(tree)
    return source


def _refuse_too_deep(path: str, text: str, cells: Any, max_chain: int | None,
                     python_error: SyntaxError | None = None) -> None:
    """InputError where `text` nests deeper than CPython's tokenizer allows (a syntax
    error, as CPython reports it), or chains more than `max_chain` operators into one
    expression (token_limits.py): libcst would crash or take minutes on it. Where
    CPython reports a syntax error before that chain (`python_error`), that error."""
    found = refusal(text, max_chain)
    if found is None:
        return
    where = f"{path}:{found.line}:{found.column}:"
    if python_error is not None and not found.syntax and (python_error.lineno or 0) <= found.line:
        message = _python_error_message(path, python_error)
    elif found.syntax:
        message = f"{where} syntax error: {found.message}"
    else:
        message = (f"{where} expression nesting too deep to parse ({found.message}; "
                   f"portlint reads up to {MAX_EXPRESSION_DEPTH:,} levels)")
    raise InputError(_in_cell(message, path, found.line, cells))


def _in_cell(message: str, path: str, line: int | None, cells: Any) -> str:
    """`message` located in a notebook's cell: `nb.ipynb:cell 3:2: ...`."""
    if cells is None or line is None:
        return message
    cell, in_cell = cells.locate(line)
    return message.replace(f"{path}:{line}:", f"{path}:cell {cell}:{in_cell}:", 1)


# libcst parses a file in pieces of whole top-level statements (`_parse_in_chunks`), so
# one statement's parse peaks at ~350 bytes per byte of it. A class or function is parsed
# whatever its size (transformers' PreTrainedModel class is 210 KB, ~75 MB to parse); any
# other statement this large is generated data (torch's `annotated_fn_args.py` is one
# 516 KB dict, 285 MB to parse), and the file is not analysed.
MAX_STATEMENT_BYTES = 256 * 1024


def _check_statement_sizes(path: str, tree: ast.Module,
                           length: Callable[[ast.AST], int]) -> None:
    """TooLargeError for the first top-level statement over MAX_STATEMENT_BYTES that is
    not a class or function."""
    for stmt in tree.body:
        if isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        size = length(stmt)
        if size > MAX_STATEMENT_BYTES:
            raise TooLargeError(
                path, f"a statement too large to analyse ({size:,} bytes; portlint "
                f"parses statements other than classes and functions of up to "
                f"{MAX_STATEMENT_BYTES // 1024:,} KiB)", stmt.lineno)


def _byte_length_in(text: str) -> Callable[[ast.AST], int]:
    """The length of a stdlib node's source in `text`, in UTF-8 bytes as CPython's
    offsets count them (its lines end at \\n, \\r\\n or \\r, as bytes.splitlines splits)."""
    line_starts = [0]
    for line in text.encode("utf-8", "surrogatepass").splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    last = len(line_starts) - 1

    def length(node: ast.AST) -> int:
        begin = line_starts[min(node.lineno - 1, last)] + node.col_offset
        end = line_starts[min((node.end_lineno or node.lineno) - 1, last)] + (node.end_col_offset or 0)
        return end - begin

    return length


def _python_tree(text: str) -> ast.Module | int | SyntaxError | None:
    """CPython's syntax tree of `text`; _TOO_DEEP_FOR_PYTHON when its parser ran out of
    stack; its SyntaxError (None: ValueError) when it rejects the text (libcst then
    reports the error, or reads syntax newer than this Python's)."""
    try:
        return ast.parse(text)
    except (RecursionError, MemoryError):
        return _TOO_DEEP_FOR_PYTHON
    except SyntaxError as exc:
        return exc
    except ValueError:
        return None


def _expression_depth(tree: ast.Module, length: Callable[[ast.AST], int]) -> int:
    """How deep the syntax of `tree` nests as libcst builds it (a chain `a + b + c` or
    `a and b and c` nests one level per operator), when that could exceed
    MAX_EXPRESSION_DEPTH; else a smaller number."""
    # Each level of nesting takes at least one character, so an expression shorter than
    # the levels left cannot exceed the bound: only long ones are walked (a cheap test,
    # where walking every node would cost a quarter of the parse).
    deepest = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:  # iterative: the tree may be deeper than Python's recursion limit
        node, depth = stack.pop()
        if isinstance(node, ast.BoolOp):
            depth += len(node.values) - 1
        elif isinstance(node, ast.Compare):
            depth += len(node.comparators)
        else:
            depth += 1
        deepest = max(deepest, depth)
        if isinstance(node, ast.expr) and depth + length(node) <= MAX_EXPRESSION_DEPTH:
            continue
        stack.extend((child, depth) for child in ast.iter_child_nodes(node))
    return deepest


# libcst's parser needs about 350 bytes of memory per byte of source while it runs (a
# 234 KB file peaks at 112 MiB in a 28 MiB process), far more than the finished tree
# keeps. A larger file is parsed a run of top-level statements at a time, so that the
# peak is that of a piece, and the pieces are joined into one module.
CHUNK_CHARS = 16 * 1024
_OTHER_LINE_BREAKS = re.compile("[\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def _parse_in_chunks(text: str, tree: ast.Module) -> Any:
    """`text` parsed by libcst in pieces of about CHUNK_CHARS that start where a
    top-level statement starts (from CPython's `tree`), joined into the module a whole
    parse gives; None when the pieces would not join exactly (indentation or newlines
    detected differently in a piece: the caller parses the whole text)."""
    import libcst as cst

    if _OTHER_LINE_BREAKS.search(text):
        return None  # so that lines split here as CPython numbers them
    lines = text.splitlines(keepends=True)
    starts = []
    previous_end = 0
    for stmt in tree.body:
        first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
        if first > previous_end:  # not `a = 1; b = 2` on the line the previous one ends
            starts.append(first - 1)
        previous_end = stmt.end_lineno or stmt.lineno
    cuts, size = [0], 0
    for before, after in zip(starts, starts[1:] + [len(lines)]):
        size += sum(len(line) for line in lines[before:after])
        if size >= CHUNK_CHARS and after < len(lines):
            cuts.append(after)
            size = 0
    if len(cuts) < 2:
        return None
    cuts.append(len(lines))
    try:
        pieces = [cst.parse_module("".join(lines[a:b])) for a, b in zip(cuts, cuts[1:])]
    except cst.ParserSyntaxError:  # a piece alone reads differently: parse it all
        return None
    first = pieces[0]
    # A piece of simple statements detects the default indent ("    "); the file's is
    # that of the first piece with an indented block.
    blocks = [p for p in pieces if any(type(s).__name__ != "SimpleStatementLine" for s in p.body)]
    indent = blocks[0].default_indent if blocks else first.default_indent
    body: list[Any] = []
    carried: list[Any] = []  # the previous piece's trailing comments and blank lines
    for piece in pieces:
        if piece.default_newline != first.default_newline or (
                any(piece is b for b in blocks) and piece.default_indent != indent):
            return None
        if piece is not first and (piece.header or not piece.body):
            return None
        statements = list(piece.body)
        if carried and statements:
            statements[0] = statements[0].with_changes(
                leading_lines=[*carried, *statements[0].leading_lines])
        body += statements
        carried = list(piece.footer)
    last = pieces[-1]
    return cst.Module(body=body, header=first.header, footer=last.footer,
                      encoding=first.encoding, default_indent=indent,
                      default_newline=first.default_newline,
                      has_trailing_newline=last.has_trailing_newline)


@contextlib.contextmanager
def _unvalidated_nodes() -> Iterator[None]:
    """libcst validates each node it constructs (`CSTNode.__post_init__`), which is about
    20% of parsing. The parser's own nodes are valid by construction (libcst notes the
    same in that method), so validation is switched off while it builds them."""
    from libcst._nodes.base import CSTNode

    validating = CSTNode.__post_init__
    CSTNode.__post_init__ = _no_validation  # type: ignore[method-assign]
    try:
        yield
    finally:
        CSTNode.__post_init__ = validating  # type: ignore[method-assign]


def _no_validation(self: Any) -> None:
    pass


def _syntax_error_line(text: str, exc: Exception) -> int | None:
    try:
        ast.parse(text)
    except SyntaxError as err:
        return err.lineno
    except (ValueError, RecursionError, MemoryError):
        pass
    line = getattr(exc, "raw_line", None)
    return line if isinstance(line, int) else None


def _syntax_error_message(path: str, text: str, exc: Exception) -> str:
    """One line, at the place Python itself reports (libcst's line is often the next
    token's). `ast.parse` only parses; nothing is executed."""
    try:
        ast.parse(text, filename=path)
    except SyntaxError as err:
        return _python_error_message(path, err)
    except (ValueError, RecursionError, MemoryError):
        pass
    first = str(getattr(exc, "message", exc)).splitlines()[0]
    return f"{path}:{getattr(exc, 'raw_line', '?')}: syntax error: {first}"


def _python_error_message(path: str, err: SyntaxError) -> str:
    column = f":{err.offset}" if err.offset else ""
    return f"{path}:{err.lineno}{column}: syntax error: {err.msg}"
