"""`digest demo`: the whole pipeline on bundled sample data, with no server.

The sample edition date is fixed (the day of the bundled article page), so the demo
selects the same stories on any day it is run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from digest import pipeline
from digest.config import DEFAULT_CONFIG_NAME, load_settings, write_default_config
from digest.identity import sample_values
from digest.ingest.sources import IngestReport
from subscribers import store
from subscribers.store import SubscriberFields

SAMPLE_FEEDS = Path(__file__).parent / "data" / "sample"
SAMPLE_DATE = date(2025, 6, 4)

#: Sample readers on reserved example domains (RFC 2606): nothing real is ever mailed.
SAMPLE_SUBSCRIBERS = (
    SubscriberFields(
        "sarah.mitchell@example.com", "Sarah Mitchell", "en", timezone="Europe/London"
    ),
    SubscriberFields(  # chose sections: his edition leads with them
        "james.oconnor@example.org",
        "James O'Connor",
        "en",
        sections="Technology,Science",
        timezone="America/New_York",
    ),
    SubscriberFields("priya.raman@example.net", "Priya Raman", "en", timezone="Asia/Kolkata"),
    SubscriberFields("reader@example.com", "", "en", timezone="UTC"),
    SubscriberFields("layla.haddad@example.com", "ليلى حداد", "ar", timezone="Asia/Riyadh"),
    SubscriberFields(
        "omar.farouk@example.org",
        "عمر فاروق",
        "ar",
        sections="Business,Technology",
        timezone="Africa/Cairo",
    ),
    SubscriberFields("amira.nasser@example.net", "أميرة ناصر", "ar", timezone="Asia/Dubai"),
)


@dataclass
class DemoLanguage:
    language: str
    stories: int
    related: int
    preview_dir: Path
    sent: int
    already_sent: bool
    subject: str


@dataclass
class DemoReport:
    directory: Path
    config_path: Path
    maildir: Path
    ingest: IngestReport
    subscribers_added: int
    languages: list[DemoLanguage] = field(default_factory=list)


def run_demo(directory: Path, clock: Callable = pipeline.utc_now) -> DemoReport:
    directory = directory.expanduser().resolve()
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / DEFAULT_CONFIG_NAME
    # The demo ignores DIGEST_* variables: it must never touch a real database or relay.
    write_default_config(config_path, values=sample_values())
    settings = load_settings(config_path, env={})
    pipeline.initialise(config_path, overrides={"database.url": settings.database.url})
    db = pipeline.open_database(settings)
    try:
        now = clock()
        ingest_report = pipeline.ingest(db, settings, [str(SAMPLE_FEEDS)], now=now)
        added = 0
        with db.session() as session:
            for fields in SAMPLE_SUBSCRIBERS:
                if store.find(session, fields.email) is None:
                    store.add(session, fields, languages=settings.site.languages, now=now)
                    added += 1
        report = DemoReport(
            directory=directory,
            config_path=config_path,
            maildir=pipeline.open_transport_path(settings),
            ingest=ingest_report,
            subscribers_added=added,
        )
        for language in settings.site.languages:
            preview_dir = directory / "preview" / language
            with db.session() as session:
                edition_plan = pipeline.plan(session, settings, SAMPLE_DATE, language, now=now)
                related = sum(len(story.related) for story in edition_plan.stories)
            pipeline.preview(db, settings, SAMPLE_DATE, language, preview_dir, now=now)
            sent = pipeline.send(db, settings, SAMPLE_DATE, language, clock=clock)
            report.languages.append(
                DemoLanguage(
                    language=language,
                    stories=len(edition_plan.stories),
                    related=related,
                    preview_dir=preview_dir,
                    sent=sent.result.sent,
                    already_sent=sent.already_sent,
                    subject=sent.subject,
                )
            )
        return report
    finally:
        db.dispose()
