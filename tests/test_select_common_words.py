"""Thin days where one common word is all that links a report to another event.

In a window of a few articles, a word that a big event's reports say ("kills",
"northern", شمال) is in a "dominant" share of the window, and a keyword of that event:
neither makes another event's report one of its. Each day below is a breaker pass's,
and each lost an event from its edition.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import Digest
from tests.test_select_coverage import grouped_edition

PORTO_FIRE: list[dict[str, Any]] = [
    {
        "outlet": "wire",
        "guid": "porto1",
        "title": "Fire at Porto hotel kills nine in northern Portugal",
        "summary": "A fire swept through a hotel in Porto, northern Portugal, early on "
        "Wednesday, killing nine guests, the fire service said.",
        "at": "08:00",
    },
    {
        "outlet": "globe",
        "guid": "porto2",
        "title": "Porto hotel blaze: nine dead as guests trapped on upper floors",
        "summary": "Nine people died when fire engulfed a hotel in Porto; guests were "
        "trapped on the upper floors, Portuguese officials said.",
        "at": "09:00",
    },
    {
        "outlet": "daily",
        "guid": "porto3",
        "title": "Nine killed in Porto hotel fire",
        "summary": "Portuguese firefighters said nine people were killed when a fire broke "
        "out at a hotel in Porto overnight.",
        "at": "10:00",
    },
]

BITCOIN: dict[str, Any] = {
    "outlet": "wire",
    "guid": "bitcoin",
    "title": "Bitcoin plunges 18% in hours as exchange halts withdrawals",
    "summary": "Bitcoin fell 18% to $61,000 after the Cayman-based exchange Krypto halted "
    "customer withdrawals.",
    "section": "Business",
    "at": "12:00",
}

GAZA_AID: dict[str, Any] = {
    "outlet": "daily",
    "guid": "gaza",
    "title": "Aid convoys reach northern Gaza, UN says",
    "summary": "The United Nations said 60 trucks of food and medicine had reached northern "
    "Gaza for the first time in weeks.",
    "at": "11:00",
}


def test_a_lone_report_sharing_only_the_big_events_own_word_is_its_own_story(
    digest: Digest, initialised: Path
) -> None:
    """Half of a six-article day is one hotel fire from three outlets, whose headlines
    say "kills" and "killed"; a blast in Karachi that "kills five", which one outlet
    alone reports, is no stray of the fire: the word is in no article outside the two."""
    blast = {
        "outlet": "globe",
        "guid": "blast",
        "title": "Explosion kills five",
        "summary": "A suicide bomber killed five people at a police checkpoint in Karachi, "
        "Pakistan, officials said.",
        "at": "15:00",
    }
    grouped = grouped_edition(digest, initialised, [*PORTO_FIRE, blast, GAZA_AID, BITCOIN])
    assert set(grouped) == {"porto3", "gaza", "blast", "bitcoin"}
    assert sorted(grouped["porto3"]) == ["porto1", "porto2"]


def test_a_lone_story_takes_no_report_of_another_event_for_a_common_word(
    digest: Digest, initialised: Path
) -> None:
    """The wire's hotel fire "in northern Portugal" is no report of aid reaching
    "northern Gaza": the Gaza story has one source, and the fire counts for the fire."""
    grouped = grouped_edition(
        digest, initialised, [*PORTO_FIRE, GAZA_AID | {"priority": 2}, BITCOIN]
    )
    assert list(grouped) == ["gaza", "porto3", "bitcoin"]
    assert grouped["gaza"] == []
    assert sorted(grouped["porto3"]) == ["porto1", "porto2"]


def test_an_arabic_keyword_of_one_sense_joins_no_other_event(
    digest: Digest, initialised: Path
) -> None:
    """Both headlines of an earthquake in northern Chile say شمال ("north"); a report of
    UN aid reaching northern Gaza names it too, and is its own story."""
    rows = [
        {
            "outlet": "khabar",
            "guid": "chile1",
            "title": "زلزال بقوة 7.1 درجات يضرب شمال تشيلي ويقتل 12 شخصا على الأقل",
            "summary": "ضرب زلزال قوي بلغت قوته 7.1 درجات منطقة أنتوفاغاستا في شمال تشيلي يوم "
            "الأربعاء، ما أسفر عن مقتل 12 شخصا على الأقل.",
            "at": "10:10",
        },
        {
            "outlet": "sabah",
            "guid": "chile2",
            "title": "مقتل 15 شخصا في زلزال عنيف بشمال تشيلي",
            "summary": "ارتفعت حصيلة ضحايا الزلزال الذي ضرب منطقة أنتوفاغاستا في تشيلي إلى 15 "
            "قتيلا وأكثر من 200 جريح.",
            "at": "12:00",
        },
        {
            "outlet": "sabah",
            "guid": "gaza",
            "title": "الأمم المتحدة: قوافل المساعدات تصل إلى شمال غزة",
            "summary": "قالت الأمم المتحدة إن 60 شاحنة محملة بالغذاء والدواء وصلت إلى شمال "
            "قطاع غزة.",
            "at": "07:00",
        },
    ]
    rows = [row | {"language": "ar"} for row in rows]
    grouped = grouped_edition(digest, initialised, rows, language="ar")
    assert set(grouped) == {"chile2", "gaza"}
    assert grouped["gaza"] == []
    assert grouped["chile2"] == ["chile1"]


def test_a_lone_report_set_aside_is_no_report_of_an_event_for_a_common_word(
    digest: Digest, initialised: Path
) -> None:
    """Where most of the window is reported by two sources or more, a lone report is
    set aside; one that names "northern", which both reports of an earthquake in
    northern Chile say, is set aside on its own, not counted as the quake's report."""
    rows = [
        ("wire", "chile1", "Magnitude 7.1 quake strikes northern Chile, killing 12", "08:00"),
        ("globe", "chile2", "Death toll from northern Chile earthquake rises to 15", "10:00"),
        ("wire", "ecb1", "ECB cuts interest rates for sixth time", "09:00"),
        ("daily", "ecb2", "ECB lowers interest rates again as inflation eases", "11:00"),
        ("globe", "derby1", "Arsenal beat Tottenham in north London derby", "13:00"),
        ("daily", "derby2", "Saka scores twice as Arsenal win derby against Spurs", "14:00"),
        ("daily", "gaza", "Aid convoys reach northern Gaza, UN says", "15:00"),
    ]
    grouped = grouped_edition(
        digest,
        initialised,
        [{"outlet": o, "guid": g, "title": t, "at": at} for o, g, t, at in rows],
    )
    assert "gaza" not in {report for reports in grouped.values() for report in reports}
    assert sorted(grouped) == ["chile2", "derby2", "ecb2"]


