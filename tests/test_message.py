"""The prebuilt MIME skeleton: correct structure, safe headers, exact personalisation."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest

from digest import placeholders
from digest.errors import SendError
from digest.message import MessageSkeleton, Recipient


def skeleton(html: str = "", text: str = "") -> MessageSkeleton:
    return MessageSkeleton(
        from_address="Arab Press <digest@arabpress.example>",
        subject="عرب برس · الأربعاء: عنوان",
        html=html
        or f"<html><body><p>{placeholders.GREETING}</p>"
        f'<a href="{placeholders.UNSUBSCRIBE_URL}">u</a>'
        + "<p>نص عربي</p>" * 500
        + "</body></html>",
        text=text or f"{placeholders.GREETING}\n\nunsubscribe: {placeholders.UNSUBSCRIBE_URL}\n",
        list_id="Arab Press <digest.arabpress.example>",
        unsubscribe_mailto="unsubscribe@arabpress.example",
    )


def recipient(**overrides: object) -> Recipient:
    values = dict(
        email="layla@example.com",
        name="ليلى <Haddad>",
        greeting="Hello <Layla> & co",
        unsubscribe_url="https://arabpress.example/u/tok.en_1",
    )
    values.update(overrides)
    return Recipient(**values)  # type: ignore[arg-type]


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_message_structure_and_headers() -> None:
    raw = skeleton().build(
        recipient(), message_id="<1.x@arabpress.example>", date=datetime(2025, 6, 4, 4, tzinfo=UTC)
    )
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    message = parse(raw)
    assert message["Subject"] == "عرب برس · الأربعاء: عنوان"
    assert message["To"].addresses[0].display_name == "ليلى <Haddad>"
    assert message["To"].addresses[0].addr_spec == "layla@example.com"
    assert message["List-Unsubscribe"] == (
        "<https://arabpress.example/u/tok.en_1>, "
        "<mailto:unsubscribe@arabpress.example?subject=unsubscribe>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["MIME-Version"] == "1.0"
    text, html = (part.get_content() for part in message.iter_parts())
    assert "Hello &lt;Layla&gt; &amp; co" in html  # escaped in HTML
    assert text.startswith("Hello <Layla> & co")  # verbatim in text
    assert "%%DIGEST_" not in text + html


@pytest.mark.parametrize(
    "name", ["Eve\r\nBcc: victim@example.com", "Eve\nX-Evil: 1", "a\x00b", "\u2028Bcc: x"]
)
def test_names_cannot_inject_headers(name: str) -> None:
    raw = skeleton().build(
        recipient(name=name), message_id="<2@a.example>", date=datetime(2025, 6, 4, tzinfo=UTC)
    )
    message = parse(raw)
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert len(message.get_all("To")) == 1


def test_a_name_that_looks_like_an_encoded_word_shows_as_written() -> None:
    """ "=?utf-8?b?...?=" (here "Bcc: x@y.z") must not be decoded by the reader's client:
    such a name is itself encoded, so it decodes to the literal text."""
    disguised = "=?utf-8?b?QmNjOiB4QHkueg==?="
    raw = skeleton().build(
        recipient(name=disguised), message_id="<2@a.example>", date=datetime(2025, 6, 4, tzinfo=UTC)
    )
    message = parse(raw)
    assert message["To"].addresses[0].display_name == disguised
    assert "Bcc" not in str(message["To"])


def test_address_that_would_break_a_header_is_refused() -> None:
    with pytest.raises(SendError):
        skeleton().build(
            recipient(email="a@example.com>, b@example.com"),
            message_id="<3@a>",
            date=datetime(2025, 6, 4, tzinfo=UTC),
        )


def test_ascii_parts_use_quoted_printable() -> None:
    raw = skeleton(html="<p>" + "x" * 300 + "</p>", text="plain ascii\n").build(
        recipient(name="Al"), message_id="<4@a>", date=datetime(2025, 6, 4, tzinfo=UTC)
    )
    assert raw.count(b"Content-Transfer-Encoding: quoted-printable") == 2
    assert parse(raw).get_body(("html",)).get_content() == "<p>" + "x" * 300 + "</p>"
