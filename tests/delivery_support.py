"""An outbox in any database: schema, one frozen edition, subscribers, their deliveries."""

from __future__ import annotations

from datetime import UTC, date, datetime

from digest import outbox
from digest.db import Database
from digest.models import Edition, EditionStatus
from subscribers.models import Subscriber

START = datetime(2025, 6, 4, 6, 0, tzinfo=UTC)


def make_outbox(url: str, count: int, *, now: datetime = START) -> tuple[Database, int]:
    """A fresh schema at `url`, an edition and `count` pending deliveries; (db, edition id)."""
    db = Database(url)
    db.upgrade()
    with db.session() as session:
        session.add_all(
            Subscriber(
                email=f"reader{number:03d}@example.com",
                name="",
                language="en",
                sections="",
                timezone="UTC",
                status="active",
                smtputf8=False,
                bounce_count=0,
                created_at=now,
                updated_at=now,
            )
            for number in range(count)
        )
        edition = Edition(
            date=date(2025, 6, 4),
            language="en",
            variant="",
            status=EditionStatus.SENDING,
            subject="s",
            preheader="",
            window_start=now,
            window_end=now,
            html_template="<p>%%DIGEST_GREETING%%</p>",
            text_template="%%DIGEST_GREETING%%",
            created_at=now,
            frozen_at=now,
        )
        session.add(edition)
        session.flush()
        outbox.create_deliveries(session, edition, now)
        edition_id = edition.id
    return db, edition_id


def statuses(db: Database, edition_id: int) -> dict[str, int]:
    with db.session() as session:
        return {k: v for k, v in outbox.counts(session, edition_id).items() if v}
