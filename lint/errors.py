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
