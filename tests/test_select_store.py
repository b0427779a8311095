"""What selection reads from the database, and how the database answers it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from digest.db import Database
from digest.models import Article
from digest.selection import store
from digest.selection.corpus import Headlines
from digest.selection.similarity import TITLE_CHARS

END = datetime(2025, 6, 4, 4, tzinfo=UTC)


def _plans_of(db: Database, read: Any) -> tuple[Any, list[tuple[str, str]]]:
    """What `read(session)` returns, and each of its statements with SQLite's plan."""
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.session() as session:
            found = read(session)
            event.remove(db.engine, "before_cursor_execute", capture)
            plans = []
            for statement, parameters in statements:
                plan = session.connection().exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {statement}", parameters
                )
                plans.append((statement, " ".join(str(row[-1]) for row in plan)))
            return found, plans
    finally:
        if event.contains(db.engine, "before_cursor_execute", capture):
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
    (newest, headlines), plans = _plans_of(
        db,
        lambda session: store.archive_docs(
            session, "en", END - timedelta(days=7), END - timedelta(days=1), full=1
        ),
    )
    db.dispose()
    assert [doc.guid for doc, _ in newest] == ["a0"]
    assert sorted(title for _, title in headlines.pairs()) == ["Headline 1", "Headline 2"]
    # the newest (then read in full by id), and the others' headlines joined in one scan
    (newest_ids, first), (joined, last) = plans[0], plans[-1]
    assert "LIMIT" in newest_ids and "group_concat" in joined
    assert "COVERING INDEX ix_articles_selection_window" in first
    assert "COVERING INDEX ix_articles_selection_window" in last


@pytest.mark.sqlite_only("reads SQLite's EXPLAIN QUERY PLAN; the covering index is SQLite's")
def test_the_window_s_rows_are_read_without_their_bodies_on_sqlite(tmp_path: Path) -> None:
    """SQLite stores `body` before the columns a window article is read for: without the
    covering index, reading them reads every body (and its overflow pages)."""
    db = _three_articles(tmp_path)
    docs, plans = _plans_of(
        db,
        lambda session: store.window_docs(
            session, "en", END - timedelta(days=3), END - timedelta(days=1)
        ),
    )
    db.dispose()
    assert [doc.guid for doc, _ in docs] == ["a2", "a1", "a0"]
    assert "COVERING INDEX ix_articles_selection_window" in plans[0][1]


@pytest.mark.parametrize(
    ("odd", "title"),
    [
        ("long", "Word " * 70 + "beyondthecut"),
        ("marked", "Quake\x01 hits Chile"),
        ("arabic", "زلزال يضرب جنوب تركيا"),
        ("arabic-long", "كلمة " * 70 + "beyondthecut"),
        ("", ""),
    ],
    ids=["long", "line-end", "arabic", "arabic-long", "plain"],
)
def test_archive_headlines_joined_by_the_database_are_the_rows_own(
    migrated_url: str, odd: str, title: str
) -> None:
    """The database joins the screened headlines as `Headlines.of` joins them (cut to
    `TITLE_CHARS`, `LINE_END` spelt as a space: read again, cleaned, when one holds it),
    each beside its own id, held articles left out; of two published at one time, the
    lower id is the older."""
    titles = {
        "plain": "Dam bursts in Libya",
        "empty": "",
        "held": "Held story",
        "tied": "Tied with the newest",
        "newest": "Newest",
    }
    if odd:
        titles = {odd: title, **titles}
    db = Database(migrated_url)
    with db.session() as session:
        for number, (guid, headline) in enumerate(titles.items()):
            published = END - timedelta(days=2, hours=10 - min(number, len(titles) - 2))
            session.add(
                Article(
                    guid=guid,
                    url=f"https://site.example/{guid}",
                    title=headline,
                    language="en",
                    content_hash=guid,
                    published_at=published,
                    ingested_at=published,
                    held_at=published if guid == "held" else None,
                )
            )
            session.flush()
    with db.session() as session:
        newest, headlines = store.archive_docs(
            session, "en", END - timedelta(days=7), END - timedelta(days=1), full=1
        )
        ids = {article.guid: article.id for article in session.scalars(select(Article))}
    db.dispose()
    assert [doc.guid for doc, _ in newest] == ["newest"]
    screened = [
        (ids[guid], text) for guid, text in titles.items() if guid not in ("held", "newest")
    ]
    assert sorted(headlines.pairs()) == sorted(Headlines.of(screened).pairs())
    assert len(headlines) == len(titles) - 2
    if odd.endswith("long"):
        assert len(title) > TITLE_CHARS and "beyondthecut" not in headlines.text
    if odd == "marked":
        assert (ids["marked"], "Quake  hits Chile") in headlines.pairs()
