"""One event, one top story, in a window of a few articles (a new site, a test feed):
two reports that meet only in their openings' names and places are one story; two
events of one kind in two places stay two (`selection.one_story`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from digest.selection.corpus import Corpus, Doc
from digest.selection.one_story import OneStory
from digest.selection.similarity import cosine
from digest.selection.terms import article_text
from tests.conftest import Digest
from tests.test_select import DAY, write_feed

#: The wire leads on the toll, the paper on the rescue: their headlines share no word,
#: their openings the country, the region and the homes.
WIRE = [
    {
        "guid": "wire-chile",
        "section": "World",
        "published_at": "2025-06-03T22:10:00Z",
        "title": "Magnitude 6.9 earthquake strikes northern Chile, killing at least 5",
        "summary": "A magnitude 6.9 earthquake struck northern Chile early on Tuesday, "
        "killing at least five people and damaging hundreds of homes in the Atacama "
        "region, Chile's disaster agency said.",
        "body": "The epicentre was 30 km north of the town of Copiapo at a depth of 40 km. "
        "President Gabriel Boric said the government was sending aid to Atacama.",
    },
    {
        "guid": "wire-rates",
        "section": "Business",
        "published_at": "2025-06-03T21:00:00Z",
        "title": "Reserve Bank holds interest rate steady at 4.1%",
        "summary": "The Reserve Bank left its cash rate unchanged on Tuesday, saying "
        "inflation was easing but the labour market remained tight.",
    },
]
PAPER = [
    {
        "guid": "paper-atacama",
        "section": "World",
        "published_at": "2025-06-03T23:30:00Z",
        "title": "Strong tremor rocks Atacama as rescuers search damaged homes",
        "summary": "Rescuers in northern Chile dug through rubble in the Atacama region on "
        "Tuesday after a strong earthquake flattened adobe homes and cut roads.",
    },
    {
        "guid": "paper-final",
        "section": "Sport",
        "published_at": "2025-06-03T20:30:00Z",
        "title": "Rovers edge City on penalties to lift the cup",
        "summary": "Rovers won the cup final 5-4 on penalties after a goalless draw.",
    },
]
#: Another earthquake, elsewhere: the same kind of words, none of the names.
HOKKAIDO = {
    "guid": "agency-hokkaido",
    "section": "World",
    "published_at": "2025-06-03T23:50:00Z",
    "title": "Magnitude 5.4 quake hits Japan's Hokkaido, no damage reported",
    "summary": "A magnitude 5.4 earthquake struck off Hokkaido in northern Japan early on "
    "Tuesday, damaging no homes, the Japan Meteorological Agency said.",
}


def edition(digest: Digest) -> dict[str, Any]:
    shown = digest.ok("select", "--date", DAY, "--lang", "en", "--json", "--explain").stdout
    return json.loads(shown)


def stories(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {story["article"]["guid"]: story for story in plan["stories"]}


def test_two_reports_meeting_in_their_openings_names_are_one_story(
    digest: Digest, initialised: Path
) -> None:
    digest.ok(
        "ingest",
        str(write_feed(initialised, "wire.jsonl", WIRE)),
        str(write_feed(initialised, "paper.jsonl", PAPER)),
    )
    found = stories(edition(digest))
    quake = [guid for guid in found if guid in ("wire-chile", "paper-atacama")]
    assert len(quake) == 1, list(found)
    story = found[quake[0]]
    other = ({"wire-chile", "paper-atacama"} - {quake[0]}).pop()
    assert [report["guid"] for report in story["explanation"]["reports"]] == [other]
    assert story["explanation"]["sources"] == 2
    assert {"wire-rates", "paper-final"} <= set(found)


def test_an_earthquake_elsewhere_is_not_one_story_by_its_openings() -> None:
    # The Hokkaido report's opening is as close to the Chilean wire's as the Atacama
    # report's is (the words of every earthquake report); the names decide.
    articles = [*WIRE, *PAPER, HOKKAIDO]
    docs = [
        Doc(n, a["guid"], a["title"], a["section"], "feed", datetime(2025, 6, 3, tzinfo=UTC))
        for n, a in enumerate(articles)
    ]
    texts = {n: (a["title"], a["summary"], a.get("body", "")) for n, a in enumerate(articles)}
    corpus = Corpus([(doc, article_text(*texts[doc.id][1:])) for doc in docs])
    one = OneStory(docs, 0.2, corpus.vocabulary, "en", lambda ids: {i: texts[i] for i in ids})
    wire, atacama, hokkaido = 0, 2, 4
    assert cosine(docs[wire].vector.as_dict(), docs[hokkaido].vector) >= 0.2  # kind words
    assert one.same(wire, atacama) and one.same(atacama, wire)
    assert not one.same(wire, hokkaido) and not one.same(hokkaido, atacama)
