"""MIME messages from a prebuilt skeleton: per recipient only substitution and encoding.

Building an `EmailMessage` per recipient costs milliseconds; here every header that is
the same for the whole edition is encoded once, and a message is a few string
replacements, one base64/quoted-printable pass per part and a join.
"""

from __future__ import annotations

import binascii
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, parseaddr

from markupsafe import escape

from digest import placeholders
from digest.errors import SendError

_CRLF = b"\r\n"


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    greeting: str
    unsubscribe_url: str
    #: The address needs SMTPUTF8 (non-ASCII local part).
    smtputf8: bool = False


def clean_header_text(value: str) -> str:
    """No CR, LF or other control characters can reach a header."""
    return " ".join(
        "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in value).split()
    )


def encode_header_value(value: str) -> bytes:
    value = clean_header_text(value)
    if value.isascii():
        return value.encode("ascii")
    return Header(value, "utf-8", maxlinelen=76).encode(linesep="\r\n").encode("ascii")


def format_address(name: str, email: str, *, smtputf8: bool = False) -> bytes:
    """`"Name" <addr>` with the name RFC 2047-encoded when needed; never a header break."""
    name = clean_header_text(name)
    email = clean_header_text(email)
    if any(ch in email for ch in '<>",; '):
        raise SendError(f"address {email!r} cannot be written in a header")
    address = email.encode("utf-8") if smtputf8 else email.encode("ascii", "strict")
    if not name:
        return address
    if name.isascii():
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" '.encode("ascii") + b"<" + address + b">"
    return encode_header_value(name) + b" <" + address + b">"


def _encode_body(text: str) -> tuple[bytes, bytes]:
    """(Content-Transfer-Encoding, encoded body with CRLF lines of at most 76 octets)."""
    data = text.replace("\r\n", "\n").encode("utf-8")
    if data.isascii():
        encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
        return b"quoted-printable", encoded.replace(b"\n", _CRLF)
    encoded = binascii.b2a_base64(data, newline=False)
    lines = [encoded[i : i + 76] for i in range(0, len(encoded), 76)]
    return b"base64", _CRLF.join(lines)


class MessageSkeleton:
    """One edition variant's message, ready to be personalised per recipient."""

    def __init__(
        self,
        *,
        from_address: str,
        subject: str,
        html: str,
        text: str,
        list_id: str,
        unsubscribe_mailto: str,
        reply_to: str = "",
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        from_name, from_email = parseaddr(from_address)
        if "@" not in from_email:
            raise SendError(f"[mail] from: {from_address!r} is not an address")
        self.domain = from_email.rsplit("@", 1)[1]
        self.unsubscribe_mailto = unsubscribe_mailto
        self.html = html
        self.text = text
        self.boundary = b"=_digest_" + secrets.token_hex(12).encode("ascii")
        head = [
            b"From: " + format_address(from_name, from_email),
            b"Subject: " + encode_header_value(subject),
            b"MIME-Version: 1.0",
            b"List-Id: " + encode_header_value(list_id),
            b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        ]
        if reply_to:
            reply_name, reply_email = parseaddr(reply_to)
            head.append(b"Reply-To: " + format_address(reply_name, reply_email))
        for name, value in (extra_headers or {}).items():
            head.append(name.encode("ascii") + b": " + encode_header_value(value))
        head.append(b'Content-Type: multipart/alternative; boundary="' + self.boundary + b'"')
        self._head = _CRLF.join(head)

    def message_id(self, local: str) -> str:
        return f"<{local}.{secrets.token_hex(6)}@{self.domain}>"

    def personalised_parts(self, recipient: Recipient) -> tuple[str, str]:
        """The HTML and text bodies with this recipient's values, escaped for each."""
        html = (
            self.html.replace(placeholders.GREETING, str(escape(recipient.greeting)))
            .replace(placeholders.UNSUBSCRIBE_URL, str(escape(recipient.unsubscribe_url)))
            .replace(placeholders.EMAIL, str(escape(recipient.email)))
        )
        text = (
            self.text.replace(placeholders.GREETING, clean_header_text(recipient.greeting))
            .replace(placeholders.UNSUBSCRIBE_URL, recipient.unsubscribe_url)
            .replace(placeholders.EMAIL, recipient.email)
        )
        return html, text

    def build(self, recipient: Recipient, *, message_id: str, date: datetime) -> bytes:
        """The complete message as CRLF bytes."""
        html, text = self.personalised_parts(recipient)
        text_cte, text_body = _encode_body(text)
        html_cte, html_body = _encode_body(html)
        mailto = f"mailto:{self.unsubscribe_mailto}?subject=unsubscribe"
        boundary = self.boundary
        return _CRLF.join(
            [
                self._head,
                b"To: "
                + format_address(recipient.name, recipient.email, smtputf8=recipient.smtputf8),
                b"Date: " + format_datetime(date).encode("ascii"),
                b"Message-ID: " + message_id.encode("ascii"),
                b"List-Unsubscribe: <"
                + recipient.unsubscribe_url.encode("ascii", "strict")
                + b">, <"
                + mailto.encode("ascii")
                + b">",
                b"",
                b"This is a multi-part message in MIME format.",
                b"--" + boundary,
                b'Content-Type: text/plain; charset="utf-8"',
                b"Content-Transfer-Encoding: " + text_cte,
                b"",
                text_body,
                b"--" + boundary,
                b'Content-Type: text/html; charset="utf-8"',
                b"Content-Transfer-Encoding: " + html_cte,
                b"",
                html_body,
                b"--" + boundary + b"--",
                b"",
            ]
        )
