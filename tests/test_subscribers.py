"""The subscriber store and the `digest subscribers` commands, on real SQLite files."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from digest import pipeline
from digest.config import load_settings
from digest.models import Delivery, Edition, Feed
from subscribers import store
from subscribers.errors import InvalidSubscriber
from subscribers.models import Status, Subscriber
from subscribers.store import SubscriberFields
from subscribers.tokens import InvalidToken, make_token, read_token
from subscribers.validation import check_timezone, clean_name, normalise_email
from tests.conftest import Digest

NOW = datetime(2025, 6, 4, 4, 0, tzinfo=UTC)


def listed(digest: Digest, *args: str) -> list[dict]:
    return json.loads(digest.ok("subscribers", "list", "--format", "json", *args).stdout)


def shown(digest: Digest, email: str) -> dict:
    return json.loads(digest.ok("subscribers", "show", email, "--json").stdout)


@pytest.fixture
def db(initialised: Path):
    database = pipeline.open_database(load_settings(initialised / "digest.toml"))
    yield database
    database.dispose()


# --- addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_address", "stored", "smtputf8"),
    [
        ("Alice@Example.COM", "alice@example.com", False),
        ("  bob.smith+news@EXAMPLE.org ", "bob.smith+news@example.org", False),
        # An IDN domain with an ASCII local part is stored IDNA-encoded: no SMTPUTF8 needed.
        ("reader@Exämple.com", "reader@xn--exmple-cua.com", False),
        ("reader@xn--exmple-cua.com", "reader@xn--exmple-cua.com", False),
        # A non-ASCII local part needs SMTPUTF8.
        ("ليلى@example.com", "ليلى@example.com", True),
        ("用户@例子.广告", "用户@例子.广告", True),
    ],
)
def test_addresses_are_normalised(given_address: str, stored: str, smtputf8: bool) -> None:
    address = normalise_email(given_address)
    assert (address.email, address.smtputf8) == (stored, smtputf8)


@pytest.mark.parametrize(
    "bad",
    ["", "plainaddress", "a@b", "Alice <alice@example.com>", '"a b"@example.com', "a@@b.com",
     "x@localhost", "a\nb@example.com", "dots..twice@example.com", "x@-bad-.com"],
)  # fmt: skip
def test_invalid_addresses_are_refused(bad: str) -> None:
    with pytest.raises(InvalidSubscriber) as error:
        normalise_email(bad)
    assert error.value.field == "email"


def test_add_refuses_bad_fields_naming_them(digest: Digest, initialised: Path) -> None:
    result = digest("subscribers", "add", "Alice <alice@example.com>")
    assert result.exit_code == 1
    assert result.stderr.startswith("digest: error: email: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert digest.ok("subscribers", "count").stdout.strip() == "0"


def test_spellings_of_one_address_are_one_subscriber(digest: Digest, initialised: Path) -> None:
    digest.ok("subscribers", "add", "Reader@EXÄMPLE.com", "--name", "Reader")
    again = digest.ok("subscribers", "add", "reader@xn--exmple-cua.com", "--lang", "ar")
    assert again.stdout.startswith("updated reader@xn--exmple-cua.com")
    digest.ok("subscribers", "add", "ليلى@example.com", "--lang", "ar")
    rows = listed(digest)
    assert [(r["email"], r["language"], r["name"], r["smtputf8"]) for r in rows] == [
        ("reader@xn--exmple-cua.com", "ar", "Reader", False),
        ("ليلى@example.com", "ar", "", True),
    ]


# --- fields ----------------------------------------------------------------------------


@given(st.text(max_size=300))
def test_clean_name_never_keeps_control_characters(text: str) -> None:
    try:
        name = clean_name(text)
    except InvalidSubscriber as e:
        assert e.field == "name"
        return
    assert "\r" not in name and "\n" not in name
    assert not NOT_TEXT.search(name)
    assert name == name.strip()


#: Controls, format characters but ZWNJ/ZWJ, private use, surrogates, non-characters.
NOT_TEXT = regex.compile(r"(?![\u200c\u200d])[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Noncharacter_Code_Point}]")


def test_an_emoji_newer_than_the_runtime_stays_in_a_name() -> None:
    """U+1FAE8 (Unicode 15) is unassigned in Python 3.11's tables (the kind of shared
    case 09): a name keeps it, and still loses a bidi override and a NUL."""
    assert clean_name("Sam \U0001fae8 Lee\u202e\x00!") == "Sam \U0001fae8 Lee !"


def test_names_are_plain_single_line_text(digest: Digest, initialised: Path) -> None:
    digest.ok("subscribers", "add", "x@example.com", "--name", "Eve\u202e\r\nBcc: all@x.com\x00")
    assert shown(digest, "x@example.com")["name"] == "Eve Bcc: all@x.com"
    long_name = digest("subscribers", "add", "y@example.com", "--name", "n" * 201)
    assert long_name.exit_code == 1
    assert "name: longer than 200 characters" in long_name.stderr


def test_timezone_is_canonical_iana(digest: Digest, initialised: Path) -> None:
    assert check_timezone("asia/riyadh") == "Asia/Riyadh"
    digest.ok("subscribers", "add", "z@example.com", "--tz", "europe/london")
    assert shown(digest, "z@example.com")["timezone"] == "Europe/London"
    for bad in ("Mars/Olympus", "localtime", "../etc/passwd"):
        result = digest("subscribers", "add", "z@example.com", "--tz", bad)
        assert result.exit_code == 1
        assert "is not an IANA time zone" in result.stderr


def test_sections_must_be_known_once_the_site_has_any(
    digest: Digest, initialised: Path, db
) -> None:
    # Nothing ingested yet: any well-formed name is accepted.
    digest.ok("subscribers", "add", "a@example.com", "--sections", "Sport, World")
    assert shown(digest, "a@example.com")["sections"] == ["Sport", "World"]
    with db.session() as session:
        session.add(Feed(url="https://example.com/world.xml", section="World", language="en"))
        session.add(Feed(url="https://example.com/pol.xml", section="Politics", language="en"))
    digest.ok("subscribers", "add", "b@example.com", "--sections", "politics,WORLD,world")
    assert shown(digest, "b@example.com")["sections"] == ["Politics", "World"]
    unknown = digest("subscribers", "add", "c@example.com", "--sections", "World,Sprot")
    assert unknown.exit_code == 1
    assert "sections: unknown section 'Sprot' (known: Politics, World)" in unknown.stderr
    digest.ok("subscribers", "add", "b@example.com", "--sections", "")
    assert shown(digest, "b@example.com")["sections"] == []


def test_add_updates_only_the_options_given(digest: Digest, initialised: Path) -> None:
    digest.ok("subscribers", "add", "p@example.com", "--name", "P", "--lang", "ar", "--tz", "UTC")
    before = shown(digest, "p@example.com")
    same = digest.ok("subscribers", "add", "P@example.com")
    assert same.stdout.startswith("unchanged p@example.com [ar, active]")
    assert shown(digest, "p@example.com") == before
    digest.ok("subscribers", "add", "p@example.com", "--tz", "Africa/Cairo")
    after = shown(digest, "p@example.com")
    assert (after["name"], after["language"], after["timezone"]) == ("P", "ar", "Africa/Cairo")


# --- statuses --------------------------------------------------------------------------


def test_add_never_silently_resubscribes(digest: Digest, initialised: Path) -> None:
    digest.ok("subscribers", "add", "u@example.com")
    assert digest.ok("subscribers", "unsubscribe", "U@example.com").stdout.startswith(
        "unsubscribed u@example.com"
    )
    refused = digest("subscribers", "add", "u@example.com", "--name", "Back")
    assert refused.exit_code == 1
    assert "u@example.com is unsubscribed" in refused.stderr
    assert "digest subscribers resubscribe" in refused.stderr
    row = shown(digest, "u@example.com")
    assert (row["status"], row["name"]) == ("unsubscribed", "")
    assert row["unsubscribed_at"] is not None
    again = digest.ok("subscribers", "unsubscribe", "u@example.com")
    assert "already unsubscribed" in again.stdout
    back = digest.ok("subscribers", "resubscribe", "u@example.com")
    assert back.stdout.startswith("resubscribed u@example.com (was unsubscribed)")
    assert shown(digest, "u@example.com")["status"] == "active"
    assert "already active" in digest.ok("subscribers", "resubscribe", "u@example.com").stdout


def test_transitions_stamp_times_and_only_move_forward(db) -> None:
    later = NOW + timedelta(days=1)
    with db.session() as session:
        subscriber, _ = store.add(
            session, SubscriberFields("t@example.com"), languages=("en",), now=NOW
        )
        assert (subscriber.status, subscriber.confirmed_at) == (Status.ACTIVE, NOW)
        assert store.mark(session, subscriber, Status.COMPLAINED, later)
        assert subscriber.complained_at == later
        # Sideways or back: not by mark, unsubscribe or add.
        assert not store.mark(session, subscriber, Status.UNSUBSCRIBED, later)
        assert not store.mark(session, subscriber, Status.ACTIVE, later)
        assert store.unsubscribe(session, "t@example.com", later)[1] is False
        assert subscriber.status == Status.COMPLAINED
        subscriber.bounce_count = 3
        _, previous = store.resubscribe(session, "t@example.com", later)
        assert (previous, subscriber.status, subscriber.bounce_count) == ("complained", "active", 0)


def test_permanent_failures_bounce_at_the_threshold(db) -> None:
    with db.session() as session:
        subscriber, _ = store.add(
            session, SubscriberFields("b@example.com"), languages=("en",), now=NOW
        )
        assert not store.record_permanent_failure(session, subscriber.id, threshold=2, now=NOW)
        assert store.record_permanent_failure(session, subscriber.id, threshold=2, now=NOW)
        assert (subscriber.status, subscriber.bounced_at, subscriber.bounce_count) == (
            "bounced",
            NOW,
            2,
        )


def test_remove_deletes_the_row_and_its_deliveries(digest: Digest, initialised: Path, db) -> None:
    digest.ok("subscribers", "add", "gone@example.com")
    digest.ok("subscribers", "add", "stays@example.com")
    with db.session() as session:
        edition = Edition(
            date=date(2025, 6, 4), language="en", window_start=NOW, window_end=NOW, created_at=NOW
        )
        session.add(edition)
        session.flush()
        for subscriber in session.scalars(select(Subscriber)):
            session.add(
                Delivery(
                    edition_id=edition.id,
                    subscriber_id=subscriber.id,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    digest.ok("subscribers", "unsubscribe", "gone@example.com")
    result = digest.ok("subscribers", "remove", "Gone@Example.com")
    assert result.stdout.startswith("removed gone@example.com (was unsubscribed)")
    assert "a later add or import would subscribe the address again" in result.stderr
    assert [r["email"] for r in listed(digest)] == ["stays@example.com"]
    with db.session() as session:
        assert session.scalar(select(func.count(Delivery.id))) == 1
    missing = digest("subscribers", "remove", "gone@example.com")
    assert missing.exit_code == 1
    assert "no subscriber gone@example.com" in missing.stderr


# --- listing ---------------------------------------------------------------------------


def test_list_json_covers_every_status_unless_filtered(digest: Digest, initialised: Path) -> None:
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        digest.ok("subscribers", "add", email, "--lang", "ar")
    digest.ok("subscribers", "unsubscribe", "b@example.com")
    rows = listed(digest)
    assert [(r["email"], r["status"]) for r in rows] == [
        ("a@example.com", "active"),
        ("b@example.com", "unsubscribed"),
        ("c@example.com", "active"),
    ]
    required = {"email", "name", "language", "sections", "timezone", "status", "created_at"}
    assert all(required <= set(r) for r in rows)
    assert [r["email"] for r in listed(digest, "--status", "unsubscribed")] == ["b@example.com"]
    assert listed(digest, "--lang", "en") == []
    assert digest.ok("subscribers", "count", "--status", "active").stdout.strip() == "2"
    table = digest.ok("subscribers", "list").stdout.splitlines()
    assert table[0].split() == ["EMAIL", "STATUS", "LANG", "TIMEZONE", "NAME"]
    assert len(table) == 4
    empty = digest("subscribers", "list", "--status", "nonsense")
    assert empty.exit_code == 2


def test_iter_subscribers_streams_in_batches(db) -> None:
    with db.session() as session:
        for number in range(7):
            store.add(
                session, SubscriberFields(f"s{number}@example.com"), languages=("en",), now=NOW
            )
    with db.session() as session:
        emails = [s.email for s in store.iter_subscribers(session, batch_size=2)]
        records = [r.email for r in store.iter_records(session, batch_size=3)]
    assert emails == records == [f"s{number}@example.com" for number in range(7)]


def test_show_unknown_subscriber_is_one_line(digest: Digest, initialised: Path) -> None:
    result = digest("subscribers", "show", "nobody@example.com")
    assert result.exit_code == 1
    assert result.stderr == "digest: error: no subscriber nobody@example.com\n"


# --- tokens ----------------------------------------------------------------------------


def test_tokens_are_stable_signed_and_hide_the_address() -> None:
    token = make_token("k" * 32, 42, "digest.example.com", "layla@example.com")
    assert token == make_token("k" * 32, 42, "digest.example.com", "layla@example.com")
    payload = base64.urlsafe_b64decode(token.split(".")[0] + "==")
    assert b"layla" not in payload and b"example" not in payload
    claim = read_token("k" * 32, token, "digest.example.com")
    assert claim.subscriber_id == 42
    assert claim.matches("k" * 32, "layla@example.com")
    assert not claim.matches("k" * 32, "someone.else@example.com")
    forged = [
        token[:-1],
        token[:10],
        token.replace(".", ".x", 1),
        token[::-1],
        "",
        "a" * 500,
        make_token("another-key" * 3, 42, "digest.example.com", "layla@example.com"),
    ]
    for bad in forged:
        with pytest.raises(InvalidToken):
            read_token("k" * 32, bad, "digest.example.com")
    with pytest.raises(InvalidToken):
        read_token("k" * 32, token, "digest.other.example")
    # Made without the address: valid, with nothing to compare the address against.
    bare = read_token(
        "k" * 32, make_token("k" * 32, 42, "digest.example.com"), "digest.example.com"
    )
    assert bare.subscriber_id == 42 and bare.matches("k" * 32, "anyone@example.com")


def test_a_reused_id_does_not_match_the_old_token(db) -> None:
    with db.session() as session:
        first, _ = store.add(
            session, SubscriberFields("old@example.com"), languages=("en",), now=NOW
        )
        token = make_token("secret", first.id, "list", first.email)
        store.remove(session, "old@example.com")
        newcomer = Subscriber(
            id=first.id, email="new@example.com", language="en", created_at=NOW, updated_at=NOW
        )
        session.add(newcomer)
        session.flush()
        assert store.find_by_token(session, "secret", token, "list") is None
        own = make_token("secret", newcomer.id, "list", newcomer.email)
        assert store.find_by_token(session, "secret", own, "list") is newcomer


@pytest.mark.usefixtures("initialised")
def test_a_language_the_site_does_not_have_is_refused_by_every_command(digest: Digest) -> None:
    digest.ok("subscribers", "add", "a@example.com", "--lang", "ar")
    refused = digest("subscribers", "add", "b@example.com", "--lang", "fr")
    assert refused.exit_code == 1
    assert "error: language: 'fr' is not one of the site's languages (en, ar)" in refused.stderr
    for command in ("list", "count", "export"):
        answer = digest("subscribers", command, "--lang", "fr")
        assert (answer.exit_code, answer.stderr, answer.stdout) == (1, refused.stderr, ""), command
    assert digest.ok("subscribers", "count", "--lang", "AR").stdout.strip() == "1"
