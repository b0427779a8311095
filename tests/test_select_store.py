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


@pytest.mark.sqlite_only("reads SQLite's EXPLAIN QUERY PLAN; the covering index is SQLite's")
def test_archive_headlines_are_read_from_the_covering_index_on_sqlite(tmp_path: Path) -> None:
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
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    with db.session() as session:
        newest, headlines = store.archive_docs(
            session, "en", END - timedelta(days=7), END - timedelta(days=1), full=1
        )
        assert [doc.guid for doc, _ in newest] == ["a0"]
        assert [title for _, title in headlines] == ["Headline 2", "Headline 1"]
        statement, parameters = statements[0]
        plan = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        details = " ".join(str(row[-1]) for row in plan)
    db.dispose()
    assert "COVERING INDEX ix_articles_selection_headlines" in details
