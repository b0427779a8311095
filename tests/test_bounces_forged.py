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


def forgeries(site: Site) -> list[bytes]:
    """A complaint naming only our List-Id, a bounce of a stranger's address quoting the
    victim's Message-ID, and both with the victim as the reported address but nothing
    more than a reader's own copy shows (List-Id) or a guessable Message-ID."""
    list_only = returned_headers(site, READER, "List-Id")
    victims_id = returned_headers(site, VICTIM, "Message-ID")
    return [
        arf(list_only, VICTIM),
        dsn(list_only, VICTIM),
        dsn(victims_id, "whatever@attacker.example"),
        arf(victims_id, "whatever@attacker.example"),
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
    # The victim's own address and Message-ID, but not sent to its VERP address.
    by_message_id = dsn(site.sent(VICTIM), VICTIM)
    complaint = arf(site.sent(VICTIM), VICTIM)
    inbox = maildir_with(tmp_path / "inbox", by_message_id, complaint)
    digest.ok("bounces", "process", str(inbox))
    assert site.status(VICTIM) == ("active", 0)
    verp = verp_address(BOUNCES, site.delivery_id(READER), key)
    maildir_with(inbox, arf(site.sent(READER), READER, to=verp))
    digest.ok("bounces", "process", str(inbox))
    assert site.status(READER)[0] == "complained"
    assert site.events() == [("complaint", None, "verp", 0, "")]


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