def test_a_lone_report_naming_another_place_is_no_stray_of_the_days_big_event(
    digest: Digest, initialised: Path
) -> None:
    """ "Kills" is in a tenth of an eleven-article day and in reports beyond a bus crash
    in Peru; a heatwave in Spain and a blast in Karachi that "kill" are no strays of the
    crash: their headlines name other places than all of its reports' (a breaker's day)."""
    said = "on Tuesday, police said."
    rows = [
        (
            "wire",
            "peru1",
            "Bus crash kills 12 in northern Peru",
            "A bus plunged into a ravine in "
            f"the Andes region of Cajamarca, killing 12 passengers, {said}",
            "08:00",
        ),
        (
            "daily",
            "peru2",
            "Twelve dead as bus plunges into ravine in Peru's Cajamarca",
            "Twelve passengers died when a bus left the road in Cajamarca, regional police said "
            "on Tuesday.",
            "09:00",
        ),
        (
            "herald",
            "peru3",
            "Peru bus crash death toll rises to 12",
            "The number of dead in Tuesday's bus crash in northern Peru rose to 12, police said.",
            "10:00",
        ),
        (
            "wire",
            "karachi",
            "Explosion kills five at Karachi market",
            f"A gas cylinder exploded at a crowded market in Karachi, killing five people, {said}",
            "10:00",
        ),
        (
            "daily",
            "heat",
            "Heatwave kills three in southern Spain",
            "Three elderly people died "
            "as temperatures reached 44C in Andalusia on Tuesday, the health ministry said.",
            "11:00",
        ),
        (
            "post",
            "storm",
            "Storm kills two in northern Italy",
            f"Heavy storms killed two people in northern Italy {said}",
            "17:00",
        ),
        (
            "daily",
            "louvre1",
            "Louvre theft: suspect detained in Paris",
            "A suspect in the theft "
            "of jewels from the Louvre was detained in Paris on Tuesday, prosecutors said.",
            "13:00",
        ),
        (
            "wire",
            "louvre2",
            "Police arrest suspect in Louvre jewel theft",
            "French police "
            "arrested a man suspected of stealing jewels from the Louvre museum in Paris.",
            "12:00",
        ),
        (
            "herald",
            "bank",
            "Central bank raises interest rates to curb inflation",
            "The central "
            "bank raised its key interest rate by a quarter point on Tuesday, the ministry said.",
            "15:00",
        ),
        (
            "herald",
            "sudan1",
            "Security Council extends UN mission in Sudan",
            "The council voted 13-0 to extend the UN mission in Sudan, with two abstentions.",
            "16:00",
        ),
        (
            "wire",
            "sudan2",
            "UN Security Council votes to extend Sudan mission",
            "The UN Security "
            "Council voted on Tuesday to extend its mission in Sudan for another year.",
            "14:00",
        ),
    ]
    grouped = grouped_edition(
        digest,
        initialised,
        [
            {"outlet": o, "guid": g, "title": t, "summary": summary, "at": at}
            for o, g, t, summary, at in rows
        ],
    )
    assert {"karachi", "heat"} <= set(grouped)
