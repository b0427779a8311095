"""The term cache: ingest stores each article's counted words, selection reads them back.

Selection must give the same plan whether every article's words come from the cache,
none do (a database from before it), or some do; a row whose article changed since is
never read, and ingest refreshes it.
"""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from digest.config import Settings
from digest.db import Database
from digest.errors import SelectError
from digest.ingest.records import ArticleRecord
from digest.ingest.store import store_records
from digest.models import Article, ArticleTerms
from digest.selection import cache, plan_edition, similarity, store, terms
from digest.selection.cache import write_terms
from digest.selection.pauses import without_cycle_collection
from digest.selection.related import related_articles
from digest.selection.text import PackedWords, WordCounts, pack, word_counts
from tests.conftest import FIXTURES, SAMPLE_INIT, Digest

DAY = date(2025, 6, 4)
END = datetime(2025, 6, 4, 4, tzinfo=UTC)  # 07:00 Asia/Riyadh: the window's end

#: Events, each reported by several sources with their own words; the last field is the
#: language. Typography, dotted acronyms, tashkeel and compatibility forms on purpose.
EVENTS: list[tuple[list[str], str, str]] = [
    (
        [
            "Volcano erupts on Flores island, airport at Maumere closed",
            "Flores volcano eruption closes Maumere airport",
            "Ash from Flores volcano shuts Maumere airport \u2014 flights diverted",
        ],
        "Lewotobi Laki-laki erupted on Tuesday, sending ash 8 km high over Flores.",
        "en",
    ),
    (
        [
            "Iran, U.S. resume nuclear talks in Oman",
            "Iranian and US negotiators meet in Muscat over enrichment",
            "Nuclear talks: Iran\u2019s Araghchi says Muscat round \u201cconstructive\u201d",
        ],
        "Negotiators met in Muscat over uranium enrichment, the main dispute.",
        "en",
    ),
    (
        [
            "Central bank raises interest rates as inflation climbs",
            "Rates raised again by central bank to curb inflation",
        ],
        "The bank lifted its benchmark rate by a quarter point to 4.5 per cent.",
        "en",
    ),
    (
        [
            "Zentro shows off Zentro X, its new smartphone",
            "Zentro X smartphone unveiled with folding screen",
            "\uff3aentro\u2019s new \ufb01ve-camera phone goes on sale in June",
        ],
        "The phone has a folding screen and five cameras, Zentro said in Seoul.",
        "en",
    ),
    (["What it is and why, and how"], "It is what it is.", "en"),  # no term at all
    (
        ["Tallinn votes on digital identity law"],
        "Estonia's parliament debated the bill for a second day.",
        "en",
    ),
    (
        [
            "Stars arrive for Blue Harbour premiere at Riverside festival",
            "Blue Harbour premiere opens Riverside film festival",
        ],
        "The festival runs for ten days with 120 films.",
        "en",
    ),
    (
        [
            "إِيرَانُ والولايات المتحدة تستأنفان المحادثات النووية",
            "محادثات نووية بين إيران وأميركا في مسقط",
        ],
        "التقى المفاوضون في مسقط لبحث التخصيب.",
        "ar",
    ),
    (
        ["زلزال يضرب تايوان", "زلزال قوي في تايوان وانقطاع الكهرباء"],
        "ضرب زلزال بقوة 7 درجات شرق الجزيرة.",
        "ar",
    ),
]
SOURCES = ["https://wire.example/rss", "https://daily.example/feed", "https://post.example/rss"]


def records(days_back: int = 0, prefix: str = "") -> list[ArticleRecord]:
    """Every event's reports, `days_back` days before the window's end (archive)."""
    made = []
    for number, (titles, body, language) in enumerate(EVENTS):
        for report, title in enumerate(titles):
            guid = f"{prefix}e{number}-r{report}"
            made.append(
                ArticleRecord(
                    guid=guid,
                    url=f"https://news.example/{guid}",
                    title=f"{title} {prefix}".strip(),
                    summary=f"<p>{title}: {body}</p>",
                    body=f"{body} {title}.",
                    section="World" if number % 2 else "Business",
                    language=language,
                    published_at=END - timedelta(days=days_back, hours=1 + number + report / 4),
                    source=SOURCES[report % len(SOURCES)],
                    priority=1 if number == 1 else 0,
                )
            )
    return made


def ingest(db: Database, batch: list[ArticleRecord]) -> None:
    with db.session() as session:
        store_records(session, batch, END, write_terms)


