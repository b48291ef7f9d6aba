"""Errors that end a run with exit code 2 and a one-line message."""


class InputError(Exception):
    """Bad input: missing file, syntax error, unknown model, bad option or config."""
