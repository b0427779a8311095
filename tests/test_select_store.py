"""What selection reads from the database, and how the database answers it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from digest.db import Database
from digest.models import Article
from digest.selection import store

END = datetime(2025, 6, 4, 4, tzinfo=UTC)


def _plans_of(db: Database, read: Any) -> tuple[Any, str]:
    """What `read(session)` returns, and SQLite's query plan of its first statement."""
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.session() as session:
            found = read(session)
            statement, parameters = statements[0]
            plan = session.connection().exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", parameters
            )
            return found, " ".join(str(row[-1]) for row in plan)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)


def _three_articles(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'index.db'}")
    db.upgrade()
    with db.session() as session:
        for n in range(3):
            published = END - timedelta(days=2, hours=n)
            session.add(
                Article(
                    guid=f"a{n}",
                    url=f"https://site.example/{n}",
                    title=f"Headline {n}",
                    language="en",
                    content_hash=f"a{n}",
                    published_at=published,
                    ingested_at=published,
                )
            )
    return db


@pytest.mark.sqlite_only("reads SQLite's EXPLAIN QUERY PLAN; the covering index is SQLite's")
def test_archive_headlines_are_read_from_the_covering_index_on_sqlite(tmp_path: Path) -> None:
    db = _three_articles(tmp_path)
    (newest, headlines), details = _plans_of(
        db,
        lambda session: store.archive_docs(
            session, "en", END - timedelta(days=7), END - timedelta(days=1), full=1
        ),
    )
    db.dispose()
    assert [doc.guid for doc, _ in newest] == ["a0"]
    assert [title for _, title in headlines] == ["Headline 2", "Headline 1"]
    assert "COVERING INDEX ix_articles_selection_window" in details


@pytest.mark.sqlite_only("reads SQLite's EXPLAIN QUERY PLAN; the covering index is SQLite's")
def test_the_window_s_rows_are_read_without_their_bodies_on_sqlite(tmp_path: Path) -> None:
    """SQLite stores `body` before the columns a window article is read for: without the
    covering index, reading them reads every body (and its overflow pages)."""
    db = _three_articles(tmp_path)
    docs, details = _plans_of(
        db,
        lambda session: store.window_docs(
            session, "en", END - timedelta(days=3), END - timedelta(days=1)
        ),
    )
    db.dispose()
    assert [doc.guid for doc, _ in docs] == ["a2", "a1", "a0"]
    assert "COVERING INDEX ix_articles_selection_window" in details
