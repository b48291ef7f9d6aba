"""Reading and parsing one source file, once.

A `SourceFile` owns the text and the libcst module of one path. Positions are computed
lazily, only when something asks for a node's span.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, TooLargeError
from .ir import Span
from .outline import outline

# Model files are a few hundred KB at most (transformers' largest modeling files are
# about 300 KB). Parsing takes about 1.5 µs per byte of source and, while it runs, about
# 200 bytes of memory per byte (a 300 KB file peaks 70 MB above the process), so a
# generated 10 MB file would take ~2 GB and ~25 s. Larger files are not read: `compare`
# says so (exit 2), `check` reports them as not analysed.
MAX_BYTES = 1024 * 1024
# Parsed files are kept for reuse (a module imported by many files is parsed once) up to
# this much source text. A finished tree is far smaller than the parse's peak: about 30
# bytes of memory per byte of source (measured over 22 MB of transformers' modeling
# files), so this is ~60 MB at most. Smaller bounds made transformers' files parse
# `modeling_utils.py` (300 KB) again for each of their models.
MAX_CACHED_BYTES = 2 * 1024 * 1024


@dataclass
class SourceFile:
    path: str  # as given by the user, for messages
    text: str
    module: Any  # libcst.Module
    cells: Any = None  # notebook.CellMap for a Jupyter notebook
    digest: str = ""  # SHA-1 of the bytes read (the result cache's key)
    _positions: Any = field(default=None, repr=False)
    # Facts derived from the text once and reused by every model extracted from the file.
    memo: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_notebook(self) -> bool:
        return self.cells is not None

    @property
    def lines(self) -> list[str]:
        # Lines as libcst and editors count them: str.splitlines would also split at
        # form feeds and other separators Python source treats as ordinary characters.
        return re.split(r"\r\n|\r|\n", self.text)

    def line(self, number: int) -> str:
        lines = self.lines
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def lazy_span(self, node: Any) -> Span | None:
        """The span of `node`, computed only when read (see `LazySpan`). A node that
        is not part of this module (the parsed `::MODEL(ARGS)` text) reads as 1:1."""
        if node is None:
            return None
        if self._positions is not None:
            return self.span(node)
        return LazySpan(resolve=lambda: self.span(node))

    def span(self, node: Any) -> Span | None:
        if node is None:
            return None
        if self._positions is None:
            import sys

            # libcst resolves positions with a recursive visitor, ~6 frames per level of
            # nesting: a 150-deep literal (CPython accepts 200) needs more than the
            # default limit. Python-to-Python calls do not use the C stack in 3.11+.
            limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(limit, 20_000))
            try:
                self._positions = _positions(self.module)
            except RecursionError:
                self._positions = {}
            finally:
                sys.setrecursionlimit(limit)
        pos = self._positions.get(node)
        if pos is None:
            return None
        span = Span(self.path, pos.start.line, pos.start.column + 1,
                    pos.end.line, pos.end.column + 1)
        if self.cells is None:
            return span
        cell, line = self.cells.locate(span.line)
        end_cell, end_line = self.cells.locate(span.end_line)
        return dataclasses.replace(span, cell=cell, cell_line=line,
                                   cell_end_line=end_line if end_cell == cell else line)


def _positions(module: Any) -> Any:
    """libcst's `PositionProvider` run directly. `MetadataWrapper.resolve` would also walk
    the whole tree once with an empty batch of visitors, which costs as much again."""
    from libcst.metadata import PositionProvider

    provider = PositionProvider()
    generate = getattr(provider, "_gen_impl", None)
    if generate is None:  # a libcst without the method: the public, slower way
        import libcst as cst

        return cst.MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    generate(module)
    return provider._computed


class LazySpan(Span):
    """A `Span` whose position is computed when it is first read.

    Resolving positions runs libcst's code generator over the whole module, which costs
    about as much as parsing it, and the front end records a span for every layer and
    call although only the few that end up in a finding are ever read. Pickling gives a
    plain `Span` (results cross process boundaries and go into the cache resolved)."""

    def __init__(self, *args: Any, resolve: Any = None, **kwargs: Any) -> None:
        if resolve is None:
            Span.__init__(self, *args, **kwargs)
        else:
            object.__setattr__(self, "_resolve", resolve)

    def __getattribute__(self, name: str) -> Any:
        if name in _SPAN_FIELDS:
            state = object.__getattribute__(self, "__dict__")
            if "_resolve" in state:
                span = state.pop("_resolve")() or Span("", 1, 1, 1, 1)
                for field_name in _SPAN_FIELDS:
                    object.__setattr__(self, field_name, getattr(span, field_name))
        return object.__getattribute__(self, name)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Span):
            return NotImplemented
        return _fields_of(self) == _fields_of(other)

    def __hash__(self) -> int:
        return hash(_fields_of(self))

    def __reduce__(self) -> tuple:
        return (Span, _fields_of(self))


_SPAN_FIELDS = tuple(f.name for f in dataclasses.fields(Span))


def _fields_of(span: Span) -> tuple:
    return tuple(getattr(span, name) for name in _SPAN_FIELDS)


_PARSED: dict[tuple[str, int, int], SourceFile] = {}  # (path, mtime_ns, size) -> parsed file


def evict_oldest(cache: dict[Any, Any], limit: int = MAX_CACHED_BYTES) -> None:
    """Drop the oldest entries of `cache` (values: SourceFile, or tuples starting with
    one) until their source text is within `limit`; the newest entry always stays."""
    def size(value: Any) -> int:
        return len((value[0] if isinstance(value, tuple) else value).text)

    total = sum(size(v) for v in cache.values())
    while total > limit and len(cache) > 1:
        total -= size(cache.pop(next(iter(cache))))


_OVERLAYS: dict[str, str] = {}  # real path -> unsaved editor text (the language server)
_OVERLAY_PARSED: dict[tuple[str, int], SourceFile] = {}


def set_overlay(path: str, text: str | None) -> None:
    """Read `path` as `text` instead of its content on disk (None: the disk again)."""
    real = os.path.realpath(path)
    if text is None:
        _OVERLAYS.pop(real, None)
    else:
        _OVERLAYS[real] = text
    for key in [k for k in _OVERLAY_PARSED if k[0] == real]:
        del _OVERLAY_PARSED[key]


def forget(path: str) -> None:
    """Drop `path` from the cache (after portlint itself rewrote it: a same-size edit
    within the file system's timestamp granularity would otherwise read as unchanged)."""
    real = os.path.realpath(path)
    for key in [k for k in _PARSED if os.path.realpath(k[0]) == real]:
        del _PARSED[key]


# Files read while `recording_reads` is active: real path -> digest. The result cache
# stores them as what a file's result depends on (the file and the modules it imports).
_READ_LOG: list[dict[str, str]] = []


@contextlib.contextmanager
def recording_reads() -> Iterator[dict[str, str]]:
    log: dict[str, str] = {}
    _READ_LOG.append(log)
    try:
        yield log
    finally:
        # By identity: `remove` compares dicts by value, and an inner log equal to an
        # outer one (both empty) took the outer one's place (torchvision autoaugment.py).
        for index in range(len(_READ_LOG) - 1, -1, -1):
            if _READ_LOG[index] is log:
                del _READ_LOG[index]
                break


def _record(source: SourceFile) -> SourceFile:
    note_read(source.path, source.digest)
    return source


def note_read(path: str, digest: str) -> None:
    """Record that the analysis depends on `path` as it read with `digest` (also when a
    cached result of reading it is reused)."""
    for log in _READ_LOG:
        log[os.path.realpath(path)] = digest


# real path -> (mtime_ns, size, digest) of files read: `current_digest` needs no reading
# while a file's stat is unchanged.
_DIGESTS: dict[str, tuple[int, int, str]] = {}


def current_digest(path: str) -> str | None:
    """The digest `read_source(path)` would give now, without parsing (None if the file
    cannot be read); an editor's unsaved text counts."""
    real = os.path.realpath(path)
    if real in _OVERLAYS:
        return digest_of(_OVERLAYS[real].encode("utf-8", "surrogatepass"))
    try:
        stat = os.stat(real)
        known = _DIGESTS.get(real)
        if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        with open(real, "rb") as handle:
            digest = digest_of(handle.read())
    except OSError:
        return None
    _DIGESTS[real] = (stat.st_mtime_ns, stat.st_size, digest)
    return digest


def digest_of(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def display_path(path: str | os.PathLike) -> str:
    """How a path is shown: relative to the current directory when below it."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:  # another drive (Windows)
        return absolute
    return absolute if relative.startswith("..") else relative


def read_source(path: str) -> SourceFile:
    """Read and parse `path`, once per version of the file; every failure becomes an
    `InputError` with one line."""
    return _record(_read_source(path))


def _read_source(path: str) -> SourceFile:
    if _OVERLAYS:
        real = os.path.realpath(path)
        if real in _OVERLAYS:
            text = _OVERLAYS[real]
            key = (real, hash(text))
            if key not in _OVERLAY_PARSED:
                for stale in [k for k in _OVERLAY_PARSED if k[0] == real]:
                    del _OVERLAY_PARSED[stale]  # one version per open document
                _OVERLAY_PARSED[key] = _parse_decoded(path, text)
                _OVERLAY_PARSED[key].digest = digest_of(text.encode("utf-8", "surrogatepass"))
            return _OVERLAY_PARSED[key]
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such file")
    if p.is_file():
        stat = p.stat()
        key = (path, stat.st_mtime_ns, stat.st_size)
        source = _PARSED.pop(key, None) or _read_and_parse(p, path)
        _PARSED[key] = source  # the most recently used last
        _DIGESTS[os.path.realpath(path)] = (stat.st_mtime_ns, stat.st_size, source.digest)
        evict_oldest(_PARSED)
        return source
    return _read_and_parse(p, path)


def _read_and_parse(p: Path, path: str) -> SourceFile:
    data, text = _read_text(p, path)
    source = _parse_decoded(path, text)
    source.digest = digest_of(data)
    return source


def _read_text(p: Path, path: str) -> tuple[bytes, str]:
    if p.is_dir():
        raise InputError(f"{path}: is a directory, expected a Python file")
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise TooLargeError(path, too_large(size))
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if b"\x00" in data:
        raise InputError(f"{path}: binary file (contains NUL bytes), expected Python source")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return data, text


def too_large(size: int) -> str:
    return (f"too large to analyse ({size:,} bytes; portlint reads model files of up "
            f"to {MAX_BYTES // 1024:,} KiB)")


def peek_text(path: str) -> str | None:
    """The text of a Python file, for cheap tests before parsing; None if it is not one
    (a notebook, unreadable, not UTF-8: `read_source` then says why)."""
    if path.endswith(".ipynb"):
        return None
    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


def scan_source(path: str) -> tuple[str, str]:
    """The text and digest of `path`, checked to be Python that parses, without building
    a libcst tree: for files that hold no model, where only a syntax error matters. The
    stdlib parser is about ten times faster than libcst's; where it rejects the text,
    libcst decides (`read_source`), so the outcome is the same. InputError as
    `read_source`."""
    if path.endswith(".ipynb") or not os.path.isfile(path):
        source = read_source(path)
        return source.text, source.digest
    data, text = _read_text(Path(path), path)
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        read_source(path)  # raises the InputError if libcst rejects the text too
    return text, digest_of(data)


def _parse_decoded(path: str, text: str) -> SourceFile:
    if path.endswith(".ipynb"):
        from .notebook import NotebookError, read_notebook

        try:
            code, cells = read_notebook(text)
        except NotebookError as exc:
            raise InputError(f"{path}: {exc}") from None
        source = parse_text(path, code, cells)
        return source
    return parse_text(path, text)


# libcst's native parser takes time super-linear in the length of an operator chain and
# overflows its C stack (a SIGSEGV, no message) on chains some thousands long (LibCST
# issues #619, #1000), which CPython parses flat. Deeper expressions than this are refused
# before libcst sees them; real code stays far below (transformers' deepest is ~30).
MAX_EXPRESSION_DEPTH = 1000
_TOO_DEEP_FOR_PYTHON = 1 << 62  # CPython's own parser ran out of stack


def parse_text(path: str, text: str, cells: Any = None) -> SourceFile:
    import libcst as cst

    tree = _python_tree(text)
    if isinstance(tree, ast.Module):
        length = _byte_length_in(text)
        depth = _expression_depth(tree, length)
        _check_statement_sizes(path, tree, length)
    else:
        depth = tree
    if depth is not None and depth > MAX_EXPRESSION_DEPTH:
        levels = f"{depth:,} levels" if depth < _TOO_DEEP_FOR_PYTHON else "too deep for Python"
        raise InputError(f"{path}: expression nesting too deep to parse ({levels}; "
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
        if cells is not None and line is not None:  # say which cell: `nb.ipynb:cell 3:2: ...`
            cell, in_cell = cells.locate(line)
            message = message.replace(f"{path}:{line}:", f"{path}:cell {cell}:{in_cell}:", 1)
        raise InputError(message) from None
    except RecursionError:
        raise InputError(f"{path}: expression nesting too deep to parse") from None
    source = SourceFile(path=path, text=text, module=module, cells=cells)
    if isinstance(tree, ast.Module):  # the outline needs this tree: not parsed again
        source.memo["outline"] = outline(tree)
    return source


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


def _python_tree(text: str) -> ast.Module | int | None:
    """CPython's syntax tree of `text`; _TOO_DEEP_FOR_PYTHON when its parser ran out of
    stack; None when it rejects the text (libcst then reports the error, or reads syntax
    newer than this Python's)."""
    try:
        return ast.parse(text)
    except (RecursionError, MemoryError):
        return _TOO_DEEP_FOR_PYTHON
    except (SyntaxError, ValueError):
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
        column = f":{err.offset}" if err.offset else ""
        return f"{path}:{err.lineno}{column}: syntax error: {err.msg}"
    except (ValueError, RecursionError, MemoryError):
        pass
    first = str(getattr(exc, "message", exc)).splitlines()[0]
    return f"{path}:{getattr(exc, 'raw_line', '?')}: syntax error: {first}"