def outcome(db: Database) -> list[Any]:
    """Both languages' plans and the related items of every window article, as numbers."""
    settings = Settings()
    found: list[Any] = []
    with db.session() as session:
        for language in ("en", "ar"):
            plan = plan_edition(
                session,
                day=DAY,
                language=language,
                selection=settings.selection,
                schedule=settings.schedule,
            )
            for story in plan.stories:
                why = story.explanation
                assert why is not None
                found.append(
                    (
                        story.article.guid,
                        story.score,
                        [(item.article.guid, item.similarity) for item in story.related],
                        why.coverage,
                        [report.guid for report in why.reports],
                    )
                )
        guids = session.scalars(
            select(Article.guid).where(Article.published_at > END - timedelta(hours=24))
        ).all()
        for guid in sorted(guids):
            report = related_articles(
                session,
                guid,
                limit=5,
                selection=settings.selection,
                schedule=settings.schedule,
            )
            found.append([(item.article.guid, item.similarity) for item in report.related])
    return found


@pytest.fixture
def news(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Database:
    """A database with a day of news and a week of archive, ingested; only the newest 6
    archive articles are read in full, so the older ones go through headline screening."""
    monkeypatch.setattr("digest.selection.selector.FULL_ARCHIVE", 6)
    db = Database(database_url)
    db.upgrade()
    ingest(db, records())
    for days in (2, 4):
        ingest(db, records(days, prefix=f"d{days}"))
    return db


def cached_rows(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(ArticleTerms)) or 0)


def test_ingest_fills_the_term_cache_and_plans_are_the_same_without_it(news: Database) -> None:
    with news.session() as session:
        articles = int(session.scalar(select(func.count(Article.id))) or 0)
    assert cached_rows(news) == articles > 0
    with news.session() as session:  # an article with no term has an empty row
        empty = session.scalars(select(Article).where(Article.guid == "e4-r0")).one()
        row = session.get(ArticleTerms, empty.id)
        assert row is not None and (row.words, row.counts) == ("", b"")
    with_cache = outcome(news)
    assert sum(1 for entry in with_cache if isinstance(entry, tuple)) >= 6
    assert any(entry[2] for entry in with_cache if isinstance(entry, tuple))  # related items
    with news.session() as session:  # half of the rows: some words cached, some read
        session.execute(delete(ArticleTerms).where(ArticleTerms.article_id % 2 == 0))
    assert outcome(news) == with_cache
    with news.session() as session:
        session.execute(delete(ArticleTerms))
    assert outcome(news) == with_cache
    with news.session() as session:  # as ingest would fill an upgraded database's rows
        cache.fill_terms(session)
    assert cached_rows(news) == articles
    assert outcome(news) == with_cache
    news.dispose()


def test_a_row_of_other_content_or_version_is_never_read(news: Database) -> None:
    reference = outcome(news)
    with news.session() as session:
        volcano = session.scalars(select(Article).where(Article.guid == "e0-r0")).one()
        iran = session.scalars(select(Article).where(Article.guid == "e1-r0")).one()
        # The volcano's row now holds Iran's words, as of content it no longer has.
        iran_words = session.get(ArticleTerms, iran.id)
        assert iran_words is not None
        session.execute(
            update(ArticleTerms)
            .where(ArticleTerms.article_id == volcano.id)
            .values(words=iran_words.words, counts=iran_words.counts, content_hash="old")
        )
        # Iran's row is of another version of the word rules.
        session.execute(
            update(ArticleTerms)
            .where(ArticleTerms.article_id == iran.id)
            .values(words="zzz", counts=pack(WordCounts(("zzz",), (9,))).counts, version="0")
        )
        window = store.window_docs(session, "en", END - timedelta(hours=24), END)
        read = {doc.guid: text for doc, text in window}
    assert isinstance(read["e0-r0"], str) and "Flores" in read["e0-r0"]
    assert isinstance(read["e1-r0"], str) and "Muscat" in read["e1-r0"]
    assert isinstance(read["e2-r0"], PackedWords)
    assert outcome(news) == reference
    with news.session() as session:  # every row stale: the whole selection reads text
        session.execute(update(ArticleTerms).values(content_hash="elsewhere"))
    assert outcome(news) == reference
    news.dispose()


