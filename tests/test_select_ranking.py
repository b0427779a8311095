"""Ranking rewards news, not accidents: exact orders on a real database (both backends).

Each case stores a well-covered story of the day (reported by three sources, twenty hours
before the send time), a single-source story, and one accident: an undated item, a
future-dated one, or one article fetched again under new guids. The accident carries the
freshest time stamp, which under plain recency would make it lead.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from digest.config import Settings
from digest.db import Database
from digest.ingest.urls import canonical_url
from digest.models import Article
from digest.selection import plan_edition, selector
from digest.selection.plan import EditionPlan

DAY = date(2025, 6, 4)
END = datetime(2025, 6, 4, 4, tzinfo=UTC)  # 07:00 Asia/Riyadh

COVERED = [  # one event, three sources
    ("Volcano erupts on Flores island, airport at Maumere closed", "https://wire.example/rss"),
    ("Flores volcano eruption closes Maumere airport", "https://daily.example/feed"),
    ("Ash from Flores volcano shuts Maumere airport", "https://post.example/rss"),
]


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    db.upgrade()
    yield db
    db.dispose()


def store(db: Database, rows: list[dict[str, Any]]) -> None:
    with db.session() as session:
        for row in rows:
            row = dict(row)
            published = END - timedelta(hours=row.pop("hours_before"))
            fields: dict[str, Any] = {
                "url": f"https://news.example/{row['guid']}",
                "section": "World",
                "language": "en",
                "summary": "",
                "source": "https://site.example/rss",
                "content_hash": row["guid"],
                "published_at": published,
                "ingested_at": published + timedelta(minutes=5),
            }
            fields.update(row)
            fields.setdefault("canonical_url", canonical_url(fields["url"]))  # as ingest does
            session.add(Article(**fields))


def covered_story() -> list[dict[str, Any]]:
    return [
        {"guid": f"covered-{n}", "title": title, "source": source, "hours_before": 20 + n / 10}
        for n, (title, source) in enumerate(COVERED)
    ]


SINGLE = {"guid": "single", "title": "Tallinn votes on digital identity law", "hours_before": 6}


def plan(db: Database) -> EditionPlan:
    """DAY's English plan with the default settings."""
    settings = Settings()
    with db.session() as session:
        return plan_edition(
            session,
            day=DAY,
            language="en",
            selection=settings.selection,
            schedule=settings.schedule,
        )


def top_guids(db: Database) -> list[str]:
    return [story.article.guid for story in plan(db).stories]


def edition_guids(db: Database) -> list[str]:
    return [article.guid for article in plan(db).articles()]


def reports(
    prefix: str, outlets: list[tuple[str, str]], hours: float, **fields: Any
) -> list[dict[str, Any]]:
    """One report per (outlet, headline), each from the outlet's own feed, an hour apart."""
    return [
        {
            "guid": f"{prefix}-{n}",
            "title": title,
            "source": f"https://{outlet}.example/rss",
            "hours_before": hours + n,
            **fields,
        }
        for n, (outlet, title) in enumerate(outlets)
    ]


def test_an_undated_item_never_outranks_the_covered_story(database: Database) -> None:
    undated = {
        "guid": "undated",
        "title": "Quito hosts Andean trade summit",
        "hours_before": 0.1,  # stamped with the fetch time
        "date_estimated": True,
    }
    store(database, [*covered_story(), SINGLE, undated])
    assert top_guids(database) == ["covered-0", "single", "undated"]


def test_a_future_dated_item_never_outranks_the_covered_story(database: Database) -> None:
    future = {
        "guid": "future",
        "title": "Hanoi opens new metro line",
        "hours_before": 0.1,
        # published (it claims) three hours after it was fetched: the source's clock is wrong
        "ingested_at": END - timedelta(hours=3),
    }
    store(database, [*covered_story(), SINGLE, future])
    assert top_guids(database) == ["covered-0", "single", "future"]


