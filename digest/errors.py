"""The project's exceptions and exit codes.

Library code raises these; only the CLI turns them into one line on stderr and an
exit code, so every user error reads the same way and never shows a traceback.
"""

from __future__ import annotations

from enum import IntEnum

from subscribers.errors import SubscriberError


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # bad input or configuration
    USAGE = 2  # click's own usage errors
    PARTIAL = 3  # work remains (deferred deliveries)
    REFUSED = 4  # the relay refused the sender or account: the circuit breaker stopped the run


class DigestError(Exception):
    """Base of every error a user can act on."""

    exit_code: ExitCode = ExitCode.ERROR
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message} ({self.hint})" if self.hint else message


class ConfigError(DigestError):
    hint = None


class DatabaseError(DigestError):
    pass


class IngestError(DigestError):
    pass


class SelectError(DigestError):
    pass


class RenderError(DigestError):
    pass


class SendError(DigestError):
    pass


__all__ = [
    "ConfigError",
    "DatabaseError",
    "DigestError",
    "ExitCode",
    "IngestError",
    "RenderError",
    "SelectError",
    "SendError",
    "SubscriberError",
]
