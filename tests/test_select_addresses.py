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
