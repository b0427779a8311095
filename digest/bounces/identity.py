"""The mail identity bounce processing needs, taken from the settings once."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import parseaddr

from digest.bounces.match import Identity
from digest.bounces.process import ProcessOptions
from digest.bounces.record import Thresholds
from digest.bounces.verp import sender_factory
from digest.config import Settings
from digest.errors import ConfigError
from digest.message import ascii_address


def bounce_address(settings: Settings) -> str:
    """Where bounces go: `mail.bounce_address`, else the From address (ASCII form)."""
    key = "bounce_address" if settings.mail.bounce_address else "from"
    configured = settings.mail.bounce_address or settings.mail.from_address
    address = ascii_address(parseaddr(configured)[1])
    if not address or "@" not in address or "+" in address.partition("@")[0]:
        raise ConfigError(
            f"[mail] {key}: {configured!r} is not a usable bounce address "
            "(an ASCII address without '+')"
        )
    return address


def identity(settings: Settings) -> Identity:
    """Bounce address, list id and token secret; ConfigError for an unusable one."""
    from digest.pipeline import list_id

    return Identity(bounce_address(settings), list_id(settings), settings.secret_key())


def process_options(settings: Settings, *, dry_run: bool = False) -> ProcessOptions:
    """The options of `process_source` from `[mail]` (thresholds, mailto address)."""
    return ProcessOptions(
        identity=identity(settings),
        thresholds=Thresholds(settings.mail.bounce_threshold, settings.mail.soft_bounce_threshold),
        unsubscribe_mailto=settings.mail.unsubscribe_mailto,
        dry_run=dry_run,
    )


def envelope_senders(settings: Settings) -> str | Callable[[int], str]:
    """The envelope sender of every message: one address, or one per delivery with VERP."""
    if settings.mail.verp:
        return sender_factory(bounce_address(settings), settings.secret_key())
    if settings.mail.bounce_address:
        return bounce_address(settings)
    from digest.pipeline import envelope_sender

    return envelope_sender(settings)
