"""`digest articles related` reads whole texts: reports that meet only in their bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from digest.config import Settings
from digest.db import Database
from digest.ingest.records import ArticleRecord
from digest.ingest.store import store_records
from digest.selection.cache import write_terms
from digest.selection.related import related_articles
from tests.conftest import Digest
from tests.test_select import write_feed

FIRE = {
    "guid": "fire",
    "title": "Fire destroys warehouses on the waterfront overnight",
    "summary": "Crews fought the flames until dawn.",
    "body": (
        "Flames spread through a row of storage buildings late on Monday, and crews worked "
        "until dawn to stop the blaze from reaching homes. Nobody was hurt, the fire service "
        "said, but thick smoke forced residents of several streets to keep their windows "
        "shut, and schools opened late on Tuesday while engineers checked what was left "
        "standing.\n\n"
        "The buildings belonged to Greyhaven Logistics, which leases the Quillon Street "
        "depot from the Marrowby port authority. Mayor Tamsin Okafor said what remained of "
        "the depot would be demolished, and Greyhaven said stock worth about 40 million "
        "dollars was lost."
    ),
}
INSURERS = {
    "guid": "insurers",
    "title": "Insurers face large claims after overnight blaze",
    "summary": "Analysts expect payouts in the tens of millions.",
    "body": (
        "Underwriters expect payouts running into tens of millions after the losses, "
        "analysts said, with shares in several listed carriers falling in early trading "
        "as investors weighed their exposure to commercial property and the cost of "
        "business interruption cover, which pays a firm's lost income while it rebuilds "
        "and is often the largest part of such a bill.\n\n"
        "Greyhaven Logistics said its Quillon Street depot held goods for retailers across "
        "the region, worth about 40 million dollars. Mayor Tamsin Okafor asked the "
        "Marrowby port authority to review fire safety at every depot it leases."
    ),
}
#: Other news of the day, each with a body of its own.
OTHERS = [
    (
        "theatre",
        "Fire guts a historic theatre in the old town",
        "The Lyceum's roof and stage were lost when a blaze broke out during rehearsals; "
        "the company said the season is cancelled and the building will be rebuilt.",
    ),
    (
        "budget",
        "Council approves a bigger schools budget",
        "Councillors voted for 12 new teachers and repairs to two primary schools, paid for "
        "by raising parking charges in the centre from next spring.",
    ),
    (
        "cup",
        "Rovers reach the cup final after extra time",
        "A header from the captain in the 110th minute sent Rovers through against United, "
        "who had led for most of the second half in front of a full stadium.",
    ),
    (
        "rates",
        "Central bank holds interest rates for a third month",
        "The bank kept its main rate at four per cent and said inflation was falling more "
        "slowly than hoped, so cuts would wait until the summer.",
    ),
    (
        "telescope",
        "Observatory opens a new telescope to the public",
        "Visitors can book evening sessions to look at the moon and planets through the "
        "largest lens in the country, installed after a decade of fundraising.",
    ),
]


def items(published: str) -> list[dict[str, Any]]:
    made = []
    for number, (guid, title, body) in enumerate(OTHERS):
        made.append(
            {
                "guid": guid,
                "title": title,
                "summary": body.split(";")[0].split(",")[0] + ".",
                "body": body,
                "published_at": f"{published}T{8 + number:02d}:00:00Z",
            }
        )
    return made


def ingest_pair(
    digest: Digest, folder: Path, first: dict[str, str], second: dict[str, str]
) -> None:
    """Two reports of one event, the first in the morning and the second in the
    afternoon, among the day's other news."""
    news = [
        {**first, "published_at": "2025-06-03T07:00:00Z"},
        {**second, "published_at": "2025-06-03T15:00:00Z"},
        *items("2025-06-03"),
    ]
    digest.ok("ingest", str(write_feed(folder, f"{first['guid']}.jsonl", news)))


def related(digest: Digest, guid: str) -> list[str]:
    report = json.loads(digest.ok("articles", "related", guid, "--json").stdout)
    return [item["article"]["guid"] for item in report]


def test_reports_that_meet_only_in_their_bodies_are_related(
    digest: Digest, initialised: Path
) -> None:
    # The insurers' report opens on markets and shares one headline word with the fire's;
    # both name the company, the depot, the port authority, the mayor and the sum further
    # down. A theatre fire shares the kind of event, not the event.
    ingest_pair(digest, initialised, FIRE, INSURERS)
    assert related(digest, "fire") == ["insurers"]
    assert related(digest, "insurers") == ["fire"]
    assert related(digest, "theatre") == []


def store_as(url: str, news: list[dict[str, Any]], language: str) -> None:
    """Store `news` tagged `language` as given (ingest would detect the text's own)."""
    db = Database(url)
    db.upgrade()
    records = [
        ArticleRecord(
            guid=item["guid"],
            title=item["title"],
            published_at=datetime.fromisoformat(item["published_at"]),
            url=f"https://news.example/{item['guid']}",
            summary=item["summary"],
            body=item["body"],
            section="World",
            language=language,
            source="https://news.example/rss",
        )
        for item in news
    ]
    with db.session() as session:
        store_records(session, records, datetime(2025, 6, 10, tzinfo=UTC), write_terms)
    db.dispose()


