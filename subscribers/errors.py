"""Errors raised by the subscribers package (which never imports digest).

Each message is one line a user can act on; the host program prints it and exits 1.
"""

from __future__ import annotations

from dataclasses import dataclass


class SubscriberError(Exception):
    """A subscriber operation a user can correct: bad address, unknown subscriber, bad file."""

    exit_code = 1


class InvalidSubscriber(SubscriberError):
    """One field of one subscriber is not acceptable; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class UnknownSubscriber(SubscriberError):
    """No subscriber has that address."""


class SuppressedSubscriber(SubscriberError):
    """The address unsubscribed, bounced or complained: only `resubscribe` brings it back."""


@dataclass(frozen=True)
class RowProblem:
    """One bad row of an import file: its first line number and what is wrong."""

    line: int
    reason: str


class ImportFailed(SubscriberError):
    """An import wrote nothing; `problems` holds the first bad rows, `invalid` counts all."""

    def __init__(self, message: str, problems: list[RowProblem], invalid: int) -> None:
        super().__init__(message)
        self.problems = problems
        self.invalid = invalid