def test_an_article_fetched_again_under_new_guids_is_one_report(database: Database) -> None:
    title = "Lagos floods displace thousands"
    refetched = [
        {"guid": "lagos", "title": title, "url": "https://site.example/lagos", "hours_before": 2},
        {
            "guid": "lagos-again",
            "title": title,
            "url": "http://www.site.example/lagos/?utm_source=rss",
            "hours_before": 1,
        },
        {
            "guid": "lagos-third",
            "title": title + " (updated)",
            "url": "https://site.example/lagos#top",
            "hours_before": 0.5,
        },
    ]
    store(database, [*covered_story(), SINGLE, *refetched])
    assert top_guids(database) == ["covered-0", "lagos", "single"]
    everything = edition_guids(database)
    assert "lagos-again" not in everything and "lagos-third" not in everything


def posted_again(first_hours_before: float, summary: str = "") -> list[dict[str, Any]]:
    """An outlet's story, then the same story posted again word for word by the same
    feed under a new guid and a new address (a slug with today's date), half an hour
    before the send time."""
    title = "Pop star marries footballer in secret ceremony"
    first = {"guid": "pop", "title": title, "url": "https://site.example/old/pop"}
    again = {"guid": "pop-again", "title": title, "url": "https://site.example/06/04/pop"}
    return [
        {**first, "hours_before": first_hours_before, "summary": summary},
        {**again, "hours_before": 0.5, "summary": summary},
    ]


@pytest.mark.parametrize("summary", ["", "<p>The couple wed at a chapel in Sintra.</p>"])
@pytest.mark.parametrize("first_hours_before", [22, 30, 13 * 24])
def test_an_article_posted_again_at_a_new_address_is_as_old_as_its_first_copy(
    database: Database, first_hours_before: float, summary: str
) -> None:
    # The copy is not today's news. At 22 hours the first copy is in the window; at 30
    # it came before the window opened and is read from the archive; at 13 days it is
    # older than the archive and found by its headline.
    store(database, [*covered_story(), SINGLE, *posted_again(first_hours_before, summary)])
    assert top_guids(database) == ["covered-0", "single", "pop-again"]


@pytest.mark.parametrize("days_before", [2, 30])
def test_a_copy_marked_up_anew_in_the_outlets_other_feed_is_as_old_as_its_first(
    database: Database, days_before: int
) -> None:
    # The same story, its summary's markup changed and a "Read more" link to its new
    # address added (as WordPress feeds write it), in another feed of the same outlet.
    text = "The couple wed at a chapel in Sintra before a few friends."
    title = "Pop star marries footballer in secret ceremony"
    rows = [
        {
            "guid": "pop",
            "title": title,
            "summary": f"<p>{text}</p>",
            "url": "https://site.example/old/pop",
            "source": "https://site.example/rss/world",
            "hours_before": days_before * 24,
        },
        {
            "guid": "pop-again",
            "title": title,
            "summary": f'{text} <a href="https://site.example/06/04/pop">Read more</a>',
            "url": "https://site.example/06/04/pop",
            "source": "https://site.example/rss/top",
            "hours_before": 0.5,
        },
    ]
    store(database, [*covered_story(), SINGLE, *rows])
    assert top_guids(database) == ["covered-0", "single", "pop-again"]