def test_words_every_body_uses_do_not_relate_different_events(
    digest: Digest, initialised: Path
) -> None:
    # A city paper: every report closes on the city's council, mayor and port, each in
    # its own sentence (so no line repeats: not boilerplate), and no opening names them.
    # Weights learnt from openings alone would take these words for rare ones and relate
    # every report to every other; learnt from whole texts, they are the city's
    # background.
    def close(guid: str) -> str:
        return (
            f"\n\nAsked about the {guid} story, Marrowby's mayor Tamsin Okafor said the "
            "Quillon valley council and the Harbourline port authority would meet in "
            "Marrowby next week."
        )

    news = [{**FIRE, "published_at": "2025-06-03T07:00:00Z"}, *items("2025-06-03")]
    news = [{**item, "body": item["body"] + close(item["guid"])} for item in news]
    digest.ok("ingest", str(write_feed(initialised, "city.jsonl", news)))
    assert all(related(digest, item["guid"]) == [] for item in news)
    # six texts are too few to raise the floor between long ones: the message says so
    said = digest.ok("articles", "related", "fire").stdout
    assert said.splitlines()[-1] == "nothing related (similarity floor 0.2)"


#: One earthquake told by two outlets, another earthquake elsewhere told in the same
#: words of the kind, and another event of the first quake's region.
QUAKE = {
    "guid": "quake",
    "title": "Strong earthquake shakes Velmora, toppling homes in Kestrel Bay",
    "summary": "A magnitude 6.8 earthquake struck before dawn, killing at least 41 people.",
    "body": (
        "A powerful earthquake struck the coast of Velmora before dawn on Sunday, "
        "collapsing buildings and killing at least 41 people, officials said. Rescuers "
        "searched the rubble of collapsed apartment blocks for survivors as aftershocks "
        "rattled the region.\n\n"
        "The magnitude 6.8 quake had its epicentre 12 kilometres off Kestrel Bay, the "
        "Harrow Seismic Institute said. Governor Ilse Brandvold said 1,200 homes were "
        "damaged and that field hospitals would open in Kestrel Bay and Port Saltmere."
    ),
}
QUAKE_AGAIN = {
    "guid": "quake-again",
    "title": "Kestrel Bay digs out as Velmora counts its dead",
    "summary": "Families slept outdoors after Sunday's tremor.",
    "body": (
        "Families in Kestrel Bay slept in parks and car parks on Sunday night, afraid to "
        "go back indoors, as the death toll from the morning's earthquake rose to 47.\n\n"
        "Governor Ilse Brandvold toured Port Saltmere, where field hospitals were set up "
        "beside the harbour, and said about 1,200 homes in Velmora had been damaged. The "
        "Harrow Seismic Institute put the magnitude at 6.8."
    ),
}
OTHER_QUAKE = {
    "guid": "other-quake",
    "title": "Earthquake in Dunmarsh kills dozens as buildings collapse",
    "summary": "A magnitude 6.5 earthquake struck inland, killing at least 30 people.",
    "body": (
        "A powerful earthquake struck the mountains of Dunmarsh on Sunday, collapsing "
        "buildings and killing at least 30 people, officials said. Rescuers searched the "
        "rubble of collapsed apartment blocks for survivors as aftershocks rattled the "
        "region.\n\n"
        "The quake had its epicentre near the town of Orrin Vale, the Tolland Geological "
        "Survey said. Mayor Piet Haverkamp said hundreds of homes were damaged and that "
        "field hospitals would open across the valley."
    ),
}
VELMORA_VOTE = {
    "guid": "velmora-vote",
    "title": "Velmora votes in a close election for governor",
    "summary": "Governor Ilse Brandvold faces a strong challenge in Kestrel Bay.",
    "body": (
        "Voters in Velmora chose a governor on Thursday in the closest race in decades, "
        "with Governor Ilse Brandvold trailing her challenger in Kestrel Bay and Port "
        "Saltmere, the region's two largest towns, according to early counts.\n\n"
        "Turnout was high, the electoral commission said, and results are due on Friday."
    ),
}


def test_the_same_kind_of_event_elsewhere_is_not_related(digest: Digest, initialised: Path) -> None:
    # The other quake shares the words of every quake report, sentence for sentence,
    # and none of this one's names (a weekday is not a name). One cosine over all terms
    # puts it above the second report of this one; the facets do not. The election,
    # which shares the names and no happening, is among the day's news.
    news = [
        {**QUAKE, "published_at": "2025-06-03T07:00:00Z"},
        {**QUAKE_AGAIN, "published_at": "2025-06-03T15:00:00Z"},
        {**OTHER_QUAKE, "published_at": "2025-06-03T11:00:00Z"},
        {**VELMORA_VOTE, "published_at": "2025-06-03T09:00:00Z"},
        *items("2025-06-03"),
    ]
    digest.ok("ingest", str(write_feed(initialised, "quakes.jsonl", news)))
    assert related(digest, "quake") == ["quake-again"]
    assert related(digest, "quake-again") == ["quake"]
    assert related(digest, "other-quake") == []


#: A court report that names its parties at once, and a market report that reaches
#: them only after a paragraph on the day's trading: the market report's opening shares
#: no word with the court report.
COURT = {
    "guid": "court",
    "title": "Court freezes the assets of Quillfeather Holdings",
    "summary": "Judge Amara Voss froze Quillfeather Holdings' accounts at Brannock Bank.",
    "body": (
        "Judge Amara Voss froze the accounts of Quillfeather Holdings at Brannock Bank on "
        "Tuesday, after creditors led by Ostrava Shipping said the group had moved 90 "
        "million dollars offshore. Quillfeather's founder, Lionel Drace, denied it."
    ),
}
MARKETS = {
    "guid": "markets",
    "title": "Regional shares edge higher in thin trading",
    "summary": "Indexes rose slightly as investors waited for the rate-setters' minutes.",
    "body": (
        "Indexes rose slightly in a quiet session as investors waited for minutes of the "
        "last rate-setting meeting, with energy and utilities leading and volumes well "
        "below their monthly average; the currency was little changed and yields slipped "
        "for a third day, while oil and gold traded in narrow ranges.\n\n"
        "Brannock Bank fell 6 per cent after Judge Amara Voss froze the accounts of "
        "Quillfeather Holdings, one of its largest clients; Ostrava Shipping, which led the "
        "creditors, said 90 million dollars had gone offshore. Lionel Drace, "
        "Quillfeather's founder, denied it."
    ),
}


