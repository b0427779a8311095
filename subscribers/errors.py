"""Errors raised by the subscribers package (which never imports digest)."""

from __future__ import annotations


class SubscriberError(Exception):
    """A subscriber operation a user can correct: bad address, unknown subscriber, bad file."""


class InvalidSubscriber(SubscriberError):
    """One field of one subscriber is not acceptable; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class UnknownSubscriber(SubscriberError):
    pass
