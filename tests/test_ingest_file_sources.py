"""One file is one source, one feed address one feed, however they are written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from digest.db import Database
from digest.ingest.registry import find_feed, normalise_feed_url
from tests.conftest import Digest
from tests.test_select import write_feed

#: Two reports without a URL: only their source and guid say who they are.
WIRE = [
    {
        "guid": "w1",
        "url": "",
        "title": "Iceland volcano erupts near Grindavik, town evacuated",
        "published_at": "2025-06-03T10:00:00Z",
    },
    {
        "guid": "w2",
        "url": "",
        "title": "Federal Reserve raises interest rates by quarter point",
        "section": "Business",
        "published_at": "2025-06-03T12:00:00Z",
    },
]


def listed(digest: Digest) -> list[tuple[str, str]]:
    articles = json.loads(digest.ok("articles", "list", "--json").stdout)
    return sorted((article["source"], article["guid"]) for article in articles)


def test_one_file_named_four_ways_is_one_source(
    digest: Digest, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_feed(initialised, "wire.jsonl", WIRE)
    (initialised / "feeds").mkdir()
    os.symlink(initialised / "wire.jsonl", initialised / "feeds" / "wire-link.jsonl")
    monkeypatch.chdir(initialised)
    for name in ("wire.jsonl", "./wire.jsonl", str(initialised / "wire.jsonl"), "feeds"):
        digest.ok("ingest", name)
    recorded = str((initialised / "wire.jsonl").resolve())
    assert listed(digest) == [(recorded, "w1"), (recorded, "w2")]
    plan = json.loads(digest.ok("select", "--date", "2025-06-04", "--json", "--explain").stdout)
    assert [story["explanation"]["sources"] for story in plan["stories"]] == [1, 1]
    related = digest.ok("articles", "related", "w1", "--source", "./wire.jsonl").stdout
    assert related.startswith("Iceland volcano erupts near Grindavik, town evacuated [en] (w1)")


def test_a_file_recorded_under_the_name_it_was_given_keeps_that_name(
    digest: Digest, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database filled before files were recorded by their absolute path."""
    path = write_feed(initialised, "wire.jsonl", WIRE)
    monkeypatch.chdir(initialised)
    digest.ok("ingest", "wire.jsonl")
    database = Database(os.environ["DIGEST_DATABASE_URL"])
    with database.session() as session:
        session.execute(sa.text("UPDATE articles SET source = 'wire.jsonl'"))
        session.commit()
    database.dispose()
    changed = [{**WIRE[0], "title": "Iceland volcano erupts again near Grindavik"}, WIRE[1]]
    write_feed(initialised, "wire.jsonl", changed)
    report = digest.ok("ingest", str(path)).stdout
    assert "0 new, 1 updated, 1 unchanged" in report
    assert listed(digest) == [("wire.jsonl", "w1"), ("wire.jsonl", "w2")]


def test_a_feed_address_loses_its_dot_segments_and_tracking_parameters() -> None:
    assert normalise_feed_url("HTTP://127.0.0.1:8000/./wire.jsonl") == (
        "http://127.0.0.1:8000/wire.jsonl"
    )
    assert normalise_feed_url("https://news.example/a/../rss?utm_source=x&fbclid=1") == (
        "https://news.example/rss"
    )
    assert normalise_feed_url("https://news.example/rss?format=xml&b=2") == (
        "https://news.example/rss?b=2&format=xml"
    )


def test_a_feed_registered_with_a_tracking_parameter_is_found_by_its_address(
    digest: Digest, initialised: Path
) -> None:
    digest.ok("feeds", "add", "https://news.example/rss", "--name", "News")
    database = Database(os.environ["DIGEST_DATABASE_URL"])
    with database.session() as session:
        session.execute(sa.text("UPDATE feeds SET url = url || '?utm_source=mail'"))
        session.commit()
        found = find_feed(session, normalise_feed_url("https://news.example/rss?utm_source=x"))
        assert found is not None and found.name == "News"
    database.dispose()
    again = digest.ok("feeds", "add", "https://news.example/rss?utm_medium=y", "--section", "W")
    assert "added" not in again.stdout
    assert len(json.loads(digest.ok("feeds", "list", "--json").stdout)) == 1
