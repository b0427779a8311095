"""The one call `digest bounces process` makes: settings and a source in, a result out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from digest.bounces.identity import process_options
from digest.bounces.mailboxes import open_source
from digest.bounces.process import ProcessResult, process_source
from digest.config import Settings
from digest.db import Database


def process(
    db: Database,
    settings: Settings,
    source: str,
    *,
    dry_run: bool = False,
    clock: Callable[[], datetime],
    on_progress: Callable[[ProcessResult], None] | None = None,
) -> ProcessResult:
    """Process the Maildir, mbox file or IMAP URL `source` (see `process_source`).

    Raises BounceError for a source that cannot be opened, ConfigError for bad settings.
    """
    options = process_options(settings, db, dry_run=dry_run)
    mailbox = open_source(source, imap_password=settings.secrets.imap_password)
    try:
        return process_source(db, mailbox, options, clock=clock, on_progress=on_progress)
    finally:
        mailbox.close()
