"""A headline that names a page's format, not its story, never leads an edition."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from digest.selection.labels import is_label
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
