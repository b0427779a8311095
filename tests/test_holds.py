"""Retractions: a held article leaves every edition not yet fully sent (a new revision),
is never selected again, and who already had it stays on record. Against a real aiosmtpd."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from digest import editions, pipeline
from digest.compose import composer
from digest.config import load_settings
from digest.selection.held_copies import is_copy
from digest.selection.repeated_headlines import HeldHeadlines
from tests.schedule_support import add_article, add_reader, make_site, run_cli, t, title_for
from tests.test_send_support import FaultyHandler, Received, SmtpServer, query

pytestmark = pytest.mark.usefixtures("database_env")

DAY = date(2025, 6, 2)
READERS = [f"reader{n:02d}@example.com" for n in range(12)]


def text_of(message: Received) -> str:
    body = message.parsed().get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def site(tmp_path: Path, server: SmtpServer, concurrency: int = 4) -> tuple[Any, Any]:
    _settings, db = make_site(tmp_path, transport=server.url)
    with (tmp_path / "digest.toml").open("a", encoding="utf-8") as config:
        config.write(f"concurrency = {concurrency}\n")
    for reader in READERS:
        add_reader(db, reader)
    for guid in ("retracted", "kept", "also-kept"):
        add_article(db, guid, t("2025-06-02T08:00"))
    return load_settings(tmp_path / "digest.toml", env={}), db


def freeze(db: Any, settings: Any) -> None:
    now = t("2025-06-02T11:00")
    editions.freeze(db, settings, DAY, "en", now, composer(settings, DAY, "en"))


def test_a_hold_between_freeze_and_send(tmp_path: Path) -> None:
    handler = FaultyHandler()
    with SmtpServer(handler) as server:
        settings, db = site(tmp_path, server)
        freeze(db, settings)
        held = run_cli(tmp_path, "articles", "hold", "retracted", "--reason", "legal")
        assert held.exit_code == 0, held.output
        assert "2025-06-02/en: revision 2 without it; unsent deliveries get it" in held.stdout
        preview = pipeline.preview_message(db, settings, DAY, "en", now=t("2025-06-02T11:05"))
        assert title_for("retracted") not in preview.text
        assert title_for("kept") in preview.text
        report = pipeline.send(db, settings, DAY, "en", clock=lambda: t("2025-06-02T11:10"))
    assert report.result.sent == len(READERS) and report.revision == 2
    for message in handler.received:
        assert title_for("retracted") not in text_of(message)
        assert title_for("kept") in text_of(message)
    shown = run_cli(tmp_path, "editions", "show", "2025-06-02/en")
    assert "revision 2 at " in shown.stdout
    assert f"held retracted ({title_for('retracted')}), reason: legal" in shown.stdout
    assert f"; {len(READERS)} delivered with it" in shown.stdout


def test_a_held_article_is_never_selected_again(tmp_path: Path) -> None:
    _settings, db = make_site(tmp_path)
    add_article(db, "pulled", t("2025-06-02T08:00"))
    add_article(db, "other", t("2025-06-02T08:00"))
    assert run_cli(tmp_path, "articles", "hold", "pulled").exit_code == 0
    plan = json.loads(run_cli(tmp_path, "select", "--date", "2025-06-02", "--json").stdout)
    assert [story["article"]["guid"] for story in plan["stories"]] == ["other"]
    listed = run_cli(tmp_path, "articles", "list", "--since", "2025-06-01", "--json")
    held = {article["guid"]: article["held_at"] for article in json.loads(listed.stdout)}
    assert held["other"] is None and str(held["pulled"]).endswith("Z"), held
    released = run_cli(tmp_path, "articles", "unhold", "pulled")
    assert released.stdout.startswith("released: pulled")
    plan = json.loads(run_cli(tmp_path, "select", "--date", "2025-06-02", "--json").stdout)
    assert sorted(story["article"]["guid"] for story in plan["stories"]) == ["other", "pulled"]
    unknown = run_cli(tmp_path, "articles", "hold", "nope")
    assert unknown.exit_code == 1 and "no article with guid 'nope'" in unknown.stderr


def test_a_held_page_fetched_again_under_a_new_guid_stays_held(tmp_path: Path) -> None:
    # Its feed serves the held page again under a new guid, the address spelt anew; and
    # the page it is a related item of must not list it either.
    _settings, db = make_site(tmp_path)
    add_article(db, "pulled", t("2025-06-02T08:00"), url="https://news.example/pulled")
    add_article(db, "other", t("2025-06-02T08:00"))
    assert run_cli(tmp_path, "articles", "hold", "pulled").exit_code == 0
    add_article(
        db, "pulled-again", t("2025-06-02T09:00"), title=title_for("pulled"),
        url="http://www.news.example/pulled/?utm_source=rss",
    )  # fmt: skip
    plan = json.loads(run_cli(tmp_path, "select", "--date", "2025-06-02", "--json").stdout)
    shown = [
        article["guid"]
        for story in plan["stories"]
        for article in (story["article"], *(item["article"] for item in story["related"]))
    ]
    assert shown == ["other"]
    for guid, other in (("pulled", "pulled-again"), ("pulled-again", "pulled")):
        # still asked about by name, each listing the other as the same report
        asked = run_cli(tmp_path, "articles", "related", guid)
        assert asked.exit_code == 0 and asked.stdout.startswith(title_for("pulled")), asked.output
        assert f"({other})  same report" in asked.stdout, asked.stdout
    assert run_cli(tmp_path, "articles", "unhold", "pulled").exit_code == 0
    plan = json.loads(run_cli(tmp_path, "select", "--date", "2025-06-02", "--json").stdout)
    # released, the page is shown once again, as its first fetch
    assert sorted(story["article"]["guid"] for story in plan["stories"]) == ["other", "pulled"]


HELD_TITLE = "Harwick port contract awarded to minister's brother, papers show"
HELD_TEXT = (
    "Leaked tender papers show the Harwick port dredging contract went to a firm run by "
    "Transport Minister Alma Lindqvist's brother, Oskar Lindqvist, after two lower bids "
    "were set aside. The ministry said the award followed the rules."
)


@pytest.mark.parametrize(
    ("held", "title"),
    [
        ("Kuwait's cabinet resigns after vote", "Kuwait’s Cabinet Resigns After Vote."),
        (
            "Kuwait's cabinet resigns after vote",
            "Kuwait's cabinet resigns after vote | Gulf Courier",
        ),
        ("Gulf Courier: Kuwait's cabinet resigns", "Kuwait's cabinet resigns"),
        ("زلزال بقوة 5.8 يضرب تركيا ويقتل 3", "زِلزال بقوة ٥٫٨ يضرب تركـيا ويقتل ٣"),
        ("زلزال بقوة 5.8 يضرب تركيا ويقتل 3", "عاجل: زلزال بقوة 5.8 يضرب تركيا ويقتل 3"),
        (
            "مقتل 12 في غارة إسرائيلية على مخيم النصيرات",
            "مقتل 12 في الغارة الإسرائيلية على النصيرات",
        ),
        ("Markets wrap", "Markets wrap: Tokyo rallies"),
        (
            "Saudi Aramco raises July crude prices for Asian buyers",
            "Saudi Aramco hikes July crude prices for Asian buyers",
        ),
    ],
)
def test_a_headline_set_anew_repeats_the_held_one(held: str, title: str) -> None:
    assert HeldHeadlines([held]).repeats(title)


@pytest.mark.parametrize(
    ("held", "title"),
    [
        ("Live", "Live: election night as results come in"),
        ("Kuwait's cabinet resigns after vote", "Kuwait's parliament holds vote on budget"),
        ("Kuwait's cabinet resigns after vote", "Cabinet"),
        ("!!!", "!!!"),
    ],
)
def test_another_headline_does_not_repeat_the_held_one(held: str, title: str) -> None:
    assert not HeldHeadlines([held]).repeats(title)


GOLD = (
    "أسعار الذهب اليوم",
    "",
    "سجل سعر غرام الذهب عيار 21 اليوم {a} دينارا للبيع و{b} دينارا للشراء، فيما بلغ سعر "
    "غرام عيار 24 {c} دينارا وعيار 18 {d} دينارا، بحسب نقابة الصاغة.",
)
WRAP = (
    "Markets wrap",
    "<p>Stocks {a} in Tokyo as the yen {b}; the Nikkei closed {c}% {d}.</p>",
    "Carmakers led the {a}, with Toyota {e} {f}%. Bond yields were little changed, and oil "
    "held near ${g} a barrel. Traders now look to Friday's payroll figures.",
)
HELD_STORY = (HELD_TITLE, f"<p>{HELD_TEXT}</p>", "The minister did not answer calls.")


@pytest.mark.parametrize(
    "other",
    [
        HELD_STORY,
        (
            HELD_TITLE + " | The Courier",
            HELD_TEXT + " Read more",
            "The minister did not answer calls.",
        ),
        ("Minister's brother won Harwick port contract", f"<strong>{HELD_TEXT}</strong>", ""),
        ("", "", f"{HELD_TEXT}\n\nThe minister did not answer calls."),
        (HELD_TITLE, HELD_TEXT, "The minister did not answer calls. Share this: Facebook, X."),
    ],
)
def test_the_held_text_word_for_word_is_a_copy(other: tuple[str, str, str]) -> None:
    assert is_copy(HELD_STORY, other)


@pytest.mark.parametrize(
    ("held", "other"),
    [
        # a daily bulletin: the template, the next day's figures
        (
            (GOLD[0], "", GOLD[2].format(a=42.1, b=41.3, c=48.2, d=36.1)),
            (GOLD[0], "", GOLD[2].format(a=42.6, b=41.9, c=48.7, d=36.5)),
        ),
        (
            tuple(
                part.format(a="rose", b="fell", c=1.2, d="higher", e="up", f=3, g=81)
                for part in WRAP
            ),
            tuple(
                part.format(a="fell", b="rose", c=0.8, d="lower", e="down", f=2, g=79)
                for part in WRAP
            ),
        ),
        # the correction of a held article is the editor's fix, not the held text
        (
            (
                "Cairo raises metro fares to 10 pounds from Saturday",
                "",
                "Tickets for the "
                "metro's longest journeys will cost 10 pounds from Saturday, the transport "
                "ministry said, up from 8 pounds, the first rise in two years.",
            ),
            (
                "CORRECTION: Cairo raises metro fares to 12 pounds from Sunday",
                "",
                "Tickets for the "
                "metro's longest journeys will cost 12 pounds from Sunday, the transport "
                "ministry said, up from 8 pounds, the first rise in three years.",
            ),
        ),
        # another outlet's account, and a text that is the held one and much more
        (
            HELD_STORY,
            (
                "Opposition demands inquiry into Harwick port deal",
                "Opposition leaders called for an inquiry after tender papers showed Oskar "
                "Lindqvist's firm won the Harwick dredging contract from Alma Lindqvist's "
                "ministry.",
                "",
            ),
        ),
        (("Markets wrap", "", ""), ("Markets wrap", "", " ".join(HELD_TEXT.split() * 2))),
    ],
)
def test_another_text_is_no_copy(held: tuple[str, str, str], other: tuple[str, str, str]) -> None:
    assert not is_copy(held, other)


def shown_guids(tmp_path: Path) -> list[str]:
    plan = json.loads(run_cli(tmp_path, "select", "--date", "2025-06-02", "--json").stdout)
    return [
        article["guid"]
        for story in plan["stories"]
        for article in (story["article"], *(item["article"] for item in story["related"]))
    ]


def test_a_held_story_posted_again_at_a_new_address_stays_held(tmp_path: Path) -> None:
    # The outlet posts the held text again, word for word, under a new guid and slug: the
    # same story, held as its first posting is. Another outlet's account of the same
    # event, and a new day's column under a held column's fixed name, are not copies.
    _settings, db = make_site(tmp_path)
    add_article(db, "pulled", t("2025-06-02T06:00"), title=HELD_TITLE, summary=HELD_TEXT)
    add_article(
        db,
        "wrap-monday",
        t("2025-06-02T06:30"),
        title="Markets wrap",
        summary="Shares in Lisbon fell as copper prices slid on weak demand from smelters.",
    )
    for guid in ("pulled", "wrap-monday"):
        assert run_cli(tmp_path, "articles", "hold", guid).exit_code == 0
    add_article(
        db,
        "pulled-copy",
        t("2025-06-02T09:00"),
        title=HELD_TITLE,
        summary=HELD_TEXT,
        url="https://news.example/2025/06/02/port-contract-brother",
    )
    add_article(
        db,
        "wrap-tuesday",
        t("2025-06-02T09:30"),
        title="Markets wrap",
        summary="Tokyo stocks rallied as carmakers gained on a weaker yen and export orders.",
    )
    add_article(
        db, "account", t("2025-06-02T10:00"), url="https://other.example/account",
        source="https://other.example/rss",
        title="Opposition demands inquiry into Harwick port deal with Lindqvist's brother",
        summary="Opposition leaders called for an inquiry after tender papers showed Oskar "
        "Lindqvist's firm won the Harwick dredging contract from Alma Lindqvist's ministry.",
    )  # fmt: skip
    add_article(
        db,
        "retitled-copy",  # the headline set anew: curly apostrophe, title case, the outlet
        t("2025-06-02T09:10"),
        title="Harwick Port Contract Awarded To Minister’s Brother, Papers Show | The Courier",
        summary=HELD_TEXT,
        url="https://news.example/2025/06/02/port-contract-brother-2",
    )
    add_article(db, "other", t("2025-06-02T08:00"))
    shown = shown_guids(tmp_path)
    assert not {"pulled-copy", "retitled-copy", "pulled"} & set(shown), shown
    assert {"account", "wrap-tuesday", "other"} <= set(shown), shown
    asked = run_cli(tmp_path, "articles", "related", "account")
    assert asked.exit_code == 0 and HELD_TITLE not in asked.stdout, asked.output
    asked = run_cli(tmp_path, "articles", "related", "pulled")  # its copies, by name
    assert "(pulled-copy)  same report" in asked.stdout, asked.stdout
    assert "(retitled-copy)  same report" in asked.stdout, asked.stdout
    assert run_cli(tmp_path, "articles", "unhold", "pulled").exit_code == 0
    assert "pulled-copy" in shown_guids(tmp_path)  # released with the story it copies


def test_a_hold_pulls_the_copies_an_unsent_edition_shows(tmp_path: Path) -> None:
    # The editor holds the story by the guid they know, its first posting; the edition
    # frozen before the hold shows the outlet's later copies of it: the text posted
    # again under a new slug, and the page fetched again under an edited headline.
    handler = FaultyHandler()
    with SmtpServer(handler) as server:
        settings, db = site(tmp_path, server)
        add_article(
            db,
            "first",
            t("2025-05-27T08:00"),
            title=HELD_TITLE,
            summary=HELD_TEXT,
            url="https://news.example/port-contract",
        )
        add_article(
            db,
            "again",
            t("2025-06-02T07:30"),
            title=HELD_TITLE,
            summary=HELD_TEXT,
            url="https://news.example/2025/06/02/port-contract-brother",
        )
        add_article(
            db,
            "refetched",
            t("2025-06-02T07:45"),
            title="UPDATED: Harwick tender papers point to minister's brother",
            summary="Ministry denies wrongdoing.",
            url="http://www.news.example/port-contract?utm_source=rss",
        )
        freeze(db, settings)
        before = pipeline.preview_message(db, settings, DAY, "en", now=t("2025-06-02T11:01"))
        assert HELD_TITLE in before.text and "UPDATED: Harwick" in before.text
        held = run_cli(tmp_path, "articles", "hold", "first", "--reason", "legal")
        assert held.exit_code == 0, held.output
        assert f"and its copy again: {HELD_TITLE}" in held.stdout, held.stdout
        assert "and its copy refetched: UPDATED: Harwick" in held.stdout, held.stdout
        assert held.stdout.count("and its copy") == 2, held.stdout
        assert "2025-06-02/en: revision 2 without it" in held.stdout
        after = pipeline.preview_message(db, settings, DAY, "en", now=t("2025-06-02T11:05"))
        assert "UPDATED: Harwick" not in after.text and "Oskar" not in after.text
        shown = shown_guids(tmp_path)
        assert "kept" in shown and not {"first", "again", "refetched"} & set(shown), shown
        report = pipeline.send(db, settings, DAY, "en", clock=lambda: t("2025-06-02T11:10"))
    assert report.result.sent == len(READERS)
    for message in handler.received:
        assert "UPDATED: Harwick" not in text_of(message) and "Oskar" not in text_of(message)
    asked = run_cli(tmp_path, "articles", "related", "again")  # a copy held with it
    assert "(first)  same report" in asked.stdout and "(refetched)  same report" in asked.stdout
    # Released on its own (a correction, say), shown though the article it copies is held.
    alone = run_cli(tmp_path, "articles", "unhold", "again")
    assert "shown on its own, though first, which it copies, stays held" in alone.stdout
    assert "again" in shown_guids(tmp_path) and "first" not in shown_guids(tmp_path)
    again = run_cli(tmp_path, "articles", "hold", "first")  # held already: again stays out
    assert "held already" in again.stdout and "its copy again" not in again.stdout
    assert "again" in shown_guids(tmp_path)
    own = run_cli(tmp_path, "articles", "hold", "refetched", "--reason", "its own")
    assert "held already" not in own.stdout, own.output  # now held in its own right
    released = run_cli(tmp_path, "articles", "unhold", "first")
    assert "copies held with it" not in released.stdout, released.output
    assert "copy held with it" not in released.stdout, released.output
    assert "refetched" not in shown_guids(tmp_path)  # held in its own right
    plan = json.loads(run_cli(tmp_path, "select", "--date", "2025-06-02", "--json").stdout)
    assert "again" in shown_guids(tmp_path), plan["stories"]


SHARED_LINK_FEED = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Gulf Wire</title><link>https://gulfwire.example/</link>
<item><guid isPermaLink="false">gw-1</guid><link>https://gulfwire.example/latest</link>
<title>Oman and Iran hold talks on Hormuz shipping lanes</title>
<description>Foreign ministers met in Muscat to discuss tanker traffic.</description>
<pubDate>Mon, 02 Jun 2025 08:00:00 GMT</pubDate></item>
<item><guid isPermaLink="false">gw-2</guid><link>https://gulfwire.example/latest</link>
<title>Bahrain court jails activist over social media posts</title>
<description>The rights campaigner was sentenced to three years.</description>
<pubDate>Mon, 02 Jun 2025 08:10:00 GMT</pubDate></item>
<item><guid isPermaLink="false">gw-3</guid><link>https://gulfwire.example/latest</link>
<title>UAE cuts fuel prices for July</title>
<description>Petrol will cost less at the pump from next month.</description>
<pubDate>Mon, 02 Jun 2025 08:20:00 GMT</pubDate></item>
</channel></rss>
"""