def test_a_report_that_names_the_event_only_past_its_opening_is_found_both_ways(
    digest: Digest, initialised: Path
) -> None:
    ingest_pair(digest, initialised, COURT, MARKETS)
    assert related(digest, "markets") == ["court"]
    assert related(digest, "court") == ["markets"]


def test_a_footer_on_a_few_articles_of_one_site_relates_nothing(
    digest: Digest, initialised: Path
) -> None:
    # Three articles of a small site carry its footer, among a bigger site's news: the
    # footer is rare in the corpus, and still that site's boilerplate.
    footer = (
        "\n\nThe Marrowby Gazette is published by Harbourline Media. Follow our coverage "
        "of Marrowby and the Quillon valley, subscribe to the Gazette newsletter, or send "
        "tips to our newsroom in confidence.\nCopyright 2025 Harbourline Media Limited, "
        "registered in Marrowby, company number 04417. Our journalism is independent "
        "and funded by readers like you."
    )
    small = [
        {**item, "body": item["body"] + footer, "url": f"https://gazette.example/{item['guid']}"}
        for item in items("2025-06-03")[:3]
    ]
    big = [
        {
            **item,
            "guid": f"{item['guid']}-{day}",
            "url": f"https://big.example/{day}/{item['guid']}",
        }
        for day in ("2025-06-01", "2025-06-02")
        for item in items(day)[3:]
    ]
    digest.ok("ingest", str(write_feed(initialised, "gazette.jsonl", small)))
    digest.ok("ingest", str(write_feed(initialised, "big.jsonl", big)))
    assert all(related(digest, item["guid"]) == [] for item in small)


