"""Coverage counts the sources of every report grouped into a story."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import FIXTURES, Digest
from tests.test_select import write_feed

#: Two outlets' reports of one earthquake whose openings share only the place and the
#: magnitude (related over all their terms, not over the dozen heaviest each), a third
#: outlet's market story about it, and three other stories of the day.
QUAKE_DAY = [
    {
        "guid": "gw-100",
        "url": "https://globalwire.example/world/chile-quake-100",
        "title": "Magnitude 7.4 earthquake strikes northern Chile",
        "summary": "A magnitude 7.4 earthquake struck off the coast of northern Chile near the "
        "port city of Antofagasta on Sunday, the national seismological service said.",
        "body": "Residents fled to higher ground as a tsunami alert was issued for the coast. "
        "Power was cut across the Antofagasta region and at least two hospitals were "
        "evacuated, regional officials said.\n\nThe quake was felt as far away as La Paz.",
        "published_at": "2025-06-03T20:10:00Z",
    },
    {
        "guid": "metro-77",
        "url": "https://metrotimes.example/2025/06/03/chile-rescuers-search-rubble",
        "title": "Rescuers search rubble in Antofagasta as aftershocks continue",
        "summary": "Rescue teams worked through the night in Antofagasta, pulling survivors "
        "from collapsed homes as aftershocks rattled northern Chile following Sunday's "
        "magnitude 7.4 earthquake.",
        "body": "At least 15 people were killed, Chile's interior ministry said. The national "
        "seismological service recorded more than 40 aftershocks.",
        "published_at": "2025-06-03T23:05:00Z",
    },
    {
        "guid": "cap-3001",
        "url": "https://capitalpost.example/markets/copper-mines-halt",
        "title": "Copper prices jump as Chilean mines halt output after quake",
        "summary": "Copper prices rose 3 percent in Asian trading after mining companies "
        "suspended operations at several large mines in Chile's Antofagasta region.",
        "section": "Business",
        "published_at": "2025-06-03T23:45:00Z",
    },
    {
        "guid": "gw-102",
        "url": "https://globalwire.example/business/ecb-raises-rates-102",
        "title": "ECB raises interest rates to 4% in surprise move",
        "summary": "The European Central Bank raised its main rate by a quarter point.",
        "section": "Business",
        "published_at": "2025-06-03T10:00:00Z",
    },
    {
        "guid": "metro-79",
        "url": "https://metrotimes.example/2025/06/03/benin-bronzes",
        "title": "Museum returns looted bronze statues to Benin",
        "summary": "The city museum handed back 21 bronze statues taken in 1897.",
        "section": "Culture",
        "published_at": "2025-06-03T08:00:00Z",
    },
]


def test_a_storys_coverage_counts_every_report_grouped_into_it(
    digest: Digest, initialised: Path
) -> None:
    digest.ok("ingest", str(write_feed(initialised, "day.jsonl", QUAKE_DAY)))
    plan = json.loads(
        digest.ok("select", "--date", "2025-06-04", "--lang", "en", "--json", "--explain").stdout
    )
    stories = plan["stories"]
    assert [story["article"]["guid"] for story in stories] == [
        "metro-77",
        "cap-3001",
        "gw-102",
        "metro-79",
    ]
    lead = stories[0]["explanation"]
    assert [report["guid"] for report in lead["reports"]] == ["gw-100"]
    assert lead["sources"] == 2 and lead["score_parts"]["coverage"] > 0
    assert stories[0]["score"] > stories[1]["score"]


def test_a_report_related_to_one_set_aside_under_a_story_is_that_storys_event(
    digest: Digest, initialised: Path
) -> None:
    # A day of seven outlets' feeds (tests/fixtures/newsday). A republisher's copy of
    # the wire's quake report leads; the wire's own report is set aside as its event.
    # The rescuers' report shares no headline word with the republished one and is
    # related to the wire's report: the same event, not a second top story. (The outlet's
    # feed comes before the aggregator's here: the page's row keeps the outlet's summary.)
    order = ("gw", "herald-world", "herald-business", "chron", "chron-www", "metro")
    order += ("capital", "newsnow", "hub", "chron-latest")
    digest.ok("ingest", *(str(FIXTURES / "newsday" / f"{name}.xml") for name in order))
    plan = json.loads(
        digest.ok("select", "--date", "2026-11-30", "--lang", "en", "--json", "--explain").stdout
    )
    stories = plan["stories"]
    lead = stories[0]
    assert lead["article"]["title"] == "7.4-magnitude earthquake strikes northern Chile - reports"
    reports = {report["guid"] for report in lead["explanation"]["reports"]}
    assert {"gw-100", "metro-77"} <= reports
    assert "metro-77" not in {story["article"]["guid"] for story in stories}