def test_items_sharing_one_link_are_three_stories_and_one_hold_holds_one(
    tmp_path: Path,
) -> None:
    # A feed links every item to its "latest" page: that link names none of them (ingest
    # stores no address), so they are not fetches of one page, grouped into one story, and
    # a hold of one of them holds that one only.
    make_site(tmp_path)
    feed = tmp_path / "wire.xml"
    feed.write_text(SHARED_LINK_FEED, encoding="utf-8")
    mirror = tmp_path / "wire-mirror.xml"  # the outlet's other feed: the same items
    mirror.write_text(
        SHARED_LINK_FEED.replace(
            "https://gulfwire.example/latest", "http://www.gulfwire.example/latest/"
        ),
        encoding="utf-8",
    )
    assert run_cli(tmp_path, "ingest", str(feed), str(mirror)).exit_code == 0
    selected = run_cli(tmp_path, "select", "--date", "2025-06-02", "--json", "--explain")
    plan = json.loads(selected.stdout)
    assert sorted(story["article"]["guid"] for story in plan["stories"]) == ["gw-1", "gw-2", "gw-3"]
    # one outlet, by its link's site, however many feeds carry it
    assert [story["explanation"]["sources"] for story in plan["stories"]] == [1, 1, 1]
    held = run_cli(tmp_path, "articles", "hold", "gw-2", "--source", str(feed))
    assert held.exit_code == 0, held.output
    assert sorted(set(shown_guids(tmp_path))) == ["gw-1", "gw-3"]


