"""Forged bounces and complaints (anyone can mail us an RFC 3464 DSN or an RFC 5965 ARF
report quoting what every reader's copy shows) are not applied; honest ones still are."""

from __future__ import annotations

import re
from email import message_from_bytes
from pathlib import Path

import pytest
import sqlalchemy as sa

from digest.bounces.verp import verp_address
from tests.bounces_support import BOUNCES, Site, arf, dsn, keys_in, maildir_with, sent_site
from tests.conftest import Digest

VICTIM = "victim@example.com"
READER = "reader@example.com"

pytestmark = pytest.mark.usefixtures("database_env")


def returned_headers(site: Site, email: str, *names: str) -> bytes:
    """Only these headers of the message `email` was sent: what a forger can copy."""
    sent = message_from_bytes(site.sent(email))
    lines = [f"{name}: {sent[name]}" for name in names]
    return ("\r\n".join(lines) + "\r\n\r\nx\r\n").encode()


def guessed_message_id(site: Site, email: str) -> bytes:
    """The victim's Message-ID as a reader can guess it from their own copy: the
    edition's tag and the sequential delivery id, without the HMAC a stranger lacks."""
    own = message_from_bytes(site.sent(READER))["Message-ID"]
    tag, _, domain = own.partition("@")
    prefix = tag.rsplit(".", 2)[0]
    return f"Message-ID: {prefix}.{site.delivery_id(email)}@{domain}\r\n\r\nx\r\n".encode()


def forgeries(site: Site) -> list[bytes]:
    """A complaint and a bounce naming only our List-Id (in a reader's own copy), and a
    bounce and a complaint quoting the victim's Message-ID as a reader can guess it,
    with the victim as the reported address."""
    list_only = returned_headers(site, READER, "List-Id")
    guessed = guessed_message_id(site, VICTIM)
    return [
        arf(list_only, VICTIM),
        dsn(list_only, VICTIM),
        dsn(guessed, VICTIM),
        arf(guessed, VICTIM),
    ]


@pytest.mark.parametrize("verp", [False, True])
def test_forged_reports_are_not_applied(digest: Digest, tmp_path: Path, verp: bool) -> None:
    site = sent_site(
        digest, tmp_path, VICTIM, READER, bounce_threshold=1, verp=verp, bounce_address=BOUNCES
    )
    inbox = maildir_with(tmp_path / "inbox", *forgeries(site))
    result = digest.ok("bounces", "process", str(inbox))
    assert site.status(VICTIM) == ("active", 0)
    assert site.query("select count(*) from bounce_events") == [(0,)]
    assert len(keys_in(inbox)) == 4
    assert result.stderr.count("not about our mail") == 4


def test_with_verp_only_the_signed_address_counts(digest: Digest, tmp_path: Path) -> None:
    site = sent_site(
        digest, tmp_path, VICTIM, READER, bounce_threshold=1, verp=True, bounce_address=BOUNCES
    )
    key = (tmp_path / "secret.key").read_text().strip()
    # The victim's own address, a guessed Message-ID, not sent to its VERP address.
    guessed = guessed_message_id(site, VICTIM)
    inbox = maildir_with(tmp_path / "inbox", dsn(guessed, VICTIM), arf(guessed, VICTIM))
    digest.ok("bounces", "process", str(inbox))
    assert site.status(VICTIM) == ("active", 0)
    verp = verp_address(BOUNCES, site.delivery_id(READER), key)
    maildir_with(inbox, arf(site.sent(READER), READER, to=verp))
    digest.ok("bounces", "process", str(inbox))
    assert site.status(READER)[0] == "complained"
    assert site.events() == [("complaint", None, "verp", 0, "")]


@pytest.mark.parametrize("verp", [False, True])
def test_a_feedback_loop_complaint_with_the_recipient_redacted_applies(
    digest: Digest, tmp_path: Path, verp: bool
) -> None:
    # An ISP's feedback loop redacts the recipient (RFC 6449 section 3.3) and reports
    # to a fixed address, not the VERP one: the signed Message-ID of the copy it returns
    # is the evidence.
    site = sent_site(digest, tmp_path, VICTIM, READER, verp=verp, bounce_address=BOUNCES)
    returned = returned_headers(site, READER, "Message-ID", "List-Id")
    inbox = maildir_with(tmp_path / "inbox", arf(returned, "redacted@isp.example"))
    digest.ok("bounces", "process", str(inbox))
    assert site.status(READER)[0] == "complained"
    assert site.status(VICTIM) == ("active", 0)


def test_message_ids_are_unguessable_and_a_recorded_one_is_kept(
    digest: Digest, tmp_path: Path
) -> None:
    site = sent_site(digest, tmp_path, VICTIM, READER)
    ids = [str(row[0]) for row in site.query("select message_id from deliveries order by id")]
    for delivery_id, message_id in zip(
        sorted(map(site.delivery_id, (VICTIM, READER))), ids, strict=True
    ):
        # The sequential id, then an HMAC of it with the site's secret.
        assert re.fullmatch(
            rf"<2025-06-04\.en\.[0-9a-f]{{12}}\.{delivery_id}\.[0-9a-f]{{16}}@.+>", message_id
        )
    # A delivery recorded before (another form of id) keeps its id when it is sent again.
    engine = site.engine
    with engine.begin() as connection:
        connection.execute(
            sa.text("update deliveries set status = 'uncertain', message_id = :m where id = :id"),
            {"m": "<2025-06-04.en.0123456789ab.1@bounces.test>", "id": site.delivery_id(READER)},
        )
    engine.dispose()
    digest.ok("send", "--date", "2025-06-04", "--lang", "en", "--resend-uncertain")
    assert site.sent(READER)  # found in the outbox by the recorded id
    assert message_from_bytes(site.sent(READER))["Message-ID"] == (
        "<2025-06-04.en.0123456789ab.1@bounces.test>"
    )
