"""Which source files are the user's, and where in them the worker saw things happen:
the spans of exceptions (`innermost_user_frame`) and of each layer's creation
(`SiteRecorder`). Runs in the worker process; pure standard library.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any


class UserFiles:
    """Which source files are the user's: the model file, and files under its directory
    that are not part of the Python installation (site-packages, the standard library)."""

    def __init__(self, model_files: list[tuple[str, str]]):
        self.display = {os.path.realpath(path): shown for path, shown in model_files}
        prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix}
        self.system = tuple(os.path.realpath(p) + os.sep for p in prefixes)
        self.roots = []
        for path in self.display:
            root = os.path.dirname(path) + os.sep
            self.roots.append((root, root.startswith(self.system)))
        self.cache: dict[str, bool] = {}
        self.cells: dict[str, Any] = {}  # notebook path -> its CellMap (portlint.notebook)

    def __contains__(self, filename: str) -> bool:
        if filename not in self.cache:
            real = os.path.realpath(filename) if filename and not filename.startswith("<") else ""
            mine = real in self.display or any(
                real.startswith(root) and (inside or not real.startswith(self.system))
                for root, inside in self.roots) if real else False
            self.cache[filename] = mine
        return self.cache[filename]

    def span(self, filename: str, line: int, column: int, end_line: int,
             end_column: int) -> dict[str, Any]:
        """A SPAN; in a notebook `line` counts the joined code cells, and the cell and the
        line in it are added (as portlint.ir.Span has them)."""
        out = {"path": self.shown(filename), "line": line, "column": column,
               "end_line": end_line, "end_column": end_column}
        cells = self.cells.get(os.path.realpath(filename))
        if cells is not None:
            cell, cell_line = cells.locate(line)
            end_cell, cell_end_line = cells.locate(end_line)
            out.update(cell=cell, cell_line=cell_line,
                       cell_end_line=cell_end_line if end_cell == cell else cell_line)
        return out

    def shown(self, filename: str) -> str:
        real = os.path.realpath(filename)
        if real in self.display:
            return self.display[real]
        try:
            relative = os.path.relpath(real)
        except ValueError:
            return real
        return real if relative.startswith("..") else relative


def _position(code: Any, lasti: int) -> tuple | None:
    if lasti < 0:
        return None
    try:
        positions = code.co_positions()
        for _ in range(lasti // 2):
            next(positions)
        return next(positions)
    except (StopIteration, AttributeError):
        return None


def span_of(files: UserFiles, filename: str, code: Any, lasti: int, lineno: int) -> dict:
    pos = _position(code, lasti)
    line, end_line, column, end_column = pos if pos else (lineno, lineno, None, None)
    line = line or lineno
    end_line = end_line or line
    column = (column or 0) + 1
    end_column = end_column + 1 if end_column is not None else column
    if (end_line, end_column) < (line, column):
        end_line, end_column = line, column
    return files.span(filename, line, column, end_line, end_column)


def innermost_user_frame(files: UserFiles, exc: BaseException) -> dict | None:
    """The span of the innermost traceback frame in the user's files, or for a
    SyntaxError in one of them, the error's own position."""
    if isinstance(exc, SyntaxError) and exc.filename and exc.filename in files and exc.lineno:
        column = exc.offset or 1
        return files.span(exc.filename, exc.lineno, column, exc.lineno, column)
    found = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename in files:
            found = span_of(files, code.co_filename, code, tb.tb_lasti, tb.tb_lineno)
        tb = tb.tb_next
    if found is None and exc.__context__ is not None and exc.__context__ is not exc:
        return innermost_user_frame(files, exc.__context__)
    return found


class SiteRecorder:
    """Where each module/layer was created in the user's code: wraps the framework base
    class's __init__ and records the innermost user frame outside the object's own
    constructor chain (the `nn.Linear(...)` line, not `super().__init__()`)."""

    def __init__(self, files: UserFiles):
        self.files = files
        self.sites: dict[int, list[dict]] = {}
        self.classes: dict[type, dict | None] = {}
        self.keep: list[Any] = []  # keep recorded objects alive so ids stay unique

    def install(self, cls: type) -> None:
        """Wrap cls.__init__ (torch: nn.Module.__init__ takes *args, **kwargs itself, so
        its signature does not change)."""
        original = cls.__init__
        recorder = self

        @functools.wraps(original)
        def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: N807
            original(self, *args, **kwargs)
            if id(self) not in recorder.sites:
                recorder.record(self, skip=1)

        cls.__init__ = __init__

    def install_new(self, cls: type) -> None:
        """Wrap cls.__new__ instead (Keras: Operation.__new__ reads the argspec of each
        layer class's __init__, which a wrapper would change)."""
        original = cls.__dict__["__new__"]
        function = original.__func__ if isinstance(original, staticmethod) else original
        recorder = self

        @functools.wraps(function)
        def __new__(cls_: type, *args: Any, **kwargs: Any) -> Any:  # noqa: N807
            obj = function(cls_, *args, **kwargs)
            try:
                recorder.record(obj, skip=1)
            except Exception:  # noqa: BLE001 - sites are a convenience
                pass
            return obj

        cls.__new__ = staticmethod(__new__)

    def record(self, obj: Any, skip: int = 0) -> None:
        frames: list[dict] = []
        frame = sys._getframe(1 + skip)
        while frame is not None and len(frames) < self.DEPTH:
            code = frame.f_code
            if code.co_filename in self.files:
                try:
                    is_self = frame.f_locals.get("self") is obj
                except Exception:  # noqa: BLE001 - exotic frames
                    is_self = False
                if not is_self:
                    frames.append(span_of(self.files, code.co_filename, code, frame.f_lasti,
                                          frame.f_lineno))
            frame = frame.f_back
        if frames:
            self.sites[id(obj)] = frames
            self.keep.append(obj)

    DEPTH = 4  # user frames kept per object, innermost first

    def class_site(self, cls: type) -> dict | None:
        """Where a class of the user's files is defined (its `class` line)."""
        if cls not in self.classes:
            site = None
            module = sys.modules.get(getattr(cls, "__module__", ""), None)
            filename = getattr(module, "__file__", None)
            if filename and filename in self.files:
                try:
                    import inspect

                    line = inspect.getsourcelines(cls)[1]
                    site = {"path": self.files.shown(filename), "line": line}
                except (OSError, TypeError):
                    site = None
            self.classes[cls] = site
        return self.classes[cls]

    def site(self, obj: Any) -> list[dict]:
        """The user frames that created `obj`, innermost first (a helper's line, then the
        model file's call of the helper, ...)."""
        return self.sites.get(id(obj), [])
