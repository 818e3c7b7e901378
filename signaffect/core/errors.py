"""Errors a user can act on: one line that says what went wrong, and a hint."""

from __future__ import annotations

#: The hint of every error about marts that are not there yet.
NOT_BUILT_HINT = "run `cli.py build` (or `cli.py run`) to build the warehouse first"


class SignAffectError(Exception):
    """A failure the CLI reports as one line plus a hint (no traceback unless --debug)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class InputFileError(SignAffectError):
    """Bad input: names the file and the element so the user can find and fix it."""

    def __init__(self, path: str, element: str, problem: str, hint: str | None = None) -> None:
        super().__init__(f"{path}: {element}: {problem}", hint)
        self.path = path
        self.element = element
        self.problem = problem


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with what the interrupted command had committed by then (exit 130)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