def one_item_feed(guid: str, title: str, summary: str, when: str) -> str:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        "<link>https://wire.example/</link>"
        f'<item><guid isPermaLink="false">{guid}</guid><link>https://wire.example/latest</link>'
        f"<title>{title}</title><description>{summary}</description>"
        f"<pubDate>{when}</pubDate></item></channel></rss>"
    )


def fetch(tmp_path: Path, guid: str, title: str, summary: str, hour: int) -> str:
    """Serve `guid` as the feed's one item, linked to its "latest" page; ingest it."""
    feed = tmp_path / "latest.xml"
    when = f"Mon, 02 Jun 2025 {hour:02d}:00:00 GMT"
    feed.write_text(one_item_feed(guid, title, summary, when), encoding="utf-8")
    ingested = run_cli(tmp_path, "ingest", str(feed))
    assert ingested.exit_code == 0, ingested.output
    return str(ingested.stdout)


def test_a_link_the_feeds_stories_share_across_fetches_names_none_of_them(
    tmp_path: Path,
) -> None:
    # One item at a time under the "latest" link: the next story is a new article (it
    # used to rewrite the one stored there), and a story's update under yet another guid
    # updates that story, not a new row (its headline repeats the stored one's).
    make_site(tmp_path)
    fetch(tmp_path, "w-1", "Oman raises its policy rate", "The central bank acted.", 6)
    assert "1 new" in fetch(tmp_path, "w-2", "Bahrain port fire kills 3 workers",
                            "A blaze broke out at the Khalifa Bin Salman port.", 7)  # fmt: skip
    update = "The toll rose overnight at the Khalifa Bin Salman port."
    assert "1 updated" in fetch(tmp_path, "w-3", "Bahrain port fire kills 5 workers", update, 8)
    plan = json.loads(run_cli(tmp_path, "select", "--date", "2025-06-02", "--json").stdout)
    titles = sorted(story["article"]["title"] for story in plan["stories"])
    assert titles == ["Bahrain port fire kills 5 workers", "Oman raises its policy rate"]


