"""An article's address in selection: one page however its URL is spelled, and two pages
whenever the URL names two."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from tests.conftest import Digest
from tests.test_select import DAY, guids, plan_of, write_feed


def test_articles_told_apart_by_a_query_parameter_are_two_pages(
    digest: Digest, initialised: Path
) -> None:
    # Many news sites address articles by a parameter: show.aspx?NewsID=7 and ?NewsID=8
    # are two articles, whatever a list of known id parameters says.
    items = [
        {
            "guid": guid,
            "url": f"https://news.example/show.aspx?NewsID={number}&utm_source=rss",
            "title": title,
            "summary": summary,
            "published_at": f"2025-06-03T{8 + number % 7:02d}:00:00Z",
        }
        for guid, number, title, summary in (
            ("quake", 7, "Earthquake shakes Valdivia in southern Chile", "A 6.1 tremor."),
            ("final", 8, "Rovers win the cup final on penalties", "A 5-4 shoot-out."),
        )
    ]
    digest.ok("ingest", str(write_feed(initialised, "site.jsonl", items)))
    tops, _ = guids(plan_of(digest, "--lang", "en"))
    assert sorted(tops) == ["final", "quake"]


def test_a_page_whose_slug_is_escaped_another_way_is_one_article(
    digest: Digest, initialised: Path
) -> None:
    # A CMS links an Arabic slug raw in one feed; WordPress escapes it in lower case in
    # another, with a later date: one page, one article, never two in an edition.
    slug = "معرض-الكتاب"
    story = {
        "title": "افتتاح معرض الرياض الدولي للكتاب بمشاركة 1800 دار نشر",
        "summary": "افتتح معرض الرياض الدولي للكتاب أبوابه بمشاركة أكثر من 1800 دار نشر.",
        "language": "ar",
        "section": "ثقافة",
    }
    first = {**story, "guid": "yw-10", "url": f"https://alyawm.example/news/{slug}",
             "published_at": "2025-06-03T08:00:00Z"}  # fmt: skip
    again = {**story, "guid": "latest-4471",
             "url": f"https://alyawm.example/news/{quote(slug).lower()}",
             "published_at": "2025-06-03T20:00:00Z"}  # fmt: skip
    digest.ok("ingest", str(write_feed(initialised, "yawm.jsonl", [first])))
    digest.ok("ingest", str(write_feed(initialised, "latest.jsonl", [again])))
    rows = json.loads(digest.ok("articles", "list", "--json").stdout)
    assert [row["guid"] for row in rows] == ["yw-10"]
    plan = json.loads(digest.ok("select", "--date", DAY, "--lang", "ar", "--json").stdout)
    listed = [s["article"]["guid"] for s in plan["stories"]]
    listed += [r["article"]["guid"] for s in plan["stories"] for r in s["related"]]
    assert listed == ["yw-10"]


def test_another_feeds_copy_of_the_page_is_the_same_report_in_related(
    digest: Digest, initialised: Path
) -> None:
    # An aggregator's item links the outlet's own page (http, www, a trailing slash) under
    # a headline of its own: whatever the texts score, `articles related` calls it the
    # same report, as an edition does, and it does not set the bar for the others.
    page = "https://echo.example/world/valencia-floods"
    story = {
        "guid": "echo-100",
        "url": page,
        "title": "Flooding in Valencia kills 8 as storm dumps a year's rain in hours",
        "summary": "Flash floods swept through towns around Valencia, killing eight people "
        "after a storm dumped a year's rain in a few hours, emergency services said.",
        "published_at": "2025-06-03T08:00:00Z",
    }
    aggregated = {
        "guid": "fx-1",
        "url": "http://www.echo.example/world/valencia-floods/",
        "title": "Deadly floods hit Spain's Valencia region",
        "summary": "Storm brings flash floods to the Valencia region of Spain; eight dead.",
        "published_at": "2025-06-03T09:00:00Z",
    }
    other = {
        "guid": "herald-7",
        "title": "Valencia flood toll reaches eight as rescuers search swept-away cars",
        "summary": "Rescuers in Valencia searched cars swept away by flash floods after a "
        "storm dumped a year's rain in hours; the toll reached eight, officials said.",
        "published_at": "2025-06-03T10:00:00Z",
    }
    teaser = {  # the same page again, under a line that shares nothing with it
        "guid": "agg-9",
        "url": "https://ECHO.example:443/world/valencia-floods/?utm_medium=rss#top",
        "title": "Spain: more to follow",
        "summary": "Read the full report on our partner's site.",
        "published_at": "2025-06-03T09:30:00Z",
    }
    digest.ok("ingest", str(write_feed(initialised, "echo.jsonl", [story])))
    digest.ok("ingest", str(write_feed(initialised, "fx.jsonl", [aggregated])))
    digest.ok("ingest", str(write_feed(initialised, "agg.jsonl", [teaser])))
    digest.ok("ingest", str(write_feed(initialised, "herald.jsonl", [other])))
    found = json.loads(digest.ok("articles", "related", "echo-100", "--json").stdout)
    copies = {item["article"]["guid"]: item["duplicate"] for item in found}
    assert copies.get("fx-1") is True and copies.get("agg-9") is True
    assert copies.get("herald-7") is False
    back = json.loads(digest.ok("articles", "related", "agg-9", "--json").stdout)
    assert {item["article"]["guid"] for item in back if item["duplicate"]} == {"echo-100", "fx-1"}


def test_stories_linked_to_the_site_s_home_page_are_not_one_page(
    digest: Digest, initialised: Path
) -> None:
    # A feed that links items without a page of their own to its home page (and another
    # outlet's to its own, spelt without the slash): four stories, not one page fetched
    # four times (a breaker pass: three grouped under the oldest, or under the fourth).
    def story(guid: str, url: str, title: str, hour: int, section: str) -> dict[str, object]:
        return {"guid": guid, "url": url, "title": title, "section": section,
                "published_at": f"2025-06-03T{hour:02d}:00:00Z"}  # fmt: skip

    home = "https://bugle.example/"
    bugle = [
        story("h1", home, "Volcano erupts near Reykjavik, flights grounded", 20, "World"),
        story("h2", home, "Local bakery wins bread award", 19, "Local"),
        story("h3", home, "City council approves new tram line", 18, "Local"),
    ]
    other = [story("k1", "http://www.bugle.example", "Tesla recalls 200,000 cars", 17, "Cars")]
    digest.ok("ingest", str(write_feed(initialised, "bugle.jsonl", bugle)))
    digest.ok("ingest", str(write_feed(initialised, "other.jsonl", other)))
    tops, related = guids(plan_of(digest, "--lang", "en"))
    assert sorted(tops) == ["h1", "h2", "h3", "k1"]
    assert all(items == [] for items in related.values())


def test_a_stored_canonical_address_is_read_as_the_general_way_reads_it() -> None:
    """`canonical_address` reads an address ingest made canonical off one regular
    expression; every other goes the general way (`ingest.urls.canonical_url`). On every
    combination below both ways give one key, and the quick way is taken for many."""
    from itertools import product

    from digest.selection.identity import _PLAIN_ADDRESS, _address, canonical_address

    schemes = ["http://", "https://", "HTTPS://"]
    hosts = ["example.com", "www.example.com", "News.Example.com", "www.www.a.b", "h:8080"]
    paths = [
        "",
        "/",
        "//",
        "/a",
        "/a/",
        "/a//b",
        "/../a",
        "/a/../b",
        "/%7Ea",
        "/%d8%b2",
        "/a.b-c_d~e!f=g:h,i",
        "/\u0627",
        "/a b",
        "/2024/05/story-1234/",
    ]
    ends = ["", "?x=1", "#top", "?utm_source=x", " "]
    urls = ["".join(parts) for parts in product(schemes, hosts, paths, ends)]
    quick = [url for url in urls if _PLAIN_ADDRESS.fullmatch(url)]
    assert len(quick) >= 20
    for url in urls:
        assert canonical_address(url) == _address(url), url