def test_an_update_at_ingest_refreshes_the_cached_words(news: Database) -> None:
    changed = next(r for r in records() if r.guid == "e5-r0")
    changed.title = "Tallinn parliament passes digital identity law after marathon vote"
    changed.updated_at = END
    ingest(news, [changed])
    with news.session() as session:
        article = session.scalars(select(Article).where(Article.guid == "e5-r0")).one()
        row = session.get(ArticleTerms, article.id)
        assert row is not None
        assert row.content_hash == article.content_hash and row.version == terms.VERSION
        assert "marathon" in row.words.split(" ")
    news.dispose()


def test_words_of_a_text_do_not_depend_on_the_texts_read_with_it() -> None:
    alone = word_counts(["x\u00b2 report on Tallinn"])[0]
    # NFKC of a neighbour's compatibility form must not reach this text ("x²" -> "x2").
    together = word_counts(["x\u00b2 report on Tallinn", "\ufb01nal \uff21"])
    assert together[0] == alone
    assert together[1] == word_counts(["\ufb01nal \uff21"])[0] == WordCounts(("final",), (1,))


def test_packed_words_round_trip() -> None:
    counted = word_counts(["Iran, U.S. talks: talks resume \u2014 Iran\u2019s view", ""])
    assert [pack(words).unpack() for words in counted] == counted
    assert counted[0] == WordCounts(("iran", "us", "talks", "resume", "view"), (2, 1, 2, 1, 1))
    assert counted[1] == WordCounts((), ())


def test_the_version_changes_with_the_rules_that_decide_the_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert terms._fingerprint() == terms.VERSION
    monkeypatch.setattr(similarity, "TITLE_WEIGHT", 3)
    assert terms._fingerprint() != terms.VERSION
    monkeypatch.undo()
    monkeypatch.setattr(terms, "STOP_WORDS", terms.STOP_WORDS - {"the"})
    assert terms._fingerprint() != terms.VERSION


def test_init_fills_the_term_cache_of_an_upgraded_databases_recent_articles(
    initialised: Path, digest: Digest, database_url: str
) -> None:
    db = Database(database_url)
    now = datetime.now(UTC)
    with db.session() as session:  # rows as a release before the term cache left them
        for guid, age in (("recent", timedelta(hours=3)), ("old", timedelta(days=60))):
            session.add(
                Article(
                    guid=guid,
                    url=f"https://news.example/{guid}",
                    title=f"Flores volcano erupts {guid}",
                    summary="<p>Ash closes Maumere airport.</p>",
                    language="en",
                    content_hash=guid,
                    published_at=now - age,
                    ingested_at=now - age,
                )
            )
    result = digest.ok("init", *SAMPLE_INIT)
    assert "term cache filled: 1 recent article\n" in result.output
    with db.session() as session:
        rows = session.execute(
            select(Article.guid, ArticleTerms.words).join(
                ArticleTerms, ArticleTerms.article_id == Article.id
            )
        ).all()
    assert [(guid, words.split(" ")[:4]) for guid, words in rows] == [
        ("recent", ["flores", "volcano", "erupts", "recent"])
    ]
    assert "term cache" not in digest.ok("init", *SAMPLE_INIT).output  # nothing missing
    db.dispose()


def test_digest_ingest_writes_the_term_cache_of_what_it_stores(
    initialised: Path, digest: Digest, database_url: str
) -> None:
    for name in ("atom.xml", "arabic.xml"):
        digest.ok("ingest", str(FIXTURES / "ingest" / name))
    db = Database(database_url)
    with db.session() as session:
        stored = session.execute(
            select(Article.id, Article.content_hash, Article.title, ArticleTerms.words)
            .outerjoin(ArticleTerms, ArticleTerms.article_id == Article.id)
            .order_by(Article.id)
        ).all()
        assert len(stored) >= 4
        for article_id, content_hash, title, words in stored:
            row = session.get(ArticleTerms, article_id)
            assert row is not None and row.content_hash == content_hash, title
            assert set(word_counts([title])[0].words) <= set(words.split(" "))
    db.dispose()


def test_selection_leaves_the_garbage_collector_as_it_found_it() -> None:
    seen: list[bool] = []

    @without_cycle_collection
    def select_and_fail() -> None:
        seen.append(gc.isenabled())
        raise SelectError("no candidates")

    assert gc.isenabled()
    with pytest.raises(SelectError):
        select_and_fail()
    assert seen == [False] and gc.isenabled()  # a long-running scheduler keeps collecting
    gc.disable()
    try:
        with pytest.raises(SelectError):
            select_and_fail()
        assert not gc.isenabled()  # the caller's choice stands
    finally:
        gc.enable()
