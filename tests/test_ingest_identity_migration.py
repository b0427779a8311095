"""Migration 0004: (source, guid) identity and canonical URLs on a database with articles,
on SQLite and PostgreSQL; and coverage that counts sources and pages, never rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from digest.db import Database

NOW = datetime(2025, 6, 4, 4, 0, tzinfo=UTC)


def _old_row(number: int, source: str, url: str) -> dict[str, object]:
    return {
        "guid": f"g{number}", "url": url, "title": f"Story {number}", "summary": "",
        "body": "", "section": "", "author": "", "language": "en", "image_url": "",
        "published_at": NOW.replace(tzinfo=None), "updated_at": None, "date_estimated": False,
        "source": source, "priority": 0, "popularity": None, "content_hash": "x",
        "ingested_at": NOW.replace(tzinfo=None),
    }  # fmt: skip


def _upgrade_from_0001(url: str) -> None:
    database = Database(url)
    config = database._alembic_config()
    try:
        with database.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
        with database.engine.begin() as connection:
            articles = sa.Table("articles", sa.MetaData(), autoload_with=connection)
            connection.execute(
                articles.insert(),
                [
                    _old_row(1, "wire.xml", "HTTPS://News.Example:443/a?utm_source=x#top"),
                    {
                        **_old_row(2, "wire.xml", ""),
                        "image_url": "https://cdn.example/ep.mp3",
                        "summary": '<p>Hear <img src="https://cdn.example/ep.mp3"></p>',
                    },
                ],
            )
        database.upgrade()
        with database.engine.begin() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT guid, canonical_url, estimated_on_first_fetch, image_url, summary"
                    " FROM articles"
                )
            ).all()
            assert sorted(tuple(row) for row in rows) == [
                ("g1", "https://news.example/a", False, "", ""),
                ("g2", "", False, "", "<p>Hear </p>"),
            ]
            # The same guid from another source is now a second article.
            articles = sa.Table("articles", sa.MetaData(), autoload_with=connection)
            connection.execute(articles.insert(), [_old_row(1, "other.xml", "")])
            with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
                connection.execute(articles.insert(), [_old_row(1, "other.xml", "")])
        database.check_current()
    finally:
        database.dispose()


def test_upgrade_keeps_articles_and_fills_canonical_urls(database_url: str) -> None:
    _upgrade_from_0001(database_url)
