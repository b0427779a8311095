"""Each reader's edition: sections first, times in the reader's zone, one rendering per
group, frozen with the edition, and `preview --subscriber` showing exactly that one."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import os
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import lxml.html
import pytest
import sqlalchemy as sa

from digest.selection.plan import RelatedItem, Story
from digest.variants import AudienceKeys, audience_of, personal_stories
from tests.conftest import SAMPLE_INIT, Digest
from tests.test_render_support import article

SAMPLE_EN = (
    Path(__file__).resolve().parent.parent / "digest" / "data" / "sample" / "arabpress-en.xml"
)
DAY = "2025-06-04"


@pytest.fixture
def site(digest: Digest, tmp_path: Path, database_env: str) -> Path:
    digest.ok("init", *SAMPLE_INIT)
    digest.ok("ingest", str(SAMPLE_EN))
    # A subscriber added without --tz has no zone (the site's, Asia/Riyadh): these say UTC.
    digest.ok("subscribers", "add", "general@example.com", "--tz", "UTC")
    digest.ok("subscribers", "add", "also-general@example.com", "--tz", "Asia/Riyadh")
    digest.ok(
        "subscribers", "add", "science@example.com", "--sections", "Science,Health",
        "--tz", "America/New_York",
    )  # fmt: skip
    digest.ok("subscribers", "add", "sport@example.com", "--sections", "Sport", "--tz", "UTC")
    digest.ok("subscribers", "add", "sport2@example.com", "--sections", "sport", "--tz", "UTC")
    return tmp_path


@contextmanager
def connected() -> Iterator[sa.Connection]:
    """The test's database (DIGEST_DATABASE_URL, SQLite or PostgreSQL)."""
    engine = sa.create_engine(os.environ["DIGEST_DATABASE_URL"], poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def received(folder: Path) -> dict[str, EmailMessage]:
    box = mailbox.Maildir(folder / "outbox", create=False)
    messages = {}
    for key in box.iterkeys():
        message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        messages[message["To"].addresses[0].addr_spec] = message
    return messages


def html_of(message: EmailMessage) -> lxml.html.HtmlElement:
    part = message.get_body(("html",))
    assert part is not None
    return lxml.html.document_fromstring(part.get_content())


def sections_shown(doc: lxml.html.HtmlElement) -> list[str]:
    """The section of the lead and of every story in "In this edition", in order."""
    kicker = doc.find_class("kicker")[0].text_content().split(" · ")[-1]
    return [kicker] + [e.text_content() for e in doc.find_class("section-name")]


def headlines(doc: lxml.html.HtmlElement) -> list[str]:
    lead = doc.find_class("lead-headline")[0].text_content()
    return [lead] + [h.text_content() for h in doc.find_class("headline")]


def test_sections_and_zone_change_what_a_subscriber_receives(digest: Digest, site: Path) -> None:
    digest.ok("send", "--date", DAY, "--lang", "en")
    messages = received(site)
    assert len(messages) == 5
    general = html_of(messages["general@example.com"])
    science = html_of(messages["science@example.com"])
    sport = html_of(messages["sport@example.com"])
    # Science and Health first, in the reader's zone with its short name.
    shown = sections_shown(science)
    chosen = [name in ("Science", "Health") for name in shown]
    assert chosen[0] and chosen == sorted(chosen, reverse=True)  # theirs first, then filler
    assert sections_shown(general)[0] not in ("Science", "Health")
    times = science.find_class("lead")[0].find_class("meta")[0].text_content()
    assert times.endswith(("EDT", "EST"))
    assert general.find_class("meta")[0].text_content().endswith("UTC")
    riyadh = html_of(messages["also-general@example.com"])
    assert riyadh.find_class("meta")[0].text_content().endswith("GMT+3")
    # One Sport story: the general selection fills the edition up to the minimum (4).
    sport_headlines = headlines(sport)
    assert sections_shown(sport)[0] == "Sport"
    assert len(sport_headlines) == 4
    assert set(sport_headlines[1:]) <= set(headlines(general))
    assert len(set(sport_headlines)) == len(sport_headlines)
    # The same group ("Sport" and "sport") gets the very same rendering.
    assert headlines(html_of(messages["sport2@example.com"])) == sport_headlines
    assert messages["sport@example.com"]["Subject"] == messages["sport2@example.com"]["Subject"]


def test_one_frozen_variant_per_group_not_per_reader(digest: Digest, site: Path) -> None:
    digest.ok("send", "--date", DAY, "--lang", "en")
    with connected() as db:
        keys = sorted(row[0] for row in db.exec_driver_sql("select key from edition_variants"))
    # general@ (UTC, no sections) is a group of its own; Asia/Riyadh is the edition itself.
    assert keys == ["health,science|America/New_York", "sport|UTC", "|UTC"]
    digest.ok("subscribers", "add", "late@example.com", "--sections", "Business")
    digest.ok("send", "--date", DAY, "--lang", "en")  # nothing new to send: already sent
    with connected() as db:
        count = db.exec_driver_sql("select count(*) from edition_variants").scalar()
    assert count == 3  # a sent edition never changes


def test_preview_for_a_subscriber_is_exactly_their_message(digest: Digest, site: Path) -> None:
    before = digest.ok(
        "preview", "--date", DAY, "--lang", "en", "--subscriber", "science@example.com",
        "--out", "before",
    )  # fmt: skip
    assert "plan (not frozen yet)" in before.stdout
    digest.ok("send", "--date", DAY, "--lang", "en")
    after = digest.ok(
        "preview", "--date", DAY, "--lang", "en", "--subscriber", "science@example.com",
        "--out", "after",
    )  # fmt: skip
    assert "frozen edition" in after.stdout
    sport = digest.ok("preview", "--date", DAY, "--lang", "en", "--subscriber", "sport@example.com")
    assert "frozen edition, 4 top stories" in sport.stdout
    sent = received(site)["science@example.com"]
    html = sent.get_body(("html",))
    assert html is not None
    shown = (site / "after" / "edition.html").read_text(encoding="utf-8")
    assert shown == html.get_content()
    assert (site / "before" / "edition.html").read_text(encoding="utf-8") == shown


def test_personal_stories_fill_from_the_general_selection_never_empty() -> None:
    pool = [Story(article(n, id=n, section=s), 1.0) for n, s in enumerate("AABAC", 1)]
    general = [pool[0], pool[2], pool[4]]
    chosen = personal_stories(general, pool, ("a",), top_stories=8, min_stories=4)
    assert [s.article.id for s in chosen] == [1, 2, 4, 3]
    nothing = personal_stories(general, pool, ("weather",), top_stories=8, min_stories=2)
    assert [s.article.id for s in nothing] == [1, 3]
    # A related item already shown as a story is not repeated.
    pool[0].related.append(RelatedItem(pool[1].article, 0.5))
    again = personal_stories(general, pool, ("a",), top_stories=8, min_stories=1)
    assert again[0].related == []


def test_audience_keys_are_normalised_and_unknown_groups_read_the_general_one() -> None:
    assert audience_of(" Sport,weather , sport", "UTC", "Asia/Riyadh").key == "sport,weather|UTC"
    keys = AudienceKeys("Asia/Riyadh", ["sport|UTC"])
    assert keys("Sport", "UTC") == "sport|UTC"
    assert keys("", "Asia/Riyadh") == ""
    assert keys("Business", "UTC") == ""


def test_test_copy_and_dry_run_use_the_readers_variant(digest: Digest, site: Path) -> None:
    digest.ok("send", "--date", DAY, "--lang", "en")
    sent = headlines(html_of(received(site)["science@example.com"]))
    digest.ok("send", "--date", DAY, "--lang", "en", "--to", "science@example.com")
    box = mailbox.Maildir(site / "outbox", create=False)
    copies = [
        email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        for key in box.iterkeys()
    ]
    [copy] = [m for m in copies if str(m["Subject"]).startswith("[TEST] ")]
    assert isinstance(copy, EmailMessage)
    assert headlines(html_of(copy)) == sent


def test_a_held_story_leaves_every_reader_variant(digest: Digest, site: Path) -> None:
    from datetime import UTC, date, datetime

    from digest import editions, pipeline, readers
    from digest.compose import composer
    from digest.config import load_settings

    settings = load_settings(site / "digest.toml")
    db = pipeline.open_database(settings)
    day, now = date.fromisoformat(DAY), datetime.now(UTC)
    try:
        frozen = editions.freeze(
            db, settings, day, "en", now, composer(settings, day, "en"),
            extras=readers.freeze_extras(settings, now),
        )  # fmt: skip
    finally:
        db.dispose()
    assert frozen.created
    with connected() as conn:
        (stories,) = conn.execute(
            sa.text("select stories from edition_variants where key like 'health,science|%'")
        ).one()
        general = {row[0] for row in conn.exec_driver_sql("select article_id from edition_items")}
        science_ids = [top for top, _related in json.loads(stories)]
        # One of the reader's own stories the general edition does not have (from the pool).
        chosen = next((i for i in science_ids if i not in general), science_ids[0])
        guid, title = conn.execute(
            sa.text("select guid, title from articles where id = :id"), {"id": chosen}
        ).one()
    before = digest.ok(
        "preview", "--date", DAY, "--lang", "en", "--subscriber", "science@example.com",
        "--out", "before",
    )  # fmt: skip
    assert "frozen edition" in before.stdout
    shown = lxml.html.document_fromstring((site / "before" / "edition.html").read_bytes())
    assert title in headlines(shown)
    digest.ok("articles", "hold", guid, "--reason", "legal")
    digest.ok("send", "--date", DAY, "--lang", "en")
    messages = received(site)
    assert len(messages) == 5
    science = html_of(messages["science@example.com"])
    assert title not in headlines(science)
    assert sections_shown(science)[0] in ("Science", "Health")
    for message in messages.values():
        assert title not in headlines(html_of(message))
        text = message.get_body(("plain",))
        assert text is not None and title not in text.get_content()
