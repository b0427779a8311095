"""The ingest command line: sources, folders, the feed registry, `articles list`, PostgreSQL."""

from __future__ import annotations

import json
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from digest import pipeline
from digest.articles import list_articles
from digest.config import load_settings, write_default_config
from digest.ingest.records import SourceDefaults
from digest.ingest.sources import IngestOptions, ingest_sources
from digest.ingest.workers import parsing_pool
from digest.views import article_dict
from tests.backends import Databases, use_database
from tests.conftest import FIXTURES, Digest

INGEST = FIXTURES / "ingest"
NOW = datetime(2025, 6, 5, 12, 0, tzinfo=UTC)


def test_a_folder_means_its_supported_files(digest: Digest, initialised: Path) -> None:
    folder = initialised / "incoming"
    folder.mkdir()
    for name in ("atom.xml", "articles.jsonl", "arabpress-article.html"):
        shutil.copy(INGEST / name, folder / name)
    (folder / "notes.txt").write_text("not looked at", encoding="utf-8")
    (folder / ".hidden.xml").write_text("never read", encoding="utf-8")
    (folder / "sub").mkdir()
    result = digest.ok("ingest", "incoming")
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "incoming/arabpress-article.html",
        "incoming/articles.jsonl",
        "incoming/atom.xml",
    ]
    assert lines[-1] == "total: 6 new, 0 updated, 0 unchanged, 0 skipped, 0 failed"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("nowhere.xml", "error: nowhere.xml: no such file or folder"),
        ("empty-dir", "error: empty-dir: folder holds no supported files"),
        ("ftp://news.example/feed", "error: ftp://news.example/feed: only http(s) URLs"),
    ],
)
def test_bad_sources_are_one_line_each_after_the_good(
    digest: Digest, initialised: Path, source: str, message: str
) -> None:
    (initialised / "empty-dir").mkdir()
    result = digest("ingest", str(INGEST / "rss1.rdf"), source)
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(message)
    assert "1 new" in result.stdout and "1 failed" in result.stdout


BREAK = "\r\nX: y"


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (
            ["feeds", "add", f"https://ex.com/f{BREAK}"],
            "digest: error: 'https://ex.com/f\\r\\nX: y': not a valid URL\n",
        ),
        (
            ["feeds", "add", f"ftp://ex.com/f{BREAK}"],
            "digest: error: 'ftp://ex.com/f\\r\\nX: y': expected an http(s) URL of a feed or "
            "page\n",
        ),
        (
            ["feeds", "remove", "https://ex.com/f\x1b[31m"],
            "digest: error: 'https://ex.com/f\\x1b[31m': not a valid URL\n",
        ),
        (
            ["ingest", f"https://ex.com/f{BREAK}", f"ftp://ex.com/f{BREAK}", f"no{BREAK}.xml"],
            "error: 'https://ex.com/f\\r\\nX: y': not a valid URL\n"
            "error: 'ftp://ex.com/f\\r\\nX: y': only http(s) URLs can be fetched\n"
            "error: 'no\\r\\nX: y.xml': no such file or folder\n",
        ),
        (
            ["articles", "related", f"g{BREAK}", "--source", f"s{BREAK}"],
            "digest: error: no article with guid 'g\\r\\nX: y' from source 's\\r\\nX: y' (see "
            "'digest articles list' for guids)\n",
        ),
        (
            ["subscribers", "add", f"a{BREAK}@example.com"],
            "digest: error: email: 'a\\r\\nX: y@example.com' is not a valid address: The email "
            "address contains invalid characters before the @-sign: ':', SPACE, U+000A, "
            "U+000D.\n",
        ),
        (
            ["subscribers", "remove", f"a{BREAK}@example.com"],
            "digest: error: email: 'a\\r\\nX: y@example.com' is not a valid address: The email "
            "address contains invalid characters before the @-sign: ':', SPACE, U+000A, "
            "U+000D.\n",
        ),
    ],
)
def test_user_input_in_an_error_is_escaped_on_one_line(
    digest: Digest, initialised: Path, args: list[str], stderr: str
) -> None:
    """A CR/LF (or ESC) given on the command line would split an error line (or drive
    the terminal): the value is echoed as its repr, one line per error."""
    result = digest(*args)
    assert (result.exit_code, result.stderr) == (1, stderr)


