"""Helpers for the bounce tests: a site that has sent an edition, and reports about it.

The reports are built the way the RFCs lay them out (RFC 3464 DSN, RFC 5965 ARF) around
the real messages the site sent, so matching by Message-ID and List-Id is exercised on
what `digest send` really wrote.
"""

from __future__ import annotations

import mailbox
import os
import re
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import make_msgid
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import FIXTURES, Digest

FROM = "Digest <digest@bounces.test>"
UNSUBSCRIBE = "unsubscribe@bounces.test"
BOUNCES = "bounces@bounces.test"


def configure(folder: Path, **mail: object) -> None:
    """Set keys (each name is unique across sections) in the folder's digest.toml."""
    config = folder / "digest.toml"
    text = config.read_text()
    for key, value in mail.items():
        if isinstance(value, bool):
            rendered = "true" if value else "false"
        elif isinstance(value, int):
            rendered = str(value)
        elif isinstance(value, list):
            rendered = "[" + ", ".join(f'"{item}"' for item in value) + "]"
        else:
            rendered = f'"{value}"'
        text, found = re.subn(rf"(?m)^{key} = .*$", f"{key} = {rendered}", text, count=1)
        assert found, key
    config.write_text(text)


@dataclass
class Site:
    folder: Path
    digest: Digest
    #: The database, when not the folder's SQLite file.
    url: str | None = None

    @property
    def engine(self) -> sa.Engine:
        return sa.create_engine(self.url or f"sqlite:///{self.folder / 'digest.db'}")

    def query(self, sql: str, **params: object) -> list[tuple[object, ...]]:
        engine = self.engine
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(sa.text(sql), params)]
        finally:
            engine.dispose()

    def status(self, email: str) -> tuple[str, int]:
        rows = self.query("select status, bounce_count from subscribers where email = :e", e=email)
        return str(rows[0][0]), int(rows[0][1])  # type: ignore[call-overload]

    def delivery_id(self, email: str, date: str = "2025-06-04") -> int:
        rows = self.query(
            "select d.id from deliveries d join subscribers s on s.id = d.subscriber_id"
            " join editions e on e.id = d.edition_id where s.email = :e and e.date = :d",
            e=email,
            d=date,
        )
        return int(rows[0][0])  # type: ignore[call-overload]

    def sent(self, email: str, date: str = "2025-06-04") -> bytes:
        """The message the site wrote to the Maildir outbox for `email` on `date`."""
        rows = self.query(
            "select d.message_id from deliveries d join subscribers s on s.id = d.subscriber_id"
            " join editions e on e.id = d.edition_id where s.email = :e and e.date = :d",
            e=email,
            d=date,
        )
        message_id = str(rows[0][0])
        box = mailbox.Maildir(self.folder / "outbox", create=False)
        for key in box.iterkeys():
            raw = box.get_bytes(key)
            if message_from_bytes(raw)["Message-ID"] == message_id:
                return raw
        raise AssertionError(f"no message {message_id} in the outbox")

    def events(self) -> list[tuple[object, ...]]:
        return self.query(
            "select kind, failure_kind, matched_by, counted, status from bounce_events order by id"
        )


def sent_site(digest: Digest, folder: Path, *addresses: str, **mail: object) -> Site:
    """`digest init`, an edition of fixture articles sent (Maildir) to `addresses`, in the
    database DIGEST_DATABASE_URL names (the `database_env` fixture), else the folder's."""
    digest.ok("init")
    configure(folder, **{"from": FROM, "unsubscribe_mailto": UNSUBSCRIBE, **mail})
    digest.ok("ingest", str(FIXTURES / "hostile.xml"))
    for address in addresses:
        digest.ok("subscribers", "add", address, "--lang", "en")
    digest.ok("send", "--date", "2025-06-04", "--lang", "en")
    url = digest.env.get("DIGEST_DATABASE_URL") or os.environ.get("DIGEST_DATABASE_URL")
    return Site(folder, digest, url)


