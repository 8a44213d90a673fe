"""Errors that reach the user as one line plus a hint, never as a traceback."""

from __future__ import annotations


class GradscopeError(Exception):
    """A failure the user can act on.

    **Arguments:**

    - `message`: one line saying what is wrong.
    - `hint`: one line saying how to fix it.
    """

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(GradscopeError):
    """Bad option, value, file or shape (exit code 2)."""

    exit_code = 2


class RunError(GradscopeError):
    """A failure while running (exit code 1)."""

    exit_code = 1