def test_a_first_posting_beyond_the_archive_read_in_full_is_found(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A big publication's archive read in full is its last hours: here, one article.
    monkeypatch.setattr(selector, "FULL_ARCHIVE", 1)
    later = {"guid": "later", "title": "Cairo metro extends green line", "hours_before": 40}
    store(database, [*covered_story(), SINGLE, *posted_again(50), later])
    assert top_guids(database) == ["covered-0", "single", "pop-again"]


@pytest.mark.parametrize("field", ["summary", "body"])
def test_a_column_under_the_same_headline_every_day_is_each_days_news(
    database: Database, field: str
) -> None:
    # Each day's report under the column's name, in its summary or (an export with
    # none) in its body.
    column = "Markets wrap: what moved today"
    rows = [
        {
            "guid": f"wrap-{days}",
            "title": column,
            field: f"<p>{text}</p>" if field == "summary" else text,
            "url": f"https://site.example/wrap/{days}",
            "hours_before": days * 24 + 0.5,
        }
        for days, text in (
            (0, "Copper hits a record as Chile's mines strike."),
            (13, "Bond yields fall after a weak jobs report."),
        )
    ]
    store(database, [*covered_story(), SINGLE, *rows])
    assert top_guids(database) == ["covered-0", "wrap-0", "single"]


def test_an_outlets_several_feeds_are_one_source(database: Database) -> None:
    # One outlet's quake reports reach us through three feeds (this machine under two
    # names, www or not, http or https); two outlets' feeds, from the same server, carry
    # the climate law. Coverage: 1 source against 2, so the law leads.
    server = "http://127.0.0.1:8000"
    quake = [
        ("world", "https://www.bugle.example/world/quake", "Quake strikes Valdivia in Chile"),
        ("americas", "https://bugle.example/americas/live", "Valdivia quake: live updates"),
        ("top", "http://bugle.example/top/explainer", "Valdivia quake in Chile explained"),
    ]
    rows = [
        {"guid": f"quake-{feed}", "title": title, "url": url, "hours_before": 1}
        | {
            "source": f"http://localhost:8000/{feed}.json"
            if feed == "americas"
            else f"{server}/{feed}.json"
        }
        for feed, url, title in quake
    ]
    rows += [
        {
            "guid": f"law-{feed}",
            "title": title,
            "url": f"https://{feed}.example/climate-law",
            "source": f"{server}/{feed}.json",
            "hours_before": 4,
        }
        for feed, title in (
            ("herald", "Parliament passes landmark climate law"),
            ("times", "Landmark climate law passes parliament"),
        )
    ]
    store(database, rows)
    assert [
        (s.article.guid[:3], s.explanation and s.explanation.sources)
        for s in plan(database).stories
    ] == [
        ("law", 2),
        ("qua", 1),
    ]


@pytest.mark.parametrize("folder", ["/srv/feeds", "exports"])
def test_an_outlets_several_files_are_one_source(database: Database, folder: str) -> None:
    """The same outlet's feeds as files: a file names nobody, its articles' site does.
    An old story of the outlet's, posted again today under a new guid and address in
    its other file, is neither a second source nor today's news (a breaker's day)."""
    bridge = "Bridge collapses in Baltimore after ship strike, six missing"
    rows: list[dict[str, Any]] = [
        {
            "guid": "bridge-first",
            "title": bridge,
            "url": "https://www.gazette.example/2025/bridge-collapse",
            "source": f"{folder}/gazette_world.jsonl",
            "section": "US",
            "hours_before": 72,
        },
        {  # the same feed serves it again under a new guid, its address spelt anew
            "guid": "bridge-refetched",
            "title": bridge,
            "url": "https://gazette.example/2025/bridge-collapse/?utm_campaign=x#top",
            "source": f"{folder}/gazette_world.jsonl",
            "section": "US",
            "hours_before": 1,
        },
        {
            "guid": "bridge-again",
            "title": bridge,
            "url": "https://www.gazette.example/2025/bridge-collapse-baltimore",
            "source": f"{folder}/gazette_top.jsonl",
            "section": "US",
            "hours_before": 0.5,
        },
    ]
    for number, (outlet, title) in enumerate(
        [
            ("reuters", "Iceland volcano erupts near Grindavik, town evacuated"),
            ("apnews", "Lava spews from fissure as Icelandic volcano erupts near Grindavik"),
            ("guardian", "Grindavik evacuated as Reykjanes volcano eruption begins"),
        ]
    ):
        rows.append(
            {
                "guid": f"volcano-{number}",
                "title": title,
                "url": f"https://www.{outlet}.example/world/iceland-volcano",
                "source": f"{folder}/{outlet}.jsonl",
                "hours_before": 5 - number,
            }
        )
    store(database, rows)
    stories = plan(database).stories
    assert [(s.article.guid, s.explanation and s.explanation.sources) for s in stories] == [
        ("volcano-2", 3),
        ("bridge-again", 1),
    ]
    bridge_parts = stories[1].explanation
    assert bridge_parts is not None and bridge_parts.recency < 0.1  # three days old


def test_coverage_counts_sources_not_rows(database: Database) -> None:
    one_source = [
        {
            "guid": f"busy-{n}",
            "title": f"Perth bushfire season starts early, {word}",
            "url": f"https://site.example/perth-{n}",
            "hours_before": 3,
        }
        for n, word in enumerate(["officials say", "crews deployed", "homes evacuated"])
    ]
    store(database, [*covered_story(), *one_source])
    assert top_guids(database) == ["covered-0", "busy-0"]


def test_undated_items_come_after_every_dated_one_whatever_their_priority(
    database: Database,
) -> None:
    backlog = [
        {
            "guid": f"backlog-{n}",
            "title": title,
            "hours_before": 0.2,
            "date_estimated": True,
            "priority": 2,  # even an editor's weight does not lift an undated item
            "section": "Culture",
        }
        for n, title in enumerate(["Library opens downtown", "City expands bus network"])
    ]
    store(database, [*backlog, SINGLE])
    assert top_guids(database) == ["single", "backlog-0", "backlog-1"]


def test_a_first_fetch_without_dates_comes_after_the_days_other_undated_items(
    database: Database,
) -> None:
    """An item undated in its source's first fetch may be years old: it leads nothing,
    even where every candidate's date is untrusted and its priority is the highest."""
    zoo = {
        "guid": "zoo",
        "title": "Zoo welcomes baby giraffe",
        "hours_before": 0.2,
        "date_estimated": True,
        "estimated_on_first_fetch": True,
        "priority": 5,
    }
    budget = {
        "guid": "budget",
        "title": "City council approves new budget",
        "hours_before": 0.1,
        "ingested_at": END - timedelta(hours=3),  # dated after it was fetched
    }
    undated = {**budget, "guid": "bridge", "title": "Harbour bridge reopens", "hours_before": 0.3}
    undated.update(date_estimated=True, ingested_at=END - timedelta(minutes=10))
    store(database, [zoo, budget, undated])
    assert top_guids(database) == ["budget", "bridge", "zoo"]


def test_section_diversity_does_not_seat_an_undated_item_before_dated_news(
    database: Database,
) -> None:
    """Politics has its half of the slots; the only other section's candidate is a
    backlog item. The cap gives way to the dated news first (a breaker's edition)."""
    politics = [
        "Senate passes budget bill after marathon session",
        "Governor vetoes housing plan in Sacramento",
        "Prime minister of Nepal survives confidence vote",
        "Chile's congress approves pension overhaul",
        "Mayor of Lyon resigns over tram contract",
    ]
    rows: list[dict[str, Any]] = [
        {"guid": f"politics-{n}", "title": title, "section": "Politics", "hours_before": 2 + n}
        for n, title in enumerate(politics)
    ]
    rows.append(
        {
            "guid": "castles",
            "title": "Archive piece about medieval castles restored",
            "section": "Culture",
            "hours_before": 0.2,
            "date_estimated": True,
            "estimated_on_first_fetch": True,
            "priority": 10,
        }
    )
    store(database, rows)
    assert top_guids(database) == [f"politics-{n}" for n in range(5)] + ["castles"]


def test_an_uncorroborated_report_does_not_fill_an_aggregators_edition(
    database: Database,
) -> None:
    # Six of seven articles belong to two stories several outlets carry: the stray report
    # only its own outlet carries is not a third top story (it may be one of theirs).
    fourth = {
        "guid": "covered-3",
        "title": "Maumere airport stays shut as Flores volcano erupts again",
        "source": "https://herald.example/rss",
        "hours_before": 20.3,
    }
    rates = reports(
        "rates",
        [
            ("ledger", "Central bank cuts interest rates by half a point"),
            ("markets", "Central bank cuts rates by half a point to spur growth"),
        ],
        21,
        section="Business",
    )
    stray = {"guid": "stray", "title": "The wheels on the bus go round", "hours_before": 1}
    store(database, [*covered_story(), fourth, *rates, stray])
    chosen = plan(database)
    assert [story.article.guid for story in chosen.stories] == ["covered-0", "rates-0"]
    # the edition is short, and the editor is told what was left out
    assert [report.guid for report in chosen.set_aside] == ["stray"]


def test_one_widely_reported_story_leaves_a_few_exclusives_their_slots(
    database: Database,
) -> None:
    # Six outlets report the volcano, one story; the two exclusives are not its strays
    # (an aggregator's day has several stories many report, or a story of twenty outlets).
    more = reports(
        "more",
        [
            ("herald", "Maumere airport stays shut as Flores volcano erupts again"),
            ("courier", "Flores volcano eruption keeps Maumere airport closed"),
            ("gazette", "Volcano on Flores erupts, Maumere flights cancelled"),
        ],
        20.5,
    )
    exclusives = [
        {"guid": "tram", "title": "Council approves budget for new tram line", "hours_before": 2},
        {
            "guid": "cup",
            "title": "Rovers win cup final on penalties",
            "section": "Sport",
            "hours_before": 3,
        },
    ]
    store(database, [*covered_story(), *more, *exclusives])
    assert top_guids(database) == ["covered-0", "tram", "cup"]


def test_every_accident_at_once_ranks_after_the_covered_story(database_url: str) -> None:
    # All the accidents in one window, on both backends: the story three sources report
    # leads, then dated news (the page fetched three times is one report, the feed that
    # ran one story three times is one source), then the undated and the future-dated
    # items, and nothing appears twice.
    db = Database(database_url)
    db.upgrade()
    try:
        refetched = [
            {
                "guid": guid,
                "title": "Lagos floods displace thousands",
                "url": url,
                "hours_before": h,
            }
            for guid, url, h in [
                ("lagos", "https://site.example/lagos", 5),
                ("lagos-again", "http://www.site.example/lagos/?utm_source=rss", 1),
            ]
        ]
        one_source = [
            {
                "guid": f"busy-{n}",
                "title": f"Perth bushfire season starts early, {word}",
                "source": "https://perth.example/rss",
                "hours_before": 8 + n,
            }
            for n, word in enumerate(["officials say", "crews deployed", "homes evacuated"])
        ]
        future = {
            "guid": "future",
            "title": "Hanoi opens new metro line",
            "hours_before": 0.1,
            "ingested_at": END - timedelta(hours=3),
        }
        undated = {
            "guid": "undated",
            "title": "Quito hosts Andean trade summit",
            "hours_before": 0.05,
            "date_estimated": True,
        }
        store(db, [*covered_story(), *refetched, *one_source, future, undated])
        # undated and future-dated: no recency, after every dated story; newest first
        assert top_guids(db) == ["covered-0", "lagos", "busy-0", "undated", "future"]
        everything = edition_guids(db)
        assert len(everything) == len(set(everything))
        assert "lagos-again" not in everything
    finally:
        db.dispose()


def aggregated_window(big_sources: int) -> list[dict[str, Any]]:
    """An aggregator's window: one event `big_sources` outlets report, one three report,
    one only two report (the freshest: under plain scores it leads)."""
    verbs = ["closes", "shuts", "grounds flights at", "halts traffic at"]
    big = [
        {
            "guid": f"big-{n}",
            "title": f"Flores volcano eruption {verbs[n % 4]} Maumere airport",
            "source": f"https://outlet{n}.example/rss",
            "hours_before": 20 - n / 10,
        }
        for n in range(big_sources)
    ]
    three = [
        {
            "guid": f"three-{n}",
            "title": f"Tallinn parliament {word} digital identity law",
            "source": f"https://baltic{n}.example/rss",
            "hours_before": 6 + n / 10,
        }
        for n, word in enumerate(["passes", "approves", "adopts"])
    ]
    two = [
        {
            "guid": f"two-{n}",
            "title": f"Business update: Quito {word} Andean trade summit",
            "source": f"https://desk{n}.example/rss",
            "hours_before": 1 + n / 10,
        }
        for n, word in enumerate(["hosts", "welcomes"])
    ]
    return [*big, *three, *two]


@pytest.mark.parametrize(
    ("big_sources", "expected"),
    [
        # 2 sources beside 60 (fewer than THIN_SHARE of them): set aside; 3 stay
        (60, ["big-59", "three-0"]),
        # beside 40 sources the share asks for fewer than 2: 2 sources are enough
        (40, ["two-0", "three-0", "big-39"]),
    ],
)
def test_a_thinly_reported_story_does_not_take_a_slot_beside_sixty_sources(
    database_url: str, big_sources: int, expected: list[str]
) -> None:
    db = Database(database_url)
    db.upgrade()
    try:
        store(db, aggregated_window(big_sources))
        assert top_guids(db) == expected
    finally:
        db.dispose()


def test_an_old_article_fetched_again_under_a_new_guid_ranks_with_estimated_dates(
    database: Database,
) -> None:
    # A feed's item of two days ago, fetched again under a new guid at another form of
    # its address and stamped with today's time, with the site's high priority: its first
    # copy dates it, and a date that is not the story's own ranks after the day's news
    # (a breaker pass: it led, by its priority alone, over a story five outlets told).
    title = "Carmaker recalls 200,000 cars over steering fault"
    body = "The recall covers cars built in 2024 and 2025 after reports of steering failures."
    first = {"guid": "recall", "url": "https://www.wire.example/news/recall", "hours_before": 44}
    again = {"guid": "recall-v2", "url": "http://wire.example/news/recall/", "hours_before": 0.5}
    copies = [
        {**copy, "title": title, "body": body, "priority": 2, "source": "https://wire.example/rss"}
        for copy in (first, again)
    ]
    store(database, [*covered_story(), SINGLE, *copies])
    assert top_guids(database) == ["covered-0", "single", "recall-v2"]


GOLD = {
    "title": "Gold price hits record high",
    "summary": "Gold rose above $3,000 an ounce for the first time.",
    "body": "Gold rose above 3,000 dollars an ounce for the first time as investors sought safety.",
    "section": "Business",
    "source": "https://metro.example/rss",
}


def test_one_outlets_posts_of_a_story_are_one_report_of_it(database: Database) -> None:
    # One outlet posting a story three times made every word of it a keyword of a
    # three-report event, which took in another outlet's lone story sharing "record" as
    # its second source: it led over the covered story and the other story was gone.
    gold = [{**GOLD, "guid": f"gold-{n}", "hours_before": 1 - n / 10} for n in range(3)]
    heathrow = {
        "guid": "heathrow",
        "title": "Heathrow passenger numbers hit record in November",
        "summary": "Heathrow handled 6.9 million passengers in November, its busiest yet.",
        "section": "Travel",
        "source": "https://pacific.example/rss",
        "hours_before": 1.5,
    }
    strike = reports(
        "strike",
        [
            ("herald", "Dockworkers strike shuts Rotterdam port"),
            ("capital", "Rotterdam port strike"),
        ],
        3,
        section="Business",
    )
    store(database, [*covered_story(), *strike, *gold, heathrow])
    edition = plan(database)
    tops = [story.article.guid for story in edition.stories]
    assert tops == ["strike-0", "covered-0", "gold-2", "heathrow"]
    gold_story = edition.stories[2]
    assert gold_story.explanation is not None and gold_story.explanation.sources == 1