def send_again(site: Site, date: str) -> None:
    """Ingest one article published early on `date` (UTC) and send that day's edition."""
    feed = site.folder / f"feed-{date}.xml"
    feed.write_text(
        f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<link>https://news.example/</link><description>d</description><language>en</language>
<item><title>Harbour reopens after storm repairs on {date}</title>
<link>https://news.example/{date}/harbour</link><guid>harbour-{date}</guid>
<description>The harbour reopened after a week of storm repairs.</description>
<pubDate>{_rfc822(date)} 01:00:00 +0000</pubDate></item></channel></rss>"""
    )
    site.digest.ok("ingest", str(feed))
    site.digest.ok("send", "--date", date, "--lang", "en")


def _rfc822(date: str) -> str:
    from datetime import date as Date

    return Date.fromisoformat(date).strftime("%a, %d %b %Y")


def dsn(
    original: bytes,
    recipient: str,
    *,
    status: str = "5.1.1",
    action: str = "failed",
    to: str = BOUNCES,
    diagnostic: str = "smtp; 550 5.1.1 user unknown",
    headers_only: bool = False,
) -> bytes:
    """An RFC 3464 delivery status notification about `original`, sent to `to`."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.example.net>"
    report["To"] = to
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Message-ID"] = make_msgid(domain="mx.example.net")
    report["Auto-Submitted"] = "auto-replied"
    report.attach(MIMEText(f"Your message to {recipient} could not be delivered.\n"))
    status_part = Message()
    status_part.set_type("message/delivery-status")
    per_message = Message()
    per_message["Reporting-MTA"] = "dns; mx.example.net"
    per_recipient = Message()
    per_recipient["Final-Recipient"] = f"rfc822; {recipient}"
    per_recipient["Action"] = action
    per_recipient["Status"] = status
    per_recipient["Diagnostic-Code"] = diagnostic
    status_part.set_payload([per_message, per_recipient])
    report.attach(status_part)
    returned = message_from_bytes(original)
    if headers_only:
        header_text = original.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
        headers = MIMEText(header_text, "rfc822-headers")
        report.attach(headers)
    else:
        report.attach(MIMEMessage(returned))
    return report.as_bytes()


def arf(original: bytes, complainant: str, *, to: str = "fbl@bounces.test") -> bytes:
    """An RFC 5965 feedback report (abuse) about `original`."""
    report = MIMEMultipart("report", report_type="feedback-report")
    report["From"] = "Feedback Loop <fbl@isp.example.net>"
    report["To"] = to
    report["Subject"] = "Abuse report"
    report["Message-ID"] = make_msgid(domain="isp.example.net")
    report.attach(MIMEText("This is an email abuse report.\n"))
    feedback = Message()
    feedback.set_type("message/feedback-report")
    fields = Message()
    fields["Feedback-Type"] = "abuse"
    fields["User-Agent"] = "ExampleFBL/1.0"
    fields["Version"] = "1"
    fields["Original-Rcpt-To"] = complainant
    feedback.set_payload([fields])
    report.attach(feedback)
    report.attach(MIMEMessage(message_from_bytes(original)))
    return report.as_bytes()


def unsubscribe_request(sender: str, *, to: str = UNSUBSCRIBE, auto: bool = False) -> bytes:
    """What a mail client sends for the mailto: in List-Unsubscribe."""
    message = MIMEText("unsubscribe\n")
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "unsubscribe"
    message["Message-ID"] = make_msgid(domain="reader.example")
    if auto:
        message["Auto-Submitted"] = "auto-replied"
    return message.as_bytes()


def unrelated(subject: str = "Lunch on Friday?") -> bytes:
    message = MIMEText("Are you coming?\n")
    message["From"] = "colleague@example.org"
    message["To"] = BOUNCES
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.org")
    return message.as_bytes()


def maildir_with(folder: Path, *messages: bytes) -> Path:
    box = mailbox.Maildir(folder, create=True)
    for raw in messages:
        box.add(raw)
    box.close()
    return folder


def keys_in(folder: Path, sub: str = "new") -> list[str]:
    path = folder / sub
    return sorted(p.name for p in path.iterdir()) if path.exists() else []
