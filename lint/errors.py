"""Errors that end a run with exit code 2 and a one-line message."""


class InputError(Exception):
    """Bad input: missing file, syntax error, unknown model, bad option or config."""


class TooLargeError(InputError):
    """Input that would take more memory to parse than portlint allows itself: a file over
    MAX_BYTES, or one statement (not a class or function) over MAX_STATEMENT_BYTES.
    `check` reports it as an unresolved construct where the file names a framework."""

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        super().__init__(f"{path}:{line}: {reason}" if line else f"{path}: {reason}")
        self.reason = reason
        self.line = line or 1


class UndecodableError(InputError):
    """A file whose bytes are not text in its encoding (PEP 263: a UTF-8 BOM, else its
    coding declaration, else UTF-8), or that holds NUL bytes. `check` reports it as an
    unresolved construct of that file and goes on with the others."""

    def __init__(self, path: str, reason: str, line: int = 1) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.line = line
