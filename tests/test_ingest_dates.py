"""Ingest dates read by one rule whatever the format: regional Arabic month names, time
zone names RFC 822 does not define, impossible offsets, and a page's own metadata
before a `<time>` that may belong to another article."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Digest
from tests.test_ingest_feeds import rss, stored
from tests.test_ingest_pages import notes_page


def rss_dated(*dates: str) -> str:
    items = "".join(
        f"<item><title>Item {n}</title><guid>g{n}</guid><pubDate>{date}</pubDate></item>"
        for n, date in enumerate(dates)
    )
    return rss(items, "<language>ar</language>")


# Levantine/Iraqi (ar_SY, ar_LB, ar_IQ, ar_JO), Maghrebi (ar_MA, ar_DZ, ar_TN) and
# standard (ar) month names, as CLDR writes them; two-word names map as a whole.
REGIONAL_MONTHS = [
    ("4 كانون الثاني 2025", "2025-01-04"),
    ("4 شباط 2025", "2025-02-04"),
    ("4 آذار 2025", "2025-03-04"),
    ("4 نيسان 2025", "2025-04-04"),
    ("4 أيار 2025", "2025-05-04"),
    ("4 حزيران 2025", "2025-06-04"),
    ("4 تموز 2025", "2025-07-04"),
    ("4 آب 2025", "2025-08-04"),
    ("4 أيلول 2025", "2025-09-04"),
    ("4 تشرين الأول 2025", "2025-10-04"),
    ("4 تشرين الثاني 2025", "2025-11-04"),
    ("4 كانون الأول 2025", "2025-12-04"),
    ("4 جانفي 2025", "2025-01-04"),
    ("4 فيفري 2025", "2025-02-04"),
    ("4 أفريل 2025", "2025-04-04"),
    ("4 ماي 2025", "2025-05-04"),
    ("4 جوان 2025", "2025-06-04"),
    ("4 جويلية 2025", "2025-07-04"),
    ("4 يوليوز 2025", "2025-07-04"),
    ("4 أوت 2025", "2025-08-04"),
    ("4 غشت 2025", "2025-08-04"),
    ("4 شتنبر 2025", "2025-09-04"),
    ("4 نونبر 2025", "2025-11-04"),
    ("4 دجنبر 2025", "2025-12-04"),
    ("4 يونيو 2025", "2025-06-04"),
    ("4 مايو 2025", "2025-05-04"),
    ("4 اذار 2025", "2025-03-04"),  # without the madda, as often typed
    ("4 حزيران/يونيو 2025", "2025-06-04"),  # both names, as Levantine papers write
]


def test_levantine_month_in_an_rss_pubdate(digest: Digest, initialised: Path) -> None:
    feed = rss_dated("الثلاثاء، 4 حزيران 2024 10:00:00 +0300")
    (initialised / "sy.xml").write_text(feed, encoding="utf-8")
    result = digest.ok("ingest", "sy.xml")
    assert "warning" not in result.stderr
    article = stored(digest, "--since", "2020-01-01")["g0"]
    assert article["published_at"] == "2024-06-04T07:00:00Z"
    assert article["date_estimated"] is False


def test_regional_months_in_rss_and_json_alike(digest: Digest, initialised: Path) -> None:
    """RSS and a JSON export read a date by one rule: the same day either way."""
    dates = [written for written, _day in REGIONAL_MONTHS]
    (initialised / "months.xml").write_text(rss_dated(*dates), encoding="utf-8")
    lines = [
        json.dumps({"guid": f"j{n}", "title": f"J {n}", "published_at": written})
        for n, written in enumerate(dates)
    ]
    (initialised / "months.jsonl").write_text("\n".join(lines), encoding="utf-8")
    result = digest.ok("ingest", "months.xml", "months.jsonl")
    assert "warning" not in result.stderr and "error" not in result.stderr
    articles = stored(digest, "--since", "2020-01-01")
    for n, (written, day) in enumerate(REGIONAL_MONTHS):
        for guid in (f"g{n}", f"j{n}"):
            assert str(articles[guid]["published_at"])[:10] == day, (guid, written)


def test_levantine_month_in_a_json_export_is_not_refused(digest: Digest, initialised: Path) -> None:
    item = {"guid": "a", "title": "T", "published_at": "4 حزيران 2025"}
    (initialised / "export.json").write_text(json.dumps([item]), encoding="utf-8")
    digest.ok("ingest", "export.json")
    article = stored(digest, "--since", "2020-01-01")["a"]
    assert article["published_at"] == "2025-06-04T00:00:00Z"


@pytest.mark.parametrize(
    ("written", "stored_at"),
    [
        ("4 June 2025 06:40 PM", "2025-06-04T18:40:00Z"),
        ("Wed, 04 Jun 2025 06:40 PM", "2025-06-04T18:40:00Z"),
        ("June 4, 2025 6:40 p.m.", "2025-06-04T18:40:00Z"),
        ("4 June 2025 06:40 AM", "2025-06-04T06:40:00Z"),
    ],
)
def test_a_twelve_hour_clock_keeps_its_pm(
    digest: Digest, initialised: Path, written: str, stored_at: str
) -> None:
    # The email module's RFC 2822 parser read "PM" as an unknown zone and kept 06:40.
    item = {"guid": "a", "title": "T", "published_at": written}
    (initialised / "export.json").write_text(json.dumps([item]), encoding="utf-8")
    digest.ok("ingest", "export.json")
    assert stored(digest, "--since", "2020-01-01")["a"]["published_at"] == stored_at


# RFC 822 section 5 / RFC 2822 section 4.3 name UT, GMT and the four US zones; any other
# name (EET, MSK, and AST: Arabia +03 or Atlantic -04) says nothing reliable.
@pytest.mark.parametrize(
    "written",
    [
        "Wed, 04 Jun 2025 06:40:00 EET",
        "Wed, 04 Jun 2025 06:40:00 MSK",
        "Wed, 04 Jun 2025 06:40:00 XYZ",
        "Wed, 04 Jun 2025 06:40:00 AST",
        "2025-06-04 06:40:00 AST",
    ],
)
def test_a_zone_name_rfc_822_does_not_define_is_an_estimate(
    digest: Digest, initialised: Path, written: str
) -> None:
    (initialised / "zone.xml").write_text(rss_dated(written), encoding="utf-8")
    item = {"guid": "j", "title": "J", "published_at": written}
    (initialised / "zone.jsonl").write_text(json.dumps(item), encoding="utf-8")
    result = digest.ok("ingest", "zone.xml", "zone.jsonl")
    zone = written.rsplit(" ", 1)[1]
    assert f"zone.xml: item 'g0': published: time zone {zone!r}" in result.stderr
    assert f"zone.jsonl: line 1: published_at: time zone {zone!r}" in result.stderr
    articles = stored(digest, "--since", "2020-01-01")
    for guid in ("g0", "j"):
        assert articles[guid]["published_at"] == "2025-06-04T06:40:00Z"  # the clock time
        assert articles[guid]["date_estimated"] is True


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("Wed, 04 Jun 2025 06:40:00 EST", "2025-06-04T11:40:00Z"),
        ("Wed, 04 Jun 2025 06:40:00 PDT", "2025-06-04T13:40:00Z"),
        ("Wed, 04 Jun 2025 06:40:00 GMT", "2025-06-04T06:40:00Z"),
        ("Wed, 04 Jun 2025 06:40:00 UT", "2025-06-04T06:40:00Z"),
        ("2025-06-04T06:40:00Z", "2025-06-04T06:40:00Z"),
        ("Wed, 04 Jun 2025 06:40:00 +0300 (EEST)", "2025-06-04T03:40:00Z"),
    ],
)
def test_zones_rfc_822_defines_are_honoured(
    digest: Digest, initialised: Path, written: str, utc: str
) -> None:
    (initialised / "zone.xml").write_text(rss_dated(written), encoding="utf-8")
    result = digest.ok("ingest", "zone.xml")
    assert "warning" not in result.stderr
    article = stored(digest, "--since", "2020-01-01")["g0"]
    assert article["published_at"] == utc
    assert article["date_estimated"] is False


@pytest.mark.parametrize(
    "written",
    [
        "2025-06-04T06:40:00+99:00",
        "Wed, 04 Jun 2025 06:40:00 +9900",
        "2025-06-04T06:40:00+15:00",  # valid syntax, but no zone is this far east
    ],
)
def test_an_impossible_offset_is_an_unreadable_date(
    digest: Digest, initialised: Path, written: str
) -> None:
    (initialised / "bad.xml").write_text(rss_dated(written), encoding="utf-8")
    result = digest.ok("ingest", "bad.xml")
    assert f"date {written!r} not understood; stored with the fetch time" in result.stderr
    assert stored(digest)["g0"]["date_estimated"] is True
    item = {"guid": "j", "title": "J", "published_at": written}
    (initialised / "bad.jsonl").write_text(json.dumps(item), encoding="utf-8")
    refused = digest("ingest", "bad.jsonl")
    assert refused.exit_code == 1
    assert f"line 1: published_at: expected an ISO 8601 date-time, got {written!r}" in (
        refused.stderr
    )


def ingested_page(digest: Digest, folder: Path, page: str) -> dict:
    """The one article stored from `page`, ingested as a file of `folder`."""
    (folder / "page.html").write_text(page, encoding="utf-8")
    digest.ok("ingest", "page.html")
    (article,) = stored(digest, "--since", "2019-01-01").values()
    return article


def test_a_page_prefers_its_metadata_to_a_time_in_the_article(
    digest: Digest, initialised: Path
) -> None:
    """A `<time>` inside `<article>` may date a related article or a comment."""
    ld = {"@type": "NewsArticle", "datePublished": "2025-06-04T06:40:00+03:00"}
    page = notes_page(f'<script type="application/ld+json">{json.dumps(ld)}</script>').replace(
        "</article>", '<aside><time datetime="2020-01-01T00:00:00Z">2020</time></aside></article>'
    )
    article = ingested_page(digest, initialised, page)
    assert article["published_at"] == "2025-06-04T03:40:00Z"
    assert article["date_estimated"] is False


def test_a_page_prefers_its_meta_tag_to_json_ld(digest: Digest, initialised: Path) -> None:
    ld = {"@type": "NewsArticle", "datePublished": "2024-01-01T00:00:00Z"}
    page = notes_page(
        '<meta property="article:published_time" content="2025-06-04T06:40:00+03:00">'
        f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    ).replace("</article>", '<time datetime="2020-01-01T00:00:00Z">2020</time></article>')
    article = ingested_page(digest, initialised, page)
    assert article["published_at"] == "2025-06-04T03:40:00Z"


def test_a_time_in_the_article_still_dates_a_page_without_metadata(
    digest: Digest, initialised: Path
) -> None:
    page = notes_page().replace(
        "</article>", '<time datetime="2025-06-04T06:40:00+03:00">4 June</time></article>'
    )
    article = ingested_page(digest, initialised, page)
    assert article["published_at"] == "2025-06-04T03:40:00Z"
    assert article["date_estimated"] is False
