"""`digest bounces process` on Maildir and mbox: DSNs, complaints, mailto unsubscribes."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

import pytest
import sqlalchemy as sa

from digest.bounces.verp import verp_address
from tests.bounces_support import (
    BOUNCES,
    Site,
    arf,
    configure,
    dsn,
    keys_in,
    maildir_with,
    send_again,
    sent_site,
    unrelated,
    unsubscribe_request,
)
from tests.conftest import Digest

GONE = "gone@example.com"
FULL = "full@example.com"
READER = "reader@example.com"

pytestmark = pytest.mark.usefixtures("database_env")


def site_of(digest: Digest, folder: Path, **mail: object) -> Site:
    return sent_site(digest, folder, GONE, FULL, READER, **{"bounce_threshold": 1, **mail})


def test_hard_bounce_by_message_id_bounces_the_subscriber_and_moves_the_message(
    digest: Digest, tmp_path: Path
) -> None:
    site = site_of(digest, tmp_path)
    inbox = maildir_with(tmp_path / "inbox", dsn(site.sent(GONE), GONE))
    result = digest.ok("bounces", "process", str(inbox))
    assert "1 hard bounces" in result.stdout
    assert site.status(GONE) == ("bounced", 1)
    assert site.status(READER) == ("active", 0)
    assert keys_in(inbox) == [] and keys_in(inbox, "cur") == []
    processed = keys_in(inbox / ".Processed", "cur")
    assert len(processed) == 1 and processed[0].endswith(":2,S")
    assert site.events() == [("hard", "address", "message-id", 1, "5.1.1")]
    again = digest.ok("bounces", "process", str(inbox))
    assert "read 0" in again.stdout
    assert site.status(GONE) == ("bounced", 1)


def test_only_address_failures_count(digest: Digest, tmp_path: Path) -> None:
    site = site_of(digest, tmp_path)
    refused = dsn(site.sent(READER), READER, status="5.7.1", diagnostic="smtp; 554 5.7.1 spam")
    routing = dsn(site.sent(FULL), FULL, status="5.4.4", diagnostic="smtp; 554 no route")
    inbox = maildir_with(tmp_path / "inbox", refused, routing)
    digest.ok("bounces", "process", str(inbox))
    assert site.status(READER) == ("active", 0)
    assert site.status(FULL) == ("active", 0)
    assert sorted(site.events()) == [
        ("hard", "refused", "message-id", 0, "5.4.4"),
        ("hard", "refused", "message-id", 0, "5.7.1"),
    ]


def test_a_sender_status_or_an_invalid_one_counts_against_nobody(
    digest: Digest, tmp_path: Path
) -> None:
    """5.1.8 is the sender's address (RFC 3463 §3.2): recorded, never counted. A Status
    that is no RFC 3463 code says nothing (RFC 3464 §2.3.4): the report is unrecognised."""
    site = site_of(digest, tmp_path)
    sender = dsn(
        site.sent(GONE),
        GONE,
        status="5.1.8",
        diagnostic="smtp; 553 5.1.8 <digest@bounces.test>: Sender address rejected: "
        "Domain not found",
    )
    invalid = dsn(site.sent(FULL), FULL, status="9.9.9999999999999999", diagnostic="smtp; xxx")
    inbox = maildir_with(tmp_path / "inbox", sender, invalid)
    report = json.loads(digest.ok("bounces", "process", str(inbox), "--json").stdout)
    assert (report["processed"], report["unrecognised"]) == (1, 1)
    assert site.status(GONE) == ("active", 0)
    assert site.status(FULL) == ("active", 0)
    assert site.events() == [("hard", "refused", "message-id", 0, "5.1.8")]
    assert len(keys_in(inbox)) == 1  # the invalid one is left in place


def test_a_second_copy_of_a_bounce_counts_once(digest: Digest, tmp_path: Path) -> None:
    site = site_of(digest, tmp_path, bounce_threshold=3)
    original = site.sent(GONE)
    first = dsn(original, GONE)
    second = dsn(original, GONE, headers_only=True)  # another MTA's copy: other bytes
    inbox = maildir_with(tmp_path / "inbox", first, second)
    digest.ok("bounces", "process", str(inbox))
    assert site.status(GONE) == ("active", 1)
    assert [event[3] for event in site.events()] == [1, 0]


def test_verp_names_the_delivery_and_a_forged_tag_matches_nothing(
    digest: Digest, tmp_path: Path
) -> None:
    site = site_of(digest, tmp_path, verp=True, bounce_address=BOUNCES)
    key = (tmp_path / "secret.key").read_text().strip()
    delivery = site.delivery_id(GONE)
    # A forwarded address failed: the report names neither our address nor our message.
    stripped = b"From: x@example.org\r\nSubject: fwd\r\n\r\nbody\r\n"
    genuine = dsn(stripped, "forwarded@elsewhere.example", to=verp_address(BOUNCES, delivery, key))
    forged_to = verp_address(BOUNCES, site.delivery_id(READER), "not-the-key")
    forged = dsn(stripped, "forwarded@elsewhere.example", to=forged_to)
    inbox = maildir_with(tmp_path / "inbox", genuine, forged)
    result = digest.ok("bounces", "process", str(inbox))
    assert site.status(GONE) == ("bounced", 1)
    assert site.status(READER) == ("active", 0)
    assert site.events() == [("hard", "address", "verp", 1, "5.1.1")]
    assert len(keys_in(inbox)) == 1  # the forged one stays, reported
    assert "not about our mail" in result.stderr


def test_soft_bounces_count_after_n_in_a_row(digest: Digest, tmp_path: Path) -> None:
    site = site_of(digest, tmp_path, bounce_threshold=1, soft_bounce_threshold=2)
    send_again(site, "2025-06-05")
    delayed = [
        dsn(site.sent(FULL, date), FULL, status="4.2.2", action="delayed")
        for date in ("2025-06-04", "2025-06-05")
    ]
    inbox = maildir_with(tmp_path / "inbox", delayed[0])
    digest.ok("bounces", "process", str(inbox))
    assert site.status(FULL) == ("active", 0)
    # The same delivery delayed again is not a second one in a row.
    maildir_with(inbox, dsn(site.sent(FULL), FULL, status="4.4.7", action="delayed"))
    digest.ok("bounces", "process", str(inbox))
    assert site.status(FULL) == ("active", 0)
    maildir_with(inbox, delayed[1])
    digest.ok("bounces", "process", str(inbox))
    assert site.status(FULL) == ("bounced", 1)
    assert [event[0] for event in site.events()] == ["soft", "soft", "soft"]


def test_complaint_marks_complained_and_mail_stops(digest: Digest, tmp_path: Path) -> None:
    site = site_of(digest, tmp_path)
    inbox = maildir_with(tmp_path / "inbox", arf(site.sent(READER), READER))
    result = digest.ok("bounces", "process", str(inbox))
    assert "1 complaints" in result.stdout
    assert site.status(READER)[0] == "complained"
    send_again(site, "2025-06-05")
    assert site.query(
        "select count(*) from deliveries d join subscribers s on s.id = d.subscriber_id"
        " join editions e on e.id = d.edition_id where s.email = :e and e.date = '2025-06-05'",
        e=READER,
    ) == [(0,)]


def test_mailto_unsubscribe_request(digest: Digest, tmp_path: Path) -> None:
    site = site_of(digest, tmp_path)
    inbox = maildir_with(
        tmp_path / "inbox",
        unsubscribe_request(f"Reader <{READER.upper()}>"),
        unsubscribe_request(FULL, auto=True),  # an auto-reply asks nothing
        unsubscribe_request("stranger@example.net"),
    )
    result = digest.ok("bounces", "process", str(inbox))
    assert site.status(READER)[0] == "unsubscribed"
    assert site.status(FULL)[0] == "active"
    assert "1 unsubscribes" in result.stdout
    assert len(keys_in(inbox)) == 2


def test_unrecognised_mail_is_left_in_place_and_reported(digest: Digest, tmp_path: Path) -> None:
    site_of(digest, tmp_path)
    inbox = maildir_with(tmp_path / "inbox", unrelated("Lunch on Friday?"))
    (inbox / "new" / "1733000000.M1P1.odd").mkdir()  # not a message at all
    result = digest.ok("bounces", "process", str(inbox), "--json")
    report = json.loads(result.stdout)
    assert report["unrecognised"] == 2 and report["processed"] == 0
    assert "cannot be read" in report["left_in_place"][-1]["reason"]
    assert "Lunch on Friday?" in report["left_in_place"][0]["reason"]
    assert len(keys_in(inbox)) == 2
    plain = digest.ok("bounces", "process", str(inbox))
    assert "left in place" in plain.stderr and "Lunch on Friday?" in plain.stderr


def test_dry_run_changes_nothing(digest: Digest, tmp_path: Path) -> None:
    site = site_of(digest, tmp_path)
    inbox = maildir_with(
        tmp_path / "inbox", dsn(site.sent(GONE), GONE), arf(site.sent(READER), READER)
    )
    result = digest.ok("bounces", "process", str(inbox), "--dry-run", "--json")
    report = json.loads(result.stdout)
    assert report["dry_run"] and report["bounced"] == 1 and report["complained"] == 1
    assert site.status(GONE) == ("active", 0)
    assert site.status(READER) == ("active", 0)
    assert site.query("select count(*) from bounce_events") == [(0,)]
    assert len(keys_in(inbox)) == 2


def test_mbox_is_read_and_never_processed_twice(digest: Digest, tmp_path: Path) -> None:
    site = site_of(digest, tmp_path, bounce_threshold=3)
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(path)
    box.add(dsn(site.sent(GONE), GONE))
    box.add(unrelated())
    box.close()
    before = path.read_bytes()
    digest.ok("bounces", "process", str(path))
    again = digest.ok("bounces", "process", str(path), "--json")
    assert json.loads(again.stdout)["already_processed"] == 1
    assert site.status(GONE) == ("active", 1)
    assert path.read_bytes() == before


def test_non_standard_bounce_formats(digest: Digest, tmp_path: Path) -> None:
    site = site_of(digest, tmp_path)
    message_id = site.query(
        "select message_id from deliveries d join subscribers s on s.id = d.subscriber_id"
        " where s.email = :e",
        e=GONE,
    )[0][0]
    sample = (Path(__file__).parent / "data" / "bounces" / "qmail_01.txt").read_bytes()
    sample = sample.replace(b"<userx@example.de>", f"<{GONE}>".encode())
    sample = sample.replace(b"Message removed", f"Message-ID: {message_id}".encode())
    inbox = maildir_with(tmp_path / "inbox", sample)
    digest.ok("bounces", "process", str(inbox))
    assert site.status(GONE) == ("bounced", 1)


def test_bad_sources_are_one_line_errors(digest: Digest, tmp_path: Path) -> None:
    digest.ok("init")
    (tmp_path / "plain").mkdir()
    (tmp_path / "notes.txt").write_text("hello\n")
    cases = {
        str(tmp_path / "missing"): "no such Maildir folder or mbox file",
        str(tmp_path / "plain"): "not a Maildir",
        str(tmp_path / "notes.txt"): "not an mbox file",
        "imap://bounces@mail.example.com/INBOX": "imap:// is allowed for a loopback host only",
        "imaps://bounces@mail.example.com/INBOX": "set DIGEST_IMAP_PASSWORD",
        "imaps://bounces:pw@mail.example.com/INBOX": "not the URL",
        "pop3://x@y/": "expected a Maildir folder",
    }
    for source, message in cases.items():
        result = digest("bounces", "process", source)
        assert result.exit_code == 1, (source, result.stdout)
        assert message in result.stderr, (source, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr


def test_soft_bounce_complaint_and_a_headers_only_copy(digest: Digest, tmp_path: Path) -> None:
    site = site_of(digest, tmp_path, soft_bounce_threshold=1)
    inbox = maildir_with(
        tmp_path / "inbox",
        dsn(site.sent(GONE), GONE),
        dsn(site.sent(FULL), FULL, status="4.2.2", action="delayed"),
        arf(site.sent(READER), READER),
    )
    digest.ok("bounces", "process", str(inbox))
    assert site.status(GONE) == ("bounced", 1)
    assert site.status(FULL) == ("bounced", 1)
    assert site.status(READER)[0] == "complained"
    maildir_with(inbox, dsn(site.sent(GONE), GONE, headers_only=True))
    digest.ok("bounces", "process", str(inbox))
    assert site.status(GONE) == ("bounced", 1)
    assert len(site.events()) == 4


def test_a_delivery_refused_during_the_send_is_not_counted_again(
    digest: Digest, tmp_path: Path
) -> None:
    site = site_of(digest, tmp_path, bounce_threshold=3)
    engine = site.engine
    with engine.begin() as connection:
        connection.execute(
            sa.text("update deliveries set status = 'failed' where id = :id"),
            {"id": site.delivery_id(GONE)},
        )
    engine.dispose()
    inbox = maildir_with(tmp_path / "inbox", dsn(site.sent(GONE), GONE))
    digest.ok("bounces", "process", str(inbox))
    assert site.status(GONE) == ("active", 0)
    assert site.events() == [("hard", "address", "message-id", 0, "5.1.1")]


def test_an_unusable_bounce_address_fails_when_the_settings_load(
    digest: Digest, tmp_path: Path
) -> None:
    digest.ok("init")
    configure(tmp_path, bounce_address="bounces+x@example.com", verp=True)
    result = digest("bounces", "process", str(tmp_path))
    assert result.exit_code == 1
    assert "[mail] bounce_address" in result.stderr and "'+'" in result.stderr
