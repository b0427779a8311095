"""One file is one source, one feed address one feed, however they are written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from digest.db import Database
from digest.ingest.file_sources import recorded_source
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


def test_two_files_of_one_name_in_two_folders_are_two_sources(
    digest: Digest, initialised: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even where one was stored before files were recorded by their absolute path: a
    relative name says nothing of the folder it was typed in (a breaker's outlet B
    overwrote outlet A's article)."""
    for folder, title in (("a", "Outlet A: bridge reopens"), ("b", "Outlet B: flood warning")):
        (initialised / folder).mkdir()
        write_feed(initialised / folder, "wire.jsonl", [{**WIRE[0], "title": title}])
    monkeypatch.chdir(initialised / "a")
    digest.ok("ingest", "wire.jsonl")
    database = Database(os.environ["DIGEST_DATABASE_URL"])
    with database.session() as session:  # as a database filled before stores it
        session.execute(sa.text("UPDATE articles SET source = 'wire.jsonl'"))
        session.commit()
    database.dispose()
    monkeypatch.chdir(initialised / "b")
    assert "1 new, 0 updated" in digest.ok("ingest", "wire.jsonl").stdout
    titles = {
        (article["source"], article["title"])
        for article in json.loads(digest.ok("articles", "list", "--json").stdout)
    }
    recorded = str((initialised / "b" / "wire.jsonl").resolve())
    assert titles == {
        ("wire.jsonl", "Outlet A: bridge reopens"),
        (recorded, "Outlet B: flood warning"),
    }


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
    for spelling in ("/feed.jsonl#latest", ":80/feed.jsonl", "/%2e/feed.jsonl", "/%2E/feed.jsonl"):
        assert normalise_feed_url(f"http://127.0.0.1{spelling}") == "http://127.0.0.1/feed.jsonl"


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
        # what a feed's articles record: the address as registered
        assert recorded_source(session, "https://news.example/./rss#top") == (
            "https://news.example/rss?utm_source=mail"
        )
    database.dispose()
    again = digest.ok("feeds", "add", "https://news.example/rss?utm_medium=y", "--section", "W")
    assert "added" not in again.stdout
    assert len(json.loads(digest.ok("feeds", "list", "--json").stdout)) == 1