def test_a_held_page_under_a_new_guid_and_headline_stays_held_and_unwritten(
    tmp_path: Path,
) -> None:
    # The held story's page served again, its headline rewritten: a new row, left out as
    # the held page, and the held row keeps its text.
    make_site(tmp_path)
    fetch(tmp_path, "q-1", "Earthquake in Malatya kills 12", "Turkish officials said.", 6)
    fetch(tmp_path, "other", "Oman raises its policy rate", "The central bank acted.", 6)
    assert run_cli(tmp_path, "articles", "hold", "q-1").exit_code == 0
    assert "1 new" in fetch(tmp_path, "q-2", "Rescuers dig through rubble in Malatya as "
                            "toll climbs to 40", "Turkish officials said.", 7)  # fmt: skip
    assert shown_guids(tmp_path) == ["other"]
    asked = run_cli(tmp_path, "articles", "related", "q-1")
    assert asked.stdout.startswith("Earthquake in Malatya kills 12"), asked.output
    assert "(q-2)  same report" in asked.stdout, asked.output


def test_a_guid_two_sources_use_is_held_only_when_the_source_is_named(tmp_path: Path) -> None:
    # A guid is unique within one source: "123" from two feeds is two articles, and a
    # hold never pulls one of them by chance.
    _settings, db = make_site(tmp_path)
    add_article(db, "123", t("2025-06-02T08:00"), source="https://one.example/rss")
    add_article(db, "123", t("2025-06-02T09:00"), source="https://two.example/rss",
                url="https://two.example/123", title="Two's own story")  # fmt: skip
    for command in ("hold", "unhold"):
        ambiguous = run_cli(tmp_path, "articles", command, "123")
        assert ambiguous.exit_code == 1, ambiguous.output
        assert "2 articles have guid '123'" in ambiguous.stderr
        assert "Traceback" not in ambiguous.stderr
    held = run_cli(tmp_path, "articles", "hold", "123", "--source", "https://two.example/rss")
    assert held.exit_code == 0 and "Two's own story" in held.stdout, held.output
    plan = json.loads(run_cli(tmp_path, "select", "--date", "2025-06-02", "--json").stdout)
    assert [story["article"]["title"] for story in plan["stories"]] == [title_for("123")]
    released = run_cli(tmp_path, "articles", "unhold", "123", "--source", "https://two.example/rss")
    assert released.stdout.startswith("released: 123: Two's own story"), released.output
    # An empty --source (a shell variable left unset) is refused, not read as none.
    for command in ("hold", "unhold", "related"):
        empty = run_cli(tmp_path, "articles", command, "123", "--source", " ")
        assert empty.exit_code == 2 and "'--source': is empty" in empty.output, empty.output


