"""The one exception hierarchy of stackops.

Every part raises these; the CLI turns them into a message and an exit status
in exactly one place (`stackops.cli.main`). This module imports nothing, so
every layer, the model included, may use it.
"""

from __future__ import annotations


class StackopsError(Exception):
    """Base of every error stackops reports to a user."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class InvalidInput(StackopsError):
    """The user's input (a file, an option, a JSON value) is not valid."""

    exit_code = 2


class NotFound(InvalidInput):
    """An id or name given by the user names nothing that exists."""


class Conflict(StackopsError):
    """The request clashes with the current state (a lease held, a name taken)."""

    exit_code = 1


class AwsFailure(StackopsError):
    """An AWS call failed; the message is one line naming the call."""

    exit_code = 1


class TargetNotConfigured(InvalidInput):
    """No AWS target (sandbox, endpoint or account) could be chosen."""


class AwsUnavailable(AwsFailure):
    """An AWS call failed for a passing reason (throttled, a 5xx, a timeout, no connection)
    after botocore's own retries: nothing is known to have happened; try again later."""