def test_no_source_and_no_feeds_is_a_clear_error(digest: Digest, initialised: Path) -> None:
    result = digest("ingest")
    assert result.exit_code == 1
    assert result.stderr.startswith("digest: error: no sources given and no feeds registered")
    assert "digest feeds add URL" in result.stderr


def test_lang_option_must_be_a_site_language(digest: Digest, initialised: Path) -> None:
    result = digest("ingest", "--lang", "fr", str(INGEST / "rss1.rdf"))
    assert result.exit_code == 1
    assert "--lang: 'fr' is not one of the site's languages (en, ar)" in result.stderr


def test_quiet_prints_only_errors(digest: Digest, initialised: Path) -> None:
    result = digest("-q", "ingest", str(INGEST / "rss1.rdf"), "missing.xml")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip() == "error: missing.xml: no such file or folder"


def test_a_feed_s_new_password_updates_its_entry(digest: Digest, initialised: Path) -> None:
    # A new password registered beside the old one left an entry failing every run, that
    # only the old password could remove (a breaker pass).
    digest.ok("feeds", "add", "https://bob:0ldPass@news.example/auth", "--name", "Auth")
    again = digest.ok("feeds", "add", "https://bob:n3wPass@news.example/auth")
    assert again.stdout.strip() == "updated https://bob:***@news.example/auth"
    [feed] = json.loads(digest.ok("feeds", "list", "--json").stdout)
    assert (feed["url"], feed["name"]) == ("https://bob:***@news.example/auth", "Auth")
    digest.ok("feeds", "remove", "https://bob:***@news.example/auth")  # as the list shows it
    assert json.loads(digest.ok("feeds", "list", "--json").stdout) == []


def test_feeds_add_list_update_remove(digest: Digest, initialised: Path) -> None:
    added = digest.ok("feeds", "add", "HTTPS://News.Example/rss", "--name", "News", "--lang", "ar")
    assert added.stdout.strip() == "added https://news.example/rss"
    updated = digest.ok("feeds", "add", "https://news.example/rss", "--section", "World")
    assert updated.stdout.strip() == "updated https://news.example/rss"
    digest.ok("feeds", "add", "https://other.example/atom.xml")
    [first, second] = json.loads(digest.ok("feeds", "list", "--json").stdout)
    assert first == {
        "url": "https://news.example/rss",
        "name": "News",
        "section": "World",
        "language": "ar",
        "last_fetched_at": None,
        "last_error": None,
    }
    assert second["url"] == "https://other.example/atom.xml"
    listed = digest.ok("feeds", "list").stdout
    assert "https://news.example/rss  News [World] [ar]  (never fetched)" in listed
    assert digest.ok("feeds", "remove", "https://news.example/rss").stdout.strip() == (
        "removed https://news.example/rss"
    )
    assert len(json.loads(digest.ok("feeds", "list", "--json").stdout)) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "news.example/rss"], "expected an http(s) URL"),
        (["add", "javascript:alert(1)"], "expected an http(s) URL"),
        (["add", "https://news.example/rss", "--lang", "fr"], "'fr' is not one of the site's"),
        (["remove", "https://never.example/rss"], "no such feed registered"),
    ],
)
def test_feeds_errors(digest: Digest, initialised: Path, args: list[str], message: str) -> None:
    result = digest("feeds", *args)
    assert result.exit_code == 1
    assert result.stderr.startswith("digest: error: ") and message in result.stderr
    assert json.loads(digest.ok("feeds", "list", "--json").stdout) == []


def test_articles_list_since_and_lang(digest: Digest, initialised: Path) -> None:
    digest.ok("ingest", str(INGEST / "atom.xml"), str(INGEST / "arabic.xml"))
    since = json.loads(
        digest.ok("articles", "list", "--json", "--since", "2025-06-03T12:00:00Z").stdout
    )
    assert [a["published_at"] for a in since] == [
        "2025-06-04T03:22:00Z",
        "2025-06-04T01:10:00Z",
        "2025-06-03T20:15:00Z",
    ]
    plus_three = json.loads(
        digest.ok("articles", "list", "--json", "--since", "2025-06-04T04:00:00+03:00").stdout
    )
    assert len(plus_three) == 2  # 01:00Z: both Arabic items are later
    human = digest.ok("articles", "list", "--lang", "en").stdout.splitlines()
    assert human[0].startswith("2025-06-03T20:15:00Z  en  Economy")
    bad = digest("articles", "list", "--lang", "fr")
    assert bad.exit_code == 1 and "'fr' is not one of the site's languages" in bad.stderr