def test_a_hold_in_the_middle_of_a_send(tmp_path: Path) -> None:
    handler = FaultyHandler(delay=0.05)
    with SmtpServer(handler) as server:
        settings, db = site(tmp_path, server, concurrency=1)
        freeze(db, settings)
        reports: list[Any] = []

        def on_message(received: Received) -> None:
            if len(handler.received) == 3:  # the hold commits before the third reply
                reports.append(pipeline.hold(db, settings, "retracted", "", t("2025-06-02T11:01")))

        handler.on_message = on_message
        report = pipeline.send(db, settings, DAY, "en", clock=lambda: t("2025-06-02T11:00"))
    assert report.result.sent == len(READERS) and report.remaining == 0
    had_it = {m.recipient for m in handler.received if title_for("retracted") in text_of(m)}
    assert 3 <= len(had_it) < len(READERS)
    assert set(reports[0].editions[0].had_it) <= had_it  # listed: those sent by then
    revisions = dict(
        query(
            tmp_path,
            "select s.email, d.revision from deliveries d join subscribers s"
            " on s.id = d.subscriber_id",
        )
    )
    assert {email for email, revision in revisions.items() if revision == 1} == had_it
    assert all(revisions[email] == 2 for email in READERS if email not in had_it)
    assert handler.count() == {reader: 1 for reader in READERS}
    shown = json.loads(run_cli(tmp_path, "editions", "show", "2025-06-02/en", "--json").stdout)
    delivered = {view["revision"]: view["delivered"] for view in shown["revisions"]}
    assert delivered == {1: len(had_it), 2: len(READERS) - len(had_it)}


