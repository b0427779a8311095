"""Coverage counts the sources of every report grouped into a story."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def grouped_edition(
    digest: Digest, initialised: Path, rows: list[dict[str, Any]], language: str = "en"
) -> dict[str, list[str]]:
    """Ingest `rows` (outlet, guid, title, hour `at` of 2025-06-03, any other item field)
    as one feed per outlet, and give the `language` edition of 2025-06-04 as each top
    story's guid and the guids `--explain` groups into it, in its order."""
    for outlet in sorted({row["outlet"] for row in rows}):
        items = [
            {"url": f"https://www.{outlet}.example/{row['guid']}", "section": "World"}
            | {key: value for key, value in row.items() if key not in ("outlet", "at")}
            | {"published_at": f"2025-06-03T{row['at']}:00Z"}
            for row in rows
            if row["outlet"] == outlet
        ]
        digest.ok("ingest", str(write_feed(initialised, f"{outlet}.jsonl", items)))
    edition = ("select", "--date", "2025-06-04", "--lang", language, "--json", "--explain")
    plan = json.loads(digest.ok(*edition).stdout)
    return {
        story["article"]["guid"]: [report["guid"] for report in story["explanation"]["reports"]]
        for story in plan["stories"]
    }


#: A day of headlines only, from five outlets: a doctors' strike, an earthquake whose
#: first report says the quake "strikes" Japan, and other stories (a breaker's day).
ONE_WORD_DAY = [
    ("aljazeera", "boeing3", "Passengers describe terror as hole opens in Alaska jet", "16:21"),
    ("aljazeera", "election2", "China warns after Taiwan chooses Lai", "19:14"),
    ("aljazeera", "chess1", "Carlsen clinches rapid chess crown in Samarkand", "22:07"),
    ("aljazeera", "strike0", "Doctors in England begin six-day strike", "23:00"),
    ("apnews", "quake1", "Tsunami warning after powerful quake strikes central Japan", "06:07"),
    ("apnews", "fed0", "Fed raises rates by a quarter point", "09:00"),
    ("apnews", "strike2", "NHS braces for record junior doctors strike", "05:14"),
    ("apnews", "oscars1", "Barbie snubs dominate Academy Award nominations reaction", "07:07"),
    ("apnews", "lone1", "Scientists discover new species of deep-sea octopus", "11:00"),
    ("bbc", "quake2", "Japan quake: buildings collapse in Ishikawa, several dead", "07:14"),
    ("bbc", "fed1", "Powell signals more hikes as Federal Reserve lifts borrowing costs", "10:07"),
    ("bbc", "boeing0", "Boeing 737 Max door plug blows out mid-flight", "13:00"),
    ("bbc", "lone2", "Chef wins Michelin star for vegan menu", "12:00"),
    ("cnn", "quake3", "Strong earthquake jolts western Japan, tsunami alert lifted", "08:21"),
    ("cnn", "fed2", "US central bank increases interest rates again", "11:14"),
    ("cnn", "boeing1", "Alaska Airlines grounds Max 9 jets after cabin panel blowout", "14:07"),
    ("cnn", "election0", "Taiwan elects Lai Ching-te as president", "17:00"),
    ("cnn", "lone3", "Recipe: the perfect sourdough loaf", "13:00"),
    ("guardian", "fed3", "Wall Street slides after Fed rate decision", "12:21"),
    ("guardian", "boeing2", "FAA orders inspections of Boeing Max 9 planes", "15:14"),
    ("guardian", "election1", "DPP wins third straight term in Taiwan presidential vote", "18:07"),
    ("guardian", "chess0", "Magnus Carlsen wins world rapid title", "21:00"),
]


def test_a_headline_word_of_another_sense_does_not_group_a_report_into_that_event(
    digest: Digest, initialised: Path
) -> None:
    """ "Strikes" in the quake's first headline is the strike story's keyword; the report
    shares more with the other quake reports, and is theirs."""
    rows = [
        {"outlet": outlet, "guid": guid, "title": title, "at": at}
        | ({"section": "Life"} if guid.startswith("lone") else {})
        for outlet, guid, title, at in ONE_WORD_DAY
    ]
    reports = grouped_edition(digest, initialised, rows)
    assert reports["strike0"] == ["strike2"]
    assert reports["quake1"] == ["quake3", "quake2"]


#: Two-report events of one day whose texts share a common word below the headlines
#: ("record", "ends"), and single reports whose headlines use that word for other news.
TWO_REPORT_DAY = [
    (
        "gw",
        "grammy1",
        "Beyoncé breaks Grammy record with 32nd win",
        "The singer won four awards on Sunday night.",
        "05:10",
    ),
    (
        "metro",
        "grammy2",
        "Harry Styles takes album of the year as Beyoncé makes Grammy history",
        "Beyoncé set a record for the most wins ever.",
        "05:35",
    ),
    (
        "capital",
        "bp",
        "BP posts record annual profit of $28bn",
        "The oil company's profit doubled as gas prices soared.",
        "07:30",
    ),
    (
        "gw",
        "israel1",
        "Israeli election deadlock as Netanyahu bloc falls short",
        "Counting ends with neither camp holding a majority.",
        "06:00",
    ),
    (
        "herald",
        "israel2",
        "Netanyahu fails to win majority in fifth vote",
        "Vote counting ends with his allies one seat behind.",
        "08:15",
    ),
    (
        "metro",
        "pope",
        "Pope ends visit to Congo with a call for peace",
        "Francis told a crowd in Kinshasa to lay down their weapons.",
        "09:40",
    ),
    (
        "herald",
        "train1",
        "Crews burn off toxic chemicals from derailed train in Ohio",
        "Residents of East Palestine were told to leave before the controlled release.",
        "10:20",
    ),
    (
        "capital",
        "train2",
        "Ohio town evacuated before controlled release from derailed cars",
        "Officials in East Palestine feared an explosion of the vinyl chloride the cars hold.",
        "11:05",
    ),
]


