"""The PostgreSQL COPY merge does exactly what the row-at-a-time merge does."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from digest.db import Database
from subscribers import bulk
from subscribers.merge import merge_rows
from subscribers.models import Subscriber
from subscribers.status import STATUSES

NOW = datetime(2025, 6, 4, 6, 0, tzinfo=UTC)


def _rows(addresses: list[str], chooser: random.Random, first_line: int) -> list[tuple[Any, ...]]:
    """Rows as the importer hands them over: (line, email, name, language, sections,
    timezone, status, smtputf8); None where the file's cell was empty."""

    def maybe(*values: str) -> str | None:
        return chooser.choice([None, *values])

    return [
        (
            first_line + number,
            email,
            maybe("Layla", "Omar", ""),
            maybe("en", "ar"),
            maybe("World", "Business,World", ""),
            maybe("UTC", "Asia/Riyadh"),
            chooser.choice([None, *STATUSES]),
            False,
        )
        for number, email in enumerate(addresses)
    ]


def _snapshot(session: sa.orm.Session) -> list[tuple[Any, ...]]:
    table = Subscriber.__table__
    columns = [c for c in table.c if c.name != "id"]
    return [tuple(row) for row in session.execute(sa.select(*columns).order_by(table.c.email))]


@pytest.mark.postgres_only("COPY into a staging table is PostgreSQL's; SQLite merges by rows")
def test_copy_merge_equals_the_row_merge(postgres_url: str) -> None:
    chooser = random.Random(17)
    known = [f"known{n}@example.com" for n in range(300)]
    fresh = [f"new{n}@example.com" for n in range(200)]
    db = Database(postgres_url)
    try:
        db.upgrade()
        with db.session() as session:
            assert bulk.supports(session)
            merge_rows(session, _rows(known, chooser, 2), default_language="en", now=NOW)
        update = _rows(known + fresh, chooser, 2)
        chooser.shuffle(update)  # line numbers stay, file order does not matter
        later = NOW + timedelta(days=1)
        outcomes = []
        for merge in (merge_rows, bulk.merge_copied):
            session = db.sessions()
            try:
                counts = merge(session, update, default_language="ar", now=later)
                outcomes.append((counts, _snapshot(session)))
            finally:
                session.rollback()
                session.close()
        (row_counts, row_state), (copy_counts, copy_state) = outcomes
        assert copy_counts == row_counts
        assert copy_counts.created == 200 and copy_counts.updated > 0
        assert copy_counts.kept_status > 0 and copy_counts.unchanged > 0
        assert copy_state == row_state
    finally:
        db.dispose()