def test_a_hold_after_the_send_reaches_the_web_archive(tmp_path: Path) -> None:
    # Mail already sent cannot be recalled; the archive page can: it shows the edition
    # without the held article (three breaker passes found it still published).
    from digest import archive

    with SmtpServer(FaultyHandler()) as server:
        settings, db = site(tmp_path, server)
        freeze(db, settings)
        pipeline.send(db, settings, DAY, "en", clock=lambda: t("2025-06-02T11:10"))
    with db.session() as session:
        before = archive.edition_page(session, settings, DAY, "en")
    assert title_for("retracted") in before
    held = run_cli(tmp_path, "articles", "hold", "retracted", "--reason", "legal")
    assert held.exit_code == 0, held.output
    with db.session() as session:
        page = archive.edition_page(session, settings, DAY, "en")
        listed = archive.entries(session, settings, "en")
        feed = archive.feed(session, settings, t("2025-06-02T12:00"))
    assert title_for("retracted") not in page and title_for("kept") in page
    assert [entry.day for entry in listed] == [DAY]
    assert title_for("retracted") not in listed[0].subject + feed
    run_cli(tmp_path, "articles", "unhold", "retracted")
    with db.session() as session:  # as sent again
        assert archive.edition_page(session, settings, DAY, "en") == before