def test_reports_just_before_the_window_are_read_beside_a_busy_week_after_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the 3 archive articles nearest the window are read in full (the others by
    # headline): those are the report an hour before the window, not the week after.
    monkeypatch.setattr("digest.selection.selector.FULL_ARCHIVE", 3)
    claims = {
        **INSURERS,
        "guid": "claims",
        "title": "Underwriters brace for heavy losses",
        "summary": "Greyhaven Logistics lost stock worth 40 million dollars at its Quillon "
        "Street depot, Mayor Tamsin Okafor said.",
    }
    news = [
        {**FIRE, "published_at": "2025-06-03T07:00:00Z"},
        {**claims, "published_at": "2025-06-03T03:00:00Z"},  # before the 04:00 window
    ]
    for day in range(5, 10):
        news += [{**item, "guid": f"{item['guid']}-{day}"} for item in items(f"2025-06-0{day}")]
    store_as(database_url, news, "en")
    settings = Settings()
    db = Database(database_url)
    with db.session() as session:
        report = related_articles(
            session,
            "fire",
            limit=3,
            selection=settings.selection,
            schedule=settings.schedule,
        )
        assert [item.article.guid for item in report.related] == ["claims"]
    db.dispose()


#: Two Arabic reports of one town's fall: the first names the capital, the second only
#: "the capital" (العاصمة), and no other place or figure; and the day's other news.
SUDAN = {
    "guid": "sd-a",
    "title": "قوات الدعم السريع تسيطر على ود مدني بعد معارك عنيفة",
    "summary": "سيطرت قوات الدعم السريع على مدينة ود مدني بعد أيام من القتال مع الجيش.",
    "body": (
        "أعلنت قوات الدعم السريع سيطرتها على مدينة ود مدني بعد معارك عنيفة مع الجيش "
        "استمرت أربعة أيام، وفر آلاف السكان نحو الجنوب. وقال شهود إن المقاتلين انتشروا "
        "في الأسواق والمستشفيات وإن الجيش انسحب من مقر الفرقة الأولى مشاة.\n\n"
        "وكانت المدينة قد استقبلت مئات الآلاف من النازحين الفارين من القتال في الخرطوم "
        "منذ اندلاع الحرب."
    ),
}
SUDAN_AGAIN = {
    "guid": "sd-b",
    "title": "فرار آلاف النازحين من ود مدني بعد دخول الدعم السريع",
    "summary": "نزح آلاف المدنيين من ود مدني بعد انسحاب الجيش ودخول مقاتلي الدعم السريع.",
    "body": (
        "تدفق آلاف النازحين على الطرق المؤدية إلى سنار بعد أن دخل مقاتلو قوات الدعم "
        "السريع مدينة ود مدني وانسحب الجيش من مقر الفرقة الأولى مشاة.\n\n"
        "وقالت منظمات إغاثة إن كثيرا من الفارين كانوا قد نزحوا من العاصمة في وقت سابق "
        "من الحرب، وإن المستشفيات والأسواق في المدينة أغلقت أبوابها."
    ),
}
ARABIC_DAY = [
    (
        "ar-cup",
        "الهلال يتأهل إلى نهائي الكأس بعد الوقت الإضافي",
        "سجل القائد هدف الفوز في الدقيقة 110 أمام جماهير غفيرة ملأت المدرجات.",
    ),
    (
        "ar-rates",
        "البنك المركزي يبقي أسعار الفائدة دون تغيير للشهر الثالث",
        "قال البنك إن التضخم يتراجع أبطأ من المتوقع وإن خفض الفائدة سينتظر الصيف.",
    ),
    (
        "ar-books",
        "معرض الكتاب يفتح أبوابه بمشاركة مئات دور النشر",
        "يستضيف المعرض ندوات وأمسيات شعرية ويخصص جناحا لكتب الأطفال هذا العام.",
    ),
]


def arabic_day(first_hour: int) -> list[dict[str, Any]]:
    """`ARABIC_DAY` as Arabic feed items, an hour apart from `first_hour` on 2025-06-03."""
    return [
        {
            "guid": guid,
            "title": title,
            "summary": body,
            "body": body,
            "language": "ar",
            "published_at": f"2025-06-03T{first_hour + number:02d}:00:00Z",
        }
        for number, (guid, title, body) in enumerate(ARABIC_DAY)
    ]


def ingest_arabic_story(
    digest: Digest,
    initialised: Path,
    name: str,
    first: dict[str, Any],
    second: dict[str, Any],
    other: dict[str, Any],
) -> None:
    """Ingest, as Arabic news of 2025-06-03 beside `arabic_day`, a report (07:00), a
    second report of its event (12:00) and another event of its kind (09:00)."""
    news = [
        {**item, "language": "ar", "published_at": f"2025-06-03T{hour:02d}:00:00Z"}
        for item, hour in ((first, 7), (second, 12), (other, 9))
    ]
    digest.ok("ingest", str(write_feed(initialised, name, news + arabic_day(10))))


def test_an_arabic_report_that_names_no_place_is_judged_on_its_words(
    digest: Digest, initialised: Path
) -> None:
    # The first report's one place (الخرطوم) is not in the second, which names no place
    # and gives no figure: its names say nothing either way, and its words say it is
    # the same event.
    news = [
        {**SUDAN, "published_at": "2025-06-03T07:00:00Z", "language": "ar"},
        {**SUDAN_AGAIN, "published_at": "2025-06-03T15:00:00Z", "language": "ar"},
        *arabic_day(9),
    ]
    digest.ok("ingest", str(write_feed(initialised, "sudan.jsonl", news)))
    assert related(digest, "sd-a") == ["sd-b"]
    assert related(digest, "sd-b") == ["sd-a"]


#: Long reports (about 200 words each, from bench/data/related_pairs_held.jsonl): the
#: Parasite Oscar, Seoul's celebration of it, and another year's best-picture award.
PARASITE = {
    "guid": "parasite",
    "title": "'Parasite' makes history as first non-English film to win best picture",
    "summary": (
        "Bong Joon-ho's South Korean satire won four Academy Awards, including best "
        "picture and best director, in a historic night for international cinema in "
        "Hollywood."
    ),
    "body": (
        "The South Korean film Parasite won the Academy Award for best picture on Sunday,"
        " the first time in the Oscars' 92-year history that a film not in English has "
        "taken the top prize.\n\nDirector Bong Joon-ho's dark satire about a poor family "
        "that infiltrates a wealthy household won four awards in all, including best "
        "director, best original screenplay and best international feature film. It beat "
        "favourites including Sam Mendes's war drama 1917, Quentin Tarantino's Once Upon "
        "a Time in Hollywood and Martin Scorsese's The Irishman.\n\nAccepting the directing"
        " award at the Dolby Theatre in Los Angeles, Bong paid tribute to Scorsese, "
        'quoting his saying that "the most personal is the most creative", as the '
        'audience gave the veteran director a standing ovation. "I will drink until next '
        'morning," he joked.\n\nProducer Kwak Sin-ae accepted the best picture award, '
        'saying she felt that "a very opportune moment in history is happening right '
        'now".\n\nIn the acting categories, Joaquin Phoenix won best actor for Joker and '
        "Ren\u00e9e Zellweger best actress for Judy. Brad Pitt won best supporting actor for "
        "Once Upon a Time in Hollywood, and Laura Dern best supporting actress for "
        "Marriage Story."
    ),
}
SEOUL = {
    "guid": "seoul",
    "title": "South Korea celebrates Bong Joon-ho's Oscar triumph",
    "summary": (
        "Seoul erupted in pride on Monday after Parasite swept the Academy Awards, with "
        "President Moon Jae-in saying the film had given Koreans courage and pride."
    ),
    "body": (
        "South Koreans woke up on Monday to news that Parasite had won four Oscars, "
        "including best picture, prompting an outpouring of national pride and front-page"
        " headlines hailing a historic moment for the country's film industry.\n\nPresident"
        " Moon Jae-in congratulated director Bong Joon-ho and the cast, saying the film "
        "had moved audiences around the world with its portrayal of inequality and had "
        'given Koreans "courage and pride". Television stations replayed the moment the '
        "award was announced throughout the day.\n\nBong's four awards equalled the record "
        "for the most Oscars won by one person in a single night, set by Walt Disney in "
        "1954. The film, which had already won the Palme d'Or at Cannes and a Golden "
        "Globe, has earned more than $160 million at the box office worldwide.\n\nShares in"
        " companies linked to the film, including its production company Barunson E&A, "
        "jumped on the Seoul stock exchange. Local officials said they would consider "
        "preserving locations in the capital where the film was shot as tourist "
        "attractions.\n\nFilm critics in Seoul said the success would encourage investment "
        "in Korean cinema, which celebrated its centenary last year. Bong is expected to "
        "return home later this month."
    ),
}
MOONLIGHT = {
    "guid": "moonlight",
    "title": "'Moonlight' wins best picture after stunning envelope mix-up",
    "summary": (
        "The Oscars ended in confusion when 'La La Land' was wrongly announced as best "
        "picture before producers revealed that Barry Jenkins's coming-of-age drama had "
        "won."
    ),
    "body": (
        "Moonlight won the Academy Award for best picture on Sunday night after one of "
        "the most chaotic moments in Oscars history, in which La La Land was mistakenly "
        "announced as the winner.\n\nPresenters Warren Beatty and Faye Dunaway read out La "
        "La Land after Beatty was handed the wrong envelope, the one for best actress, "
        "which Emma Stone had won minutes earlier for the musical. The film's producers "
        "were already giving their acceptance speeches when stagehands rushed on.\n\n"
        '"There\'s a mistake. Moonlight, you guys won best picture," La La Land producer '
        "Jordan Horowitz told the audience, holding up the correct "
        'card. "This is not a joke."\n\nThe accounting firm PricewaterhouseCoopers, which '
        "oversees the Oscars ballot, apologised and said it was investigating how the "
        "error had happened.\n\nBarry Jenkins's low-budget drama about a young black man "
        "growing up in Miami is the first film with an all-black cast and the first with "
        "an LGBT story to win best picture. Mahershala Ali won best supporting actor for "
        "his role in the film. Casey Affleck was named best actor for Manchester by the "
        "Sea, and Damien Chazelle became the youngest winner of best director for La La "
        "Land."
    ),
}


def test_two_long_reports_of_one_kind_of_event_need_the_higher_floor(
    digest: Digest, initialised: Path
) -> None:
    # Two best-picture stories of different years share the words of every Oscars
    # report (Academy, best picture, award, ceremony, Hollywood) over some 200 words
    # each, enough to pass the short texts' floor (0.24); the long texts' floor keeps
    # them apart, and the second report of the Parasite win, which shares its names
    # too, still passes it (0.32). A week of the city's other news gives the weights
    # enough texts. (Had Moonlight's report named the theatre Parasite's names, 0.25:
    # bench/NOTES.md, "Related items of long and sparse texts".)
    week = [
        {**item, "guid": f"{item['guid']}-{day}"}
        for day in range(1, 6)
        for item in items(f"2025-06-0{day}")
    ]
    news = [
        {**PARASITE, "published_at": "2025-06-03T07:00:00Z"},
        {**SEOUL, "published_at": "2025-06-03T15:00:00Z"},
        {**MOONLIGHT, "published_at": "2025-06-03T11:00:00Z"},
        *week,
    ]
    digest.ok("ingest", str(write_feed(initialised, "oscars.jsonl", news)))
    assert related(digest, "parasite") == ["seoul"]
    assert related(digest, "moonlight") == []
    said = digest.ok("articles", "related", "moonlight").stdout
    assert "nothing related (similarity floor 0.2; 0.25 between long texts)" in said


def test_two_reports_alone_in_a_new_database_are_related(digest: Digest, initialised: Path) -> None:
    # From two texts every word they share weighs as a common one, and the cosine of two
    # reports of one event runs below the long texts' floor: a new site's first
    # articles are judged on the edition's floor.
    news = [
        {**PARASITE, "published_at": "2025-06-03T07:00:00Z"},
        {**SEOUL, "published_at": "2025-06-03T15:00:00Z"},
    ]
    digest.ok("ingest", str(write_feed(initialised, "two.jsonl", news)))
    assert related(digest, "parasite") == ["seoul"]
    assert related(digest, "seoul") == ["parasite"]


def test_two_short_reports_of_one_region_alone_in_a_new_database_are_not_related(
    digest: Digest, initialised: Path
) -> None:
    # An earthquake and an election of one region, a few sentences each, a new site's
    # only articles: they share the region's names and nothing of what happened.
    news = [
        {**QUAKE, "published_at": "2025-06-03T07:00:00Z"},
        {**VELMORA_VOTE, "published_at": "2025-06-03T11:00:00Z"},
    ]
    digest.ok("ingest", str(write_feed(initialised, "region.jsonl", news)))
    assert related(digest, "quake") == []
    assert related(digest, "velmora-vote") == []


#: Two bridges struck by boats in two towns, a few lines each: one writes its bridge as a
#: name (the Harlow Bridge), the other as a common noun (the old road bridge); and a
#: second report of the first, which writes it both ways.
BRIDGE = {
    "guid": "bridge",
    "title": "Harlow Bridge collapses after cargo ship strikes a pillar",
    "summary": (
        "A container ship lost power and hit a pillar of the Harlow Bridge in Penmarrow "
        "early on Tuesday, sending cars and six road workers into the Adley River."
    ),
    "body": "",
}
BRIDGE_AGAIN = {
    "guid": "bridge-again",
    "title": "Divers search the Adley River for six missing workers",
    "summary": (
        "Rescue crews searched the water below the fallen Harlow Bridge in Penmarrow for "
        "six road workers; the bridge, hit by a container ship, carried 30,000 cars a day."
    ),
    "body": "",
}
OTHER_BRIDGE = {
    "guid": "other-bridge",
    "title": "Bridge falls in Tessel after a barge hits a pillar",
    "summary": (
        "A cargo barge struck the old road bridge over the Corran canal in Tessel on "
        "Friday, causing part of the span to fall and sending a bus into the water."
    ),
    "body": "",
}


def test_a_word_one_report_writes_as_a_name_and_the_other_as_a_noun_is_not_a_shared_name(
    digest: Digest, initialised: Path
) -> None:
    # "Bridge" is a name in "the Harlow Bridge" and a common noun in "the old road
    # bridge": the two collapses share the kind of event and no name, so they are not
    # related. The second report of the Harlow Bridge writes it both ways: a name.
    news = [
        {**BRIDGE, "published_at": "2025-06-03T07:00:00Z"},
        {**BRIDGE_AGAIN, "published_at": "2025-06-03T12:00:00Z"},
        {**OTHER_BRIDGE, "published_at": "2025-06-03T09:00:00Z"},
        *items("2025-06-03"),
    ]
    digest.ok("ingest", str(write_feed(initialised, "bridges.jsonl", news)))
    assert related(digest, "bridge") == ["bridge-again"]
    assert related(digest, "other-bridge") == []


#: Fuel prices raised in two countries, told in a few lines each, the country named only
#: in the headline; and a second report of the first rise, from the queues in Amman.
FUEL = {
    "guid": "fuel-jo",
    "title": "الأردن يرفع أسعار الوقود للمرة الثالثة هذا العام",
    "summary": (
        "رفعت الحكومة أسعار البنزين والسولار اعتبارا من منتصف الليل، في ثالث زيادة هذا "
        "العام بسبب ارتفاع أسعار النفط العالمية."
    ),
    "body": "",
}
FUEL_AGAIN = {
    "guid": "fuel-jo-again",
    "title": "طوابير أمام محطات الوقود في عمّان قبل سريان الأسعار الجديدة",
    "summary": (
        "اصطفت السيارات أمام محطات الوقود في الأردن قبل سريان رفع أسعار البنزين "
        "والسولار منتصف الليل، وهي الزيادة الثالثة هذا العام."
    ),
    "body": "",
}
OTHER_FUEL = {
    "guid": "fuel-tn",
    "title": "تونس ترفع أسعار الوقود بنسبة ثمانية في المئة",
    "summary": (
        "أعلنت الحكومة رفع أسعار البنزين والسولار اعتبارا من صباح الجمعة، مشيرة إلى "
        "ارتفاع أسعار النفط العالمية وتراجع موارد الدعم."
    ),
    "body": "",
}


def test_a_headline_names_the_place_of_an_arabic_report(digest: Digest, initialised: Path) -> None:
    # Arabic has no capitals, so a headline's places are names as much as a summary's:
    # the two rises share every word of what happened and no country, and are not
    # related; the queues in Amman name Jordan in their summary.
    ingest_arabic_story(digest, initialised, "fuel.jsonl", FUEL, FUEL_AGAIN, OTHER_FUEL)
    assert related(digest, "fuel-jo") == ["fuel-jo-again"]
    assert related(digest, "fuel-tn") == []


#: Two central banks raise their rates, each named by its adjective alone (the Turkish
#: central bank, the Egyptian one); a second report of the Turkish rise names Turkey.
RATE_TR = {
    "guid": "rate-tr",
    "title": "البنك المركزي التركي يرفع سعر الفائدة الرئيسي في خطوة فاجأت الأسواق",
    "summary": (
        "رفع البنك المركزي التركي سعر الفائدة الرئيسي خمس نقاط مئوية في اجتماعه "
        "الاستثنائي، في محاولة لكبح التضخم ودعم الليرة التركية."
    ),
    "body": "",
}
RATE_TR_AGAIN = {
    "guid": "rate-tr-again",
    "title": "الليرة تتعافى في تركيا بعد قرار رفع الفائدة المفاجئ",
    "summary": (
        "ارتفعت العملة في تركيا بعد أن رفع البنك المركزي سعر الفائدة الرئيسي، وقال "
        "متعاملون إن قرار الاجتماع الاستثنائي فاجأ الأسواق."
    ),
    "body": "",
}
RATE_EG = {
    "guid": "rate-eg",
    "title": "البنك المركزي المصري يرفع سعر الفائدة الرئيسي في اجتماع استثنائي",
    "summary": (
        "رفع البنك المركزي المصري سعر الفائدة الرئيسي ثلاث نقاط مئوية في اجتماع "
        "استثنائي، في محاولة لكبح التضخم ودعم الجنيه المصري."
    ),
    "body": "",
}


def test_an_arabic_report_that_names_a_country_by_its_adjective_names_the_country(
    digest: Digest, initialised: Path
) -> None:
    # Arabic names a country by its nisba adjective as often as by its name (المركزي
    # التركي, the Turkish central bank): the two rises share every word of what
    # happened and no country, and are not related; التركي and تركيا are one place.
    ingest_arabic_story(digest, initialised, "rates.jsonl", RATE_TR, RATE_TR_AGAIN, RATE_EG)
    assert related(digest, "rate-tr") == ["rate-tr-again"]
    assert related(digest, "rate-eg") == []


#: A season of events opened by a man named Turki, and a second report of its opening
#: night from the roads; a festival opens in Turkey the same day.
SEASON = {
    "guid": "season",
    "title": "تركي آل الشيخ يعلن انطلاق موسم الرياض بحفل ضخم في منطقة البوليفارد",
    "summary": (
        "أعلن رئيس هيئة الترفيه تركي آل الشيخ انطلاق موسم الرياض بحفل افتتاح في منطقة "
        "البوليفارد حضره عشرات الآلاف، على أن تستمر فعالياته خمسة أشهر."
    ),
    "body": "",
}
SEASON_AGAIN = {
    "guid": "season-again",
    "title": "زحام خانق على طرق العاصمة مع افتتاح موسم الرياض",
    "summary": (
        "امتدت طوابير السيارات كيلومترات على الطرق المؤدية إلى البوليفارد مساء أمس، "
        "وقالت إدارة المرور إن الحركة عادت إلى طبيعتها بعد منتصف الليل."
    ),
    "body": "",
}
FESTIVAL = {
    "guid": "festival",
    "title": "انطلاق مهرجان أنطاليا السينمائي بحفل افتتاح في تركيا",
    "summary": (
        "انطلق مهرجان أنطاليا السينمائي في تركيا بحفل افتتاح حضره نجوم السينما التركية، "
        "وتستمر عروضه أسبوعا."
    ),
    "body": "",
}


def test_a_man_named_turki_does_not_name_turkey(digest: Digest, initialised: Path) -> None:
    # تركي is the masculine adjective of Turkey and a first name: bare, it is not read as
    # the country, or the season's report would name Turkey, and Turkey's opening
    # festival would take the place of the season's second report.
    ingest_arabic_story(digest, initialised, "season.jsonl", SEASON, SEASON_AGAIN, FESTIVAL)
    assert related(digest, "season") == ["season-again"]


#: A government named by its capital, then by its country; and another country's
#: decision of the same kind, named by its capital, the same day.
OIL_CUT = {
    "guid": "oil-cut",
    "title": "الرياض تمدد خفضها الطوعي لإنتاج النفط حتى نهاية العام",
    "summary": (
        "قالت الرياض إنها ستمدد خفضها الطوعي لإنتاج الخام بمقدار مليون برميل يوميا حتى "
        "نهاية العام، في خطوة تهدف إلى دعم استقرار أسواق النفط."
    ),
    "body": "",
}
OIL_CUT_AGAIN = {
    "guid": "oil-cut-again",
    "title": "السعودية تعلن تمديد خفض إنتاج الخام مليون برميل يوميا",
    "summary": (
        "أعلنت المملكة تمديد الخفض الطوعي لإنتاجها بمقدار مليون برميل يوميا، وقالت "
        "وزارة الطاقة إن الخفض قد يُعمّق بحسب ظروف السوق."
    ),
    "body": "",
}
OTHER_OIL_CUT = {
    "guid": "oil-cut-iq",
    "title": "بغداد تخفض صادراتها من الخام التزاما بحصص الإنتاج",
    "summary": (
        "قالت بغداد إنها ستخفض صادراتها من الخام بمقدار مئتي ألف برميل يوميا حتى نهاية "
        "العام، التزاما بحصص الإنتاج المتفق عليها."
    ),
    "body": "",
}


def test_an_arabic_report_that_names_a_capital_names_its_country(
    digest: Digest, initialised: Path
) -> None:
    # Arabic news names a government by its capital: Riyadh's cut and Saudi Arabia's
    # announcement of it are one event; Baghdad's cut is Iraq's, another.
    ingest_arabic_story(digest, initialised, "oil.jsonl", OIL_CUT, OIL_CUT_AGAIN, OTHER_OIL_CUT)
    assert related(digest, "oil-cut") == ["oil-cut-again"]
    assert related(digest, "oil-cut-again") == ["oil-cut"]


#: The fire's report six days on, when the inquiry named its cause: the same event,
#: told later.
FIRE_CAUSE = {
    "guid": "fire-cause",
    "title": "Faulty wiring started the waterfront warehouse fire, inquiry finds",
    "summary": "The fire service traced Monday's blaze to a cable in a storage loft.",
    "body": (
        "Investigators traced the fire that destroyed the Greyhaven Logistics warehouses "
        "on the waterfront to an overloaded cable in a storage loft, the fire service said "
        "on Monday, and ruled out arson.\n\n"
        "The Marrowby port authority, which leases the Quillon Street depot to Greyhaven, "
        "said it would inspect the wiring of every depot it leases. Mayor Tamsin Okafor "
        "said demolition of what remained would start next week; Greyhaven has put its "
        "loss at about 40 million dollars."
    ),
}


def test_a_report_of_the_event_days_later_is_found(digest: Digest, initialised: Path) -> None:
    # Reports of one event are not all of one day: a weekly, an inquiry's finding, a
    # late toll come days after. Their time is not read against them (bench/NOTES.md,
    # "An eighth file": weighing similarity down with time lost such reports).
    news = [
        {**FIRE, "published_at": "2025-06-03T07:00:00Z"},
        *items("2025-06-03"),
        {**FIRE_CAUSE, "published_at": "2025-06-09T09:00:00Z"},
        *({**item, "guid": f"{item['guid']}-9"} for item in items("2025-06-09")),
    ]
    digest.ok("ingest", str(write_feed(initialised, "week.jsonl", news)))
    assert related(digest, "fire") == ["fire-cause"]
    assert related(digest, "fire-cause") == ["fire"]


def test_a_report_just_after_the_window_is_read_with_no_archive(
    digest: Digest, initialised: Path
) -> None:
    # With no_repeat_days = 0 an edition has no archive; the fire reported at the end of
    # one window has its second report in the next, and is asked about as ever.
    config = initialised / "digest.toml"
    text = config.read_text(encoding="utf-8")
    assert "no_repeat_days = 7" in text
    config.write_text(text.replace("no_repeat_days = 7", "no_repeat_days = 0"), encoding="utf-8")
    news = [
        {**FIRE, "published_at": "2025-06-04T03:00:00Z"},
        {**INSURERS, "published_at": "2025-06-04T06:00:00Z"},
        *items("2025-06-04"),
    ]
    digest.ok("ingest", str(write_feed(initialised, "edge.jsonl", news)))
    assert related(digest, "fire") == ["insurers"]
    assert related(digest, "insurers") == ["fire"]


RELATED_DATA = Path(__file__).parent / "data" / "related"


def test_a_report_of_a_sparse_archive_is_weighed_with_its_language_s_other_news(
    digest: Digest, initialised: Path
) -> None:
    # A breaker pass's pair: the Beirut blast and the next day's toll, alone in their
    # week of an archive whose other news is months away. Weights learnt from the two
    # texts alone make every word they share a common one (similarity under 0.2); the
    # language's other stored articles tell Beirut from "said".
    months = [
        {**item, "guid": f"{item['guid']}-{month}-{day}"}
        for month in ("03", "04")
        for day in range(1, 4)
        for item in items(f"2020-{month}-0{day}")
    ]
    digest.ok("ingest", str(write_feed(initialised, "months.jsonl", months)))
    digest.ok("ingest", str(RELATED_DATA / "sparse_pair.jsonl"))
    assert related(digest, "beirut-blast") == ["beirut-toll"]
    assert related(digest, "beirut-toll") == ["beirut-blast"]


def test_a_report_that_goes_on_into_background_finds_its_second_report(
    digest: Digest, initialised: Path
) -> None:
    # A breaker pass's report of the Beirut blast, its first 200 words or so the event
    # and then a thousand more of background (emigration, the economy, the country's
    # past); the second report is a headline and two sentences. Read with every term in
    # full, the background's words outweigh the event's (similarity under 0.2); weighed
    # by where they first appear, the event's words count.
    week = [
        {**item, "guid": f"{item['guid']}-{day}"}
        for day in range(1, 4)
        for item in items(f"2025-06-0{day}")
    ]
    digest.ok("ingest", str(write_feed(initialised, "week.jsonl", week)))
    digest.ok("ingest", str(RELATED_DATA / "long_report.jsonl"))
    assert related(digest, "beirut-long") == ["beirut-short"]
    assert related(digest, "beirut-short") == ["beirut-long"]


def test_a_second_report_under_the_long_texts_floor_that_stands_alone_is_listed(
    digest: Digest, initialised: Path
) -> None:
    # A breaker pass's pair: the Suez Canal blocked, and the trade it holds up the next
    # day (markets, oil, freight), some 200 words each. They score 0.24, under the long
    # texts' floor (0.25), and nothing else near the first scores a third of that. Near
    # the second, one of the day's other reports scores 0.085 (over 0.3 of 0.241): there
    # the pair does not stand alone, and the long texts' floor holds.
    months = [
        {**item, "guid": f"{item['guid']}-{month}-{day}"}
        for month in ("02", "04")
        for day in range(1, 4)
        for item in items(f"2021-{month}-0{day}")
    ]
    digest.ok("ingest", str(write_feed(initialised, "months.jsonl", months)))
    digest.ok("ingest", str(RELATED_DATA / "alone_pair.jsonl"))
    report = json.loads(digest.ok("articles", "related", "suez-blocked", "--json").stdout)
    assert [item["article"]["guid"] for item in report] == ["suez-trade"]
    assert 0.2 <= report[0]["similarity"] < 0.25
    assert related(digest, "suez-trade") == []


#: An earthquake in Peru, written البيرو (CLDR: بيرو), a second report of its toll, and
#: an earthquake in Iran the same morning (a breaker pass).
PERU = {
    "guid": "peru",
    "title": "زلزال بقوة 7.1 درجات يضرب جنوب البيرو",
    "summary": "ضرب زلزال بقوة 7.1 درجات جنوب البيرو صباح الأربعاء وألحق أضرارا بمنازل في "
    "أريكيبا وكامانا.",
    "body": "قالت هيئة المسح الجيولوجي الأمريكية إن زلزالا بقوة 7.1 درجات ضرب جنوب البيرو صباح "
    "الأربعاء، وهز مدينة أريكيبا وبلدة كامانا الساحلية. وقال الدفاع المدني في البيرو إن 14 "
    "شخصا على الأقل لقوا حتفهم.",
}
PERU_TOLL = {
    "guid": "peru-toll",
    "title": "ارتفاع حصيلة قتلى زلزال البيرو إلى 17",
    "summary": "ارتفعت حصيلة ضحايا الزلزال الذي ضرب منطقة أريكيبا جنوب البيرو إلى 17 قتيلا.",
    "body": "أعلن مسؤولون في أريكيبا ارتفاع حصيلة قتلى الزلزال الذي بلغت قوته 7.1 درجات وضرب "
    "جنوب البيرو إلى 17 قتيلا. وكانت أشد الأضرار في كامانا حيث انهارت منازل من الطين.",
}
IRAN_QUAKE = {
    "guid": "iran-quake",
    "title": "زلزال بقوة 5.6 درجات يهز جنوب إيران",
    "summary": "هز زلزال بقوة 5.6 درجات محافظة هرمزغان جنوب إيران دون أنباء عن ضحايا.",
    "body": "هز زلزال بقوة 5.6 درجات محافظة هرمزغان جنوب إيران صباح الأربعاء، وقال الهلال "
    "الأحمر الإيراني إن فرقه تتفقد القرى المتضررة قرب بندر عباس.",
}


def test_a_country_written_with_the_article_is_its_place(digest: Digest, initialised: Path) -> None:
    ingest_arabic_story(digest, initialised, "quakes.jsonl", PERU, PERU_TOLL, IRAN_QUAKE)
    assert related(digest, "peru") == ["peru-toll"]
    assert related(digest, "iran-quake") == []