def test_ingest_of_every_format_and_nul_bytes(
    digest: Digest, database_env: str, tmp_path: Path
) -> None:
    pg = Digest(env={"DIGEST_DATABASE_URL": database_env})
    pg.ok("init")
    hostile = {"guid": "nul", "title": "Null\u0000byte", "body": "a\u0000b", "summary": "x\u0000"}
    (tmp_path / "nul.jsonl").write_text(json.dumps(hostile) + "\n", encoding="utf-8")
    result = pg.ok("ingest", str(INGEST), str(FIXTURES / "hostile.xml"), "nul.jsonl")
    assert "0 failed" in result.stdout
    again = pg.ok("ingest", str(INGEST), str(FIXTURES / "hostile.xml"), "nul.jsonl")
    assert "0 new, 0 updated" in again.stdout
    articles = {a["guid"]: a for a in json.loads(pg.ok("articles", "list", "--json").stdout)}
    assert articles["nul"]["title"] == "Null byte" and articles["nul"]["body"] == "ab"
    assert len(articles) == 18


def test_worker_processes_store_exactly_what_one_process_does(
    tmp_path: Path, backend: str, databases: Databases
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for source in INGEST.iterdir():
        shutil.copy(source, folder / source.name)
    (folder / "broken.json").write_text('[{"guid": "x", "title": 1}]', encoding="utf-8")
    if threading.active_count() > 1:
        pytest.skip(f"another thread runs here, workers would not fork: {threading.enumerate()}")
    pool = parsing_pool(sorted(folder.iterdir()), 2)
    assert pool is not None  # the second run below really uses worker processes
    pool.shutdown()

    outcomes = []
    for processes in (1, 2):
        config = tmp_path / f"run{processes}" / "digest.toml"
        write_default_config(config)
        use_database(config.parent, databases.create(backend, config.parent, migrated=True))
        settings = load_settings(config, env={})
        pipeline.initialise(config)
        db = pipeline.open_database(settings)
        options = IngestOptions(
            defaults=SourceDefaults(languages=settings.site.languages), processes=processes
        )
        report = ingest_sources(db.session, [str(folder)], now=NOW, options=options)
        with db.session() as session:
            stored = [article_dict(article) for article in list_articles(session)]
        db.dispose()
        outcomes.append(([(r.source, r.counts, r.error) for r in report.results], stored))
    assert outcomes[0] == outcomes[1]
    errors = [error for _source, _counts, error in outcomes[0][0] if error]
    assert errors == [f"{folder}/broken.json: line 1: title: expected a string, got a number"]


def test_an_article_another_ingest_stores_meanwhile_is_no_error(
    digest: Digest, initialised: Path, migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two ingests of one feed at once (a manual run beside the scheduler's): the other
    # stores the item between this run's reads and its writes. A breaker pass saw
    # "database error: UNIQUE constraint failed" and exit 1; it is the same article.
    from sqlalchemy import create_engine

    from digest.ingest import store
    from digest.models import Article

    shutil.copy(INGEST / "rss1.rdf", initialised / "feed.rdf")
    source = str((initialised / "feed.rdf").resolve())
    looked = store._stored_matches
    other = create_engine(migrated_url)

    def meanwhile(session: Any, batch: Any) -> Any:
        found = looked(session, batch)
        if len(batch) and not found[0]:  # first look: the other run stores it now
            record = batch[0][0]
            with other.begin() as connection:
                connection.execute(
                    Article.__table__.insert().values(
                        guid=record.guid, source=source, title=record.title, url=record.url,
                        published_at=record.published_at, language="en", summary="",
                        body="", section="", content_hash="other", ingested_at=record.published_at,
                    )
                )  # fmt: skip
        return found

    monkeypatch.setattr(store, "_stored_matches", meanwhile)
    try:
        result = digest("ingest", "feed.rdf")
    finally:
        other.dispose()
    assert result.exit_code == 0, result.stderr
    assert "0 failed" in result.stdout