def test_a_word_two_reports_share_is_not_the_name_of_their_event(
    digest: Digest, initialised: Path
) -> None:
    """Any two texts share words: "record" in both Grammy reports does not make BP's
    record profit a report of the Grammys, nor "ends" the Pope's visit the election's."""
    rows = [
        {"outlet": outlet, "guid": guid, "title": title, "summary": summary, "at": at}
        for outlet, guid, title, summary, at in TWO_REPORT_DAY
    ]
    grouped = grouped_edition(digest, initialised, rows)
    events = {"grammy": {"grammy1", "grammy2"}, "israel": {"israel1", "israel2"}}
    events["train"] = {"train1", "train2"}
    for lead, reports in grouped.items():
        event = next((members for members in events.values() if lead in members), {lead})
        assert set(reports) <= event, (lead, reports)


#: Two-report events of a thin day, and a lone report whose headline shares only a common
#: word ("airport") with one of them, a word three of the window's twelve articles carry.
THIN_DAY = [
    ("gw", "toronto1", "Delta jet flips over on landing at Toronto airport", "06:30"),
    ("metro", "toronto2", "Delta plane overturns in Toronto snow, all 80 aboard survive", "06:00"),
    ("gw", "budget1", "Chancellor unveils spring budget with tax cuts", "07:00"),
    ("herald", "budget2", "Budget brings income tax cut for millions", "08:00"),
    ("metro", "final1", "Newcastle beat Liverpool to win League Cup final", "09:00"),
    ("capital", "final2", "Newcastle win League Cup, ending 70-year wait for a trophy", "10:00"),
    ("herald", "storm1", "Tornadoes kill 34 across US South", "11:00"),
    ("capital", "storm2", "Tornadoes tear through US South and Midwest, killing dozens", "12:00"),
    ("gw", "dubai1", "Dubai airport handles record 92 million passengers", "13:00"),
    (
        "herald",
        "dubai2",
        "Dubai International sees busiest year as passenger numbers hit record",
        "14:00",
    ),
    ("capital", "heathrow", "Heathrow airport shut all day by substation fire", "15:00"),
    ("metro", "octopus", "Scientists find new species of deep-sea octopus", "16:00"),
]


def test_a_lone_report_is_no_stray_of_a_small_event_for_a_common_word(
    digest: Digest, initialised: Path
) -> None:
    """A big event's lone strays share its day's dominant word and nothing else; in a
    thin window a common word is "dominant" in three articles, and the Heathrow fire is
    no report of a plane that flipped over in Toronto."""
    rows = [
        {"outlet": outlet, "guid": guid, "title": title, "at": at}
        for outlet, guid, title, at in THIN_DAY
    ]
    for story, reports in grouped_edition(digest, initialised, rows).items():
        event = story.rstrip("12")
        assert all(report.rstrip("12") == event for report in reports), (event, reports)


#: A thin day of two-report events (headlines only) where one report of a football
#: match says a player "fires" his side to a win, and "fire" names a warehouse blaze;
#: one report of a truce "collapses" on the day a bridge collapse is reported.
OTHER_SENSE_DAY = [
    ("gw", "blaze1", "Warehouse fire in Lagos kills 12 workers", "06:00"),
    ("metro", "blaze2", "Lagos police arrest owner over deadly warehouse fire", "09:00"),
    ("herald", "match1", "Arsenal beat Porto to reach Champions League quarter-finals", "07:00"),
    ("capital", "match2", "Saka double fires Arsenal past Porto", "07:30"),
    ("gw", "bridge1", "Bridge collapse in Genoa leaves dozens missing", "08:00"),
    ("herald", "bridge2", "Rescuers search rubble after Genoa bridge collapse", "10:00"),
    ("metro", "truce1", "Sudan truce collapses as fighting returns to Khartoum", "11:00"),
    ("capital", "truce2", "Army and RSF trade blame for renewed Khartoum fighting", "12:00"),
    ("gw", "vote1", "Portugal votes in third general election in three years", "13:00"),
    ("herald", "vote2", "Portuguese head to polls again as Montenegro seeks majority", "14:00"),
]


def test_a_headline_word_of_another_sense_joins_no_event(digest: Digest, initialised: Path) -> None:
    """Two reports of one match, one saying Saka "fires" Arsenal past Porto, are no
    reports of a warehouse fire, and a truce that "collapses" is no bridge collapse: one
    headline of a two-report event naming another event's keyword, in another sense, is
    not half of that event. Each event keeps its own story."""
    rows = [
        {"outlet": outlet, "guid": guid, "title": title, "at": at}
        for outlet, guid, title, at in OTHER_SENSE_DAY
    ]
    grouped = grouped_edition(digest, initialised, rows)
    for story, reports in grouped.items():
        event = story.rstrip("12")
        assert all(report.rstrip("12") == event for report in reports), (event, reports)
    assert {story.rstrip("12") for story in grouped} >= {"blaze", "match", "bridge", "truce"}
