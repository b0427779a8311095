"""Sending through the Maildir transport: once per active subscriber, resumable."""

from __future__ import annotations

import mailbox
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import FIXTURES, Digest


def maildir_count(folder: Path) -> int:
    return len(mailbox.Maildir(folder / "outbox", create=False).keys())


def test_send_once_to_active_subscribers_of_the_language(
    digest: Digest, initialised: Path, database_url: str
) -> None:
    digest.ok("ingest", str(FIXTURES / "hostile.xml"))
    for address, language in [
        ("a@example.com", "en"),
        ("b@example.com", "en"),
        ("c@example.com", "ar"),
        ("gone@example.com", "en"),
    ]:
        digest.ok("subscribers", "add", address, "--lang", language)
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("update subscribers set status='unsubscribed' where email='gone@example.com'")
        )
    result = digest.ok("send", "--date", "2025-06-04", "--lang", "en")
    assert "2 sent, 0 failed" in result.stdout
    assert maildir_count(initialised) == 2
    again = digest.ok("send", "--date", "2025-06-04", "--lang", "en")
    assert "already sent" in again.stdout
    assert maildir_count(initialised) == 2
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "select s.email, d.status from deliveries d"
                " join subscribers s on s.id = d.subscriber_id order by s.email"
            )
        ).all()
    assert rows == [("a@example.com", "sent"), ("b@example.com", "sent")]


def test_preview_matches_what_is_sent(digest: Digest, initialised: Path) -> None:
    digest.ok("ingest", str(FIXTURES / "hostile.xml"))
    digest.ok("subscribers", "add", "a@example.com", "--name", "Ann", "--lang", "en")
    digest.ok("send", "--date", "2025-06-04", "--lang", "en")
    result = digest.ok(
        "preview",
        "--date",
        "2025-06-04",
        "--lang",
        "en",
        "--subscriber",
        "a@example.com",
        "--out",
        "pv",
    )
    assert "frozen edition" in result.stdout
    box = mailbox.Maildir(initialised / "outbox", create=False)
    sent = box.get_bytes(next(iter(box.keys())))
    previewed = (initialised / "pv" / "edition.eml").read_bytes()

    def body_of(raw: bytes) -> str:
        import email
        import email.policy

        message = email.message_from_bytes(raw, policy=email.policy.default)
        return message.get_body(("html",)).get_content()  # type: ignore[union-attr]

    assert body_of(previewed) == body_of(sent)
    assert (initialised / "pv" / "edition.html").read_text(encoding="utf-8") == body_of(sent)