def test_an_edition_withdrawn_by_holds_is_not_in_the_archive(tmp_path: Path) -> None:
    from digest import archive

    with SmtpServer(FaultyHandler()) as server:
        settings, db = site(tmp_path, server)
        freeze(db, settings)
    for guid in ("retracted", "kept", "also-kept"):
        assert run_cli(tmp_path, "articles", "hold", guid).exit_code == 0
    built = run_cli(tmp_path, "archive", "build", "public")
    assert built.exit_code == 0, built.output
    assert "wrote 0 edition pages" in built.stdout
    index = (tmp_path / "public" / "index.html").read_text(encoding="utf-8")
    assert title_for("retracted") not in index
    with db.session() as session, pytest.raises(archive.ArchiveError):
        archive.edition_page(session, settings, DAY, "en")


def test_a_held_story_takes_its_related_items_along_without_a_warning(tmp_path: Path) -> None:
    # The database's ON DELETE CASCADE removed the related item the ORM then deleted
    # again: "expected to delete 2 row(s); 1 were matched" on every such hold.
    import warnings

    from sqlalchemy.exc import SAWarning

    with SmtpServer(FaultyHandler()) as server:
        settings, db = site(tmp_path, server)
        story = "Harbour bridge reopens after repairs in Valdivia"
        add_article(db, "lead", t("2025-06-02T08:30"), title=story, summary=story, priority=9)
        follow = "Engineers inspect Valdivia harbour bridge cables before reopening"
        more = "Traffic queues form as commuters return to the bridge in Valdivia."
        add_article(db, "follow", t("2025-06-01T07:30"), title=follow, summary=more)
        freeze(db, settings)
        with db.session() as session:
            edition = editions.find(session, DAY, "en")
            assert edition is not None
            roles = {item.article.guid: item.role for item in edition.items}
        assert (roles.get("lead"), roles.get("follow")) == ("top", "related")
        with warnings.catch_warnings():
            warnings.simplefilter("error", SAWarning)
            held = run_cli(tmp_path, "articles", "hold", "lead")
        assert held.exit_code == 0, held.output
        with db.session() as session:
            edition = editions.find(session, DAY, "en")
            assert edition is not None
            assert {item.article.guid for item in edition.items} == {
                "retracted", "kept", "also-kept"
            }  # fmt: skip
