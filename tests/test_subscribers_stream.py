"""Listing and exporting stream: rows come a page at a time, never all at once."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from digest.db import Database
from subscribers import store
from subscribers.merge import merge_rows

NOW = datetime(2025, 6, 4, 6, 0, tzinfo=UTC)


def test_records_are_read_in_pages_of_the_batch_size(database_url: str) -> None:
    db = Database(database_url)
    pages: list[str] = []
    try:
        db.upgrade()
        rows = [(n, f"r{n}@example.com", None, None, None, None, None, False) for n in range(7)]
        with db.session() as session:
            merge_rows(session, rows, default_language="en", now=NOW)

        def note_query(*args: object) -> None:
            statement = str(args[2])
            if statement.lstrip().upper().startswith("SELECT") and "subscribers" in statement:
                pages.append(statement)

        sa.event.listen(db.engine, "after_cursor_execute", note_query)
        with db.session() as session:
            emails = [r.email for r in store.iter_records(session, batch_size=3)]
    finally:
        db.dispose()
    assert emails == [f"r{n}@example.com" for n in range(7)]
    assert len(pages) == 4  # pages of 3, 3, 1, then an empty one
    assert all("LIMIT" in page.upper() for page in pages)
