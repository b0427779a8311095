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
    #: The setting or field at fault (`date`, `language`), never a command-line flag: the
    #: CLI maps it to its flag, the web preview shows it as it is.
    field: str | None = None

    def __init__(self, message: str, *, hint: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint
        if field is not None:
            self.field = field

    @property
    def detail(self) -> str:
        """The message and hint, without the field name."""
        message = super().__str__()
        return f"{message} ({self.hint})" if self.hint else message

    def __str__(self) -> str:
        return f"{self.field}: {self.detail}" if self.field else self.detail


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


class EditionError(DigestError):
    """An edition cannot be frozen, found or changed as asked."""


__all__ = [
    "ConfigError",
    "DatabaseError",
    "DigestError",
    "EditionError",
    "ExitCode",
    "IngestError",
    "RenderError",
    "SelectError",
    "SendError",
    "SubscriberError",
]
