"""Wiring: the one module that knows ingest, select, render and send exist.

Each function here is what one CLI command calls; the stages never import each other.
The edition's life (window, freeze, revisions) is `digest.editions`; what all messages
share is `digest.mailing`; previews, dry runs and test copies are `digest.previews`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest import editions, mailing
from digest.compose import check_language, plan
from digest.config import (
    SECRET_KEY_FILE,
    Settings,
    ensure_secret_key_file,
    load_settings,
    write_default_config,
)
from digest.db import Database
from digest.editions import EditionWindow
from digest.errors import SelectError
from digest.holds import HoldReport
from digest.ingest.fetch import FetchOptions, default_user_agent
from digest.ingest.records import SourceDefaults
from digest.ingest.sources import IngestOptions, IngestReport, SourceResult, ingest_sources
from digest.ingest.store import StoredText
from digest.mailing import list_id, open_transport_path, recipient_factory, skeleton_for
from digest.previews import (
    PreviewMessage,
    preview,
    preview_message,
    send_test_copies,
)
from digest.publish import SendReport, send, utc_now

__all__ = [
    "PreviewMessage", "SendReport", "check_language", "list_id", "open_transport_path", "plan",
    "preview", "preview_message", "recipient_factory", "send", "send_test_copies",
    "skeleton_for", "utc_now",
]  # fmt: skip


def open_database(settings: Settings, *, check: bool = True) -> Database:
    db = Database(settings.database_url)
    if check:
        db.check_current()
    return db


@dataclass
class InitResult:
    config_path: Path
    config_written: bool
    database_url: str
    key_created: bool
    key_path: Path
    #: Articles whose term cache the upgrade filled (`selection.store.fill_recent_terms`).
    terms_filled: int = 0
    #: The key file was there but blank, and now holds a new key.
    key_replaced: bool = False


def initialise(
    config_path: Path,
    *,
    force: bool = False,
    overrides: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
) -> InitResult:
    """Write the commented config (kept unless forced), create or upgrade the database.

    `values` ("section.key" -> value) go into a newly written config: the publication's
    identity (`digest.identity.Identity.config_values`)."""
    written = write_default_config(config_path, force=force, values=values)
    settings = load_settings(config_path, overrides=overrides)
    key_file = ensure_secret_key_file(settings.base_dir)
    db = open_database(settings, check=False)
    try:
        db.upgrade()
        terms_filled = _fill_term_cache(db, settings)
    finally:
        db.dispose()
    return InitResult(
        config_path,
        written,
        settings.database_url,
        key_file == "created",
        settings.base_dir / SECRET_KEY_FILE,
        terms_filled,
        key_replaced=key_file == "replaced",
    )


def _fill_term_cache(db: Database, settings: Settings) -> int:
    """The term cache of the articles a selection would read now (its window and
    archive), for a database upgraded from before the cache; 0 when nothing is missing."""
    from digest.selection.cache import fill_recent_terms

    selection = settings.selection
    days = selection.no_repeat_days + selection.window_hours / 24 + 1
    with db.session() as session:
        return fill_recent_terms(session, datetime.now(UTC) - timedelta(days=days))


def _write_terms(session: Session, stored: list[StoredText]) -> None:
    """Ingest's new and changed rows into selection's term cache, in ingest's transaction."""
    from digest.selection.cache import write_terms  # numpy and the stemmer: only now

    write_terms(session, stored)


def ingest(
    db: Database,
    settings: Settings,
    sources: Iterable[str],
    *,
    now: datetime,
    source_format: str = "auto",
    section: str | None = None,
    language: str | None = None,
    on_start: Callable[[int], None] | None = None,
    on_source: Callable[[SourceResult], None] | None = None,
    stop: threading.Event | None = None,
) -> IngestReport:
    """Ingest files, folders and URLs (every registered feed if none), each on its own;
    once `stop` is set, what is not stored yet is left for the next run."""
    if language:
        check_language(settings, language)
    ingest_settings = settings.ingest
    options = IngestOptions(
        source_format=source_format,
        defaults=SourceDefaults(
            section=section, language=language, languages=settings.site.languages
        ),
        fetch=FetchOptions(
            timeout=ingest_settings.timeout,
            retries=ingest_settings.retries,
            backoff=ingest_settings.retry_backoff,
            max_bytes=ingest_settings.max_bytes,
            user_agent=ingest_settings.user_agent or default_user_agent(settings.site.url),
        ),
        concurrency=ingest_settings.concurrency,
        on_stored=_write_terms,
    )
    return ingest_sources(
        db.session, sources, now=now, options=options, on_start=on_start, on_source=on_source,
        stop=stop,
    )  # fmt: skip


def known_sections(session: Session) -> tuple[str, ...]:
    """Section names subscribers may choose: those of stored articles and configured feeds."""
    from digest.models import Article, Feed

    names = session.scalars(select(Article.section).union(select(Feed.section)))
    return tuple(sorted(name for name in names if name))


def edition_window(
    session: Session, settings: Settings, day: date, language: str, now: datetime
) -> EditionWindow:
    """The window `day`'s edition had (frozen), or would have if frozen at `now`."""
    return editions.window_for(session, settings, day, check_language(settings, language), now)


def hold(
    db: Database,
    settings: Settings,
    guid: str,
    reason: str,
    now: datetime,
    source: str | None = None,
) -> HoldReport:
    """`digest articles hold`: hold the article and its copies, and pull them from every
    edition not yet fully sent."""
    from functools import partial

    from digest.holds import hold as hold_article
    from digest.readers import revise_variants
    from digest.render import render_edition
    from digest.selection.held_copies import copies_of

    return hold_article(
        db, guid, reason, now, lambda plan: render_edition(plan, settings),
        partial(revise_variants, settings), source=source,
        copies=copies_of,
    )  # fmt: skip


def schedule(
    db: Database,
    settings: Settings,
    *,
    clock: Callable[[], datetime],
    sleep: Callable[[float], bool],
    stop: threading.Event,
    log: Callable[[str], None],
) -> None:
    """`digest schedule`: each day ingest the registered feeds, then freeze and send every
    language's edition, until `stop` is set (see `digest.schedule.loop`)."""
    from digest.schedule.loop import Scheduler, Steps

    mailing.send_options(settings)  # a bad [mail] section fails now, not on send day
    mailing.envelope_sender(settings)
    steps = Steps(
        ingest=lambda now, halt: ingest(db, settings, [], now=now, stop=halt),
        send=lambda day, language, halt: send(
            db,
            settings,
            day,
            language,
            clock=clock,
            stop=halt,
            missed_after=settings.schedule.grace_period,
        ),
    )
    Scheduler(db, settings, steps, clock=clock, sleep=sleep, stop=stop, log=log).run()


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def parse_day(value: str | None, settings: Settings, now: datetime) -> date:
    """The edition date `value` (YYYY-MM-DD), or today's in the schedule's zone."""
    from digest.selection.window import FIRST_EDITION_DAY, LAST_EDITION_DAY, edition_date_for

    if value is None:
        return edition_date_for(now, settings.schedule.timezone)
    if not _DAY.fullmatch(value):  # fromisoformat also takes 20250604 and 2025-W23-2
        raise SelectError(f"expected YYYY-MM-DD, got {value!r}", field="date")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise SelectError(f"no such day: {value!r}", field="date") from None
    if not FIRST_EDITION_DAY <= day <= LAST_EDITION_DAY:
        raise SelectError(
            f"expected a day from {FIRST_EDITION_DAY} to {LAST_EDITION_DAY}, got {value!r}",
            field="date",
        )
    return day
