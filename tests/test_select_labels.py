"""A headline that names a page's format, not its story, never leads an edition."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from babel import Locale

from digest.selection.labels import DATE_WORDS, is_label
from digest.selection.text import normalise
from tests.conftest import Digest
from tests.test_select import DAY, write_feed


@pytest.mark.parametrize(
    ("title", "label"),
    [
        ("Live: latest updates", True),
        ("BREAKING NEWS", True),
        ("Top stories this morning", True),
        ("عاجل", True),
        ("تغطية مباشرة: آخر التطورات", True),
        ("", True),
        ("خبر عاجل", True),
        ("بالفيديو", True),  # "in video": by its stem
        ("Live reporting", True),
        ("What we know so far", True),
        ("Live updates: earthquake in northern Chile", False),
        ("Live Aid returns to Wembley", False),
        ("Watch: the moment the bridge fell", False),
        ("Reports of gunfire near parliament", False),
        ("Live Nation fined $40m over ticket fees", False),
        ("عاجل: زلزال بقوة 6.9 درجات يضرب شمال تشيلي", False),
    ],
)
def test_a_label_is_a_headline_of_format_words_only(title: str, label: bool) -> None:
    assert is_label(title) is label


@pytest.mark.parametrize(
    ("title", "url", "label"),
    [
        ("Live Updates – June 3", "", True),
        ("Live blog: Tuesday 3 June 2025", "", True),
        ("Live updates 2025-06-03", "", True),
        ("Latest news, Sept 12", "", True),
        ("تغطية مباشرة - الثلاثاء 3 حزيران", "", True),
        ("آخر الأخبار: الخميس 5 جويلية", "", True),
        ("Live updates | Bugle", "https://www.bugle.example/live/1", True),
        ("Al-Monitor daily briefing", "https://www.al-monitor.com/x", True),
        ("Live updates | Bugle", "https://herald.example/live/1", False),
        ("Live updates: June 3 earthquake in Peru", "", False),
        ("May Day marches across France", "", False),
        ("Bugle wins press award", "https://bugle.example/award", False),
    ],
)
def test_a_date_or_the_outlet_s_name_does_not_make_a_label_a_story(
    title: str, url: str, label: bool
) -> None:
    # A breaker pass: "Live Updates – June 3" led an edition over the earthquake report
    # it was about.
    assert is_label(title, url) is label


def test_the_date_words_are_cldr_s_month_and_weekday_names() -> None:
    names: set[str] = set()
    for code in ("en", "en_GB", "ar", "ar_SY", "ar_MA", "ar_DZ"):
        locale = Locale.parse(code)
        for table in (locale.months, locale.days):
            for context in ("format", "stand-alone"):
                for width in ("wide", "abbreviated"):
                    for name in table[context][width].values():
                        names.update(normalise(name.replace(".", "")).split())
    assert set(normalise(DATE_WORDS).split()) == names


def test_a_live_page_and_an_alert_do_not_lead(digest: Digest, initialised: Path) -> None:
    live = {
        "guid": "live-1",
        "title": "Live: latest updates",
        "summary": "Rescuers in the Atacama region of northern Chile are searching for "
        "survivors of the magnitude 6.9 earthquake that killed at least five people.",
        "published_at": "2025-06-03T23:59:00Z",
    }
    alert = {
        "guid": "alert-1",
        "title": "Breaking news",
        "summary": "",
        "published_at": "2025-06-03T23:58:00Z",
        "section": "Business",
    }
    wire = {
        "guid": "wire-1",
        "title": "Magnitude 6.9 earthquake strikes northern Chile, killing at least 5",
        "summary": "A magnitude 6.9 earthquake struck the Atacama region of northern Chile, "
        "killing at least five people and leaving rescuers searching for survivors.",
        "published_at": "2025-06-03T20:00:00Z",
    }
    digest.ok(
        "ingest",
        str(write_feed(initialised, "herald.jsonl", [live, alert])),
        str(write_feed(initialised, "wire.jsonl", [wire])),
    )
    shown = digest.ok("select", "--date", DAY, "--lang", "en", "--json", "--explain").stdout
    stories = json.loads(shown)["stories"]
    assert [story["article"]["guid"] for story in stories] == ["wire-1"]
    assert [report["guid"] for report in stories[0]["explanation"]["reports"]] == ["live-1"]


@pytest.mark.parametrize("title", ["Live Updates – June 3", "Live updates | Bugle"])
def test_a_dated_or_signed_live_page_does_not_lead(
    digest: Digest, initialised: Path, title: str
) -> None:
    live = {
        "guid": "l",
        "url": "https://bugle.example/l",
        "title": title,
        "summary": "Follow our live coverage: a magnitude 7.1 earthquake struck the "
        "Arequipa region of southern Peru.",
        "section": "News",
        "priority": 5,
        "published_at": "2025-06-03T20:00:00Z",
    }
    wire = {
        "guid": "real",
        "url": "https://other.example/real",
        "title": "Magnitude 7.1 earthquake strikes southern Peru, dozens dead",
        "summary": "A magnitude 7.1 earthquake struck the Arequipa region of southern Peru, "
        "killing dozens.",
        "section": "World",
        "published_at": "2025-06-03T10:00:00Z",
    }
    digest.ok(
        "ingest",
        str(write_feed(initialised, "bugle.jsonl", [live])),
        str(write_feed(initialised, "other.jsonl", [wire])),
    )
    shown = digest.ok("select", "--date", DAY, "--lang", "en", "--json", "--explain").stdout
    stories = json.loads(shown)["stories"]
    assert [story["article"]["guid"] for story in stories] == ["real"]
