"""The mail identity bounce processing needs, taken from the settings once."""

from __future__ import annotations

from digest.bounces.match import Identity
from digest.bounces.process import ProcessOptions
from digest.bounces.record import Thresholds
from digest.config import Settings
from digest.db import Database


def bounce_address(settings: Settings) -> str:
    """Where bounces go: `mail.bounce_address`, else the From address (ASCII form); the
    settings checked it when they loaded."""
    return settings.mail_identity.envelope_sender


def identity(settings: Settings, db: Database | None = None) -> Identity:
    """Bounce address, list id (the stored one with `db`: the List-Id our messages
    carry, whatever `mail.from` says now) and token secret; ConfigError for an unusable
    one."""
    from digest.pipeline import list_id

    return Identity(
        bounce_address(settings),
        list_id(settings, db),
        settings.secret_key(),
        verp=settings.mail.verp,
    )


def process_options(
    settings: Settings, db: Database | None = None, *, dry_run: bool = False
) -> ProcessOptions:
    """The options of `process_source` from `[mail]` (thresholds, mailto address)."""
    return ProcessOptions(
        identity=identity(settings, db),
        thresholds=Thresholds(settings.mail.bounce_threshold, settings.mail.soft_bounce_threshold),
        unsubscribe_mailto=settings.mail.unsubscribe_mailto,
        dry_run=dry_run,
    )
