"""MIME messages from a prebuilt skeleton: per recipient only substitution and encoding.

Building an `EmailMessage` per recipient costs milliseconds; here every header that is
the same for the whole edition is encoded once, and a message is a few string
replacements, one base64/quoted-printable pass per part and a join. Optional DKIM
signing (dkimpy) covers the List-Unsubscribe headers, as one-click unsubscribe requires.
"""

from __future__ import annotations

import binascii
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, parseaddr
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from markupsafe import escape

from digest import placeholders
from digest.characters import one_line
from digest.errors import ConfigError, SendError
from digest.mime_parts import EncodedBody

_CRLF = b"\r\n"
#: Longest header value written unencoded; longer ones become folded encoded-words, so no
#: line ever exceeds the 998 octets RFC 5322 allows.
_PLAIN_HEADER_MAX = 900

#: Characters that cannot appear raw inside `<...>` of List-Unsubscribe.
_URL_UNSAFE = re.compile(r'[^\x21-\x7e]|[<>"]')

#: Headers DKIM signs; an absent one (Reply-To) is signed as absent, so it cannot be added.
DKIM_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"reply-to",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    greeting: str
    unsubscribe_url: str
    #: The address needs SMTPUTF8 (non-ASCII local part).
    smtputf8: bool = False
    #: The subscriber's preferences page.
    preferences_url: str = ""
    #: Key of the edition variant this recipient reads ("": the general one).
    variant: str = ""


def clean_header_text(value: str) -> str:
    """No CR, LF or other control characters can reach a header."""
    if not value.isprintable():  # only then is the per-character pass needed
        return one_line(value)
    return " ".join(value.split())


def encode_header_value(value: str) -> bytes:
    """ASCII as is (when short), anything else as folded RFC 2047 encoded-words."""
    value = clean_header_text(value)
    if _plain_allowed(value):
        return value.encode("ascii")
    return Header(value, "utf-8", maxlinelen=76).encode(linesep="\r\n").encode("ascii")


def _plain_allowed(value: str) -> bool:
    """Whether a header value may be written as it is: short ASCII that does not look
    like an RFC 2047 encoded-word. A name or title reading "=?utf-8?b?...?=" would be
    decoded by mail readers (several decode inside quotes too, against RFC 2047 §5) and
    show text its writer hid, such as "Bcc: ..."; encoded, it shows as written."""
    return value.isascii() and len(value) <= _PLAIN_HEADER_MAX and "=?" not in value


def encode_phrase(value: str) -> bytes:
    """A display name: a quoted string, or one RFC 2047 encoded-word.

    One word even past the 75 characters RFC 2047 suggests: readers join adjacent
    encoded-words unevenly (Python's parser puts a space between them, inside a word),
    while every mail client decodes a long one. Only a name too long for one header line
    is split.
    """
    value = clean_header_text(value)
    if _plain_allowed(value):
        quoted = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}"'.encode("ascii")
    word = b"=?utf-8?b?" + binascii.b2a_base64(value.encode("utf-8"), newline=False) + b"?="
    return word if len(word) <= _PLAIN_HEADER_MAX else encode_header_value(value)


def ascii_address(email: str) -> str | None:
    """The address with its domain in IDNA (punycode) form; None if the local part needs
    SMTPUTF8. Unicode domains are fine without SMTPUTF8 once written this way."""
    if email.isascii():
        return email
    local, _, domain = email.rpartition("@")
    if not local.isascii():
        return None
    try:
        import idna

        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except (ImportError, UnicodeError, ValueError):
        try:
            ascii_domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return f"{local}@{ascii_domain}"


def format_address(name: str, email: str, *, smtputf8: bool = False) -> bytes:
    """`"Name" <addr>` with the name RFC 2047-encoded when needed; never a header break."""
    name = clean_header_text(name)
    email = clean_header_text(email)
    if any(ch in email for ch in '<>",;: \\()[]') or email.count("@") != 1:
        raise SendError(f"address {email!r} cannot be written in a header")
    plain = ascii_address(email)
    if plain is not None:
        address = plain.encode("ascii")
    elif smtputf8:
        address = email.encode("utf-8")
    else:
        raise SendError(f"address {email!r} needs SMTPUTF8")
    if not name:
        return address
    return encode_phrase(name) + b" <" + address + b">"


def header_url(url: str) -> bytes:
    """A URL safe inside `<...>` of a header: IDN host in punycode, the rest %-encoded."""
    url = clean_header_text(url)
    if not _URL_UNSAFE.search(url):
        return url.encode("ascii")
    parts = urlsplit(url)
    netloc = parts.netloc
    if not netloc.isascii():
        userinfo, at, hostport = netloc.rpartition("@")
        host, colon, port = hostport.partition(":")
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            host = quote(host, safe="")
        netloc = f"{userinfo}{at}{host}{colon}{port}"
    safe = "/:@!$&'()*+,;=%~-._"
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            quote(parts.path, safe=safe),
            quote(parts.query, safe=safe + "?"),
            quote(parts.fragment, safe=safe + "?"),
        )
    ).encode("ascii")


def _list_id(value: str) -> bytes:
    """`Phrase <id>`: only the phrase may be encoded; the id must stay readable."""
    phrase, bracket, identifier = clean_header_text(value).rpartition("<")
    if not bracket:
        phrase, identifier = "", value
    identifier = identifier.strip().rstrip(">").strip()
    if not identifier.isascii() or not identifier or " " in identifier:
        raise SendError(f"List-Id {identifier!r} must be a plain dotted ASCII name")
    phrase = phrase.strip()
    if not phrase:
        return b"<" + identifier.encode("ascii") + b">"
    return encode_phrase(phrase) + b" <" + identifier.encode("ascii") + b">"


def _normalise_newlines(text: str) -> str:
    """LF only (the encoders below write CRLF): no bare CR can reach the wire."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _split_template(template: str) -> list[str]:
    """Alternating literal text and placeholder names, split once per edition.

    Personalising is then one join instead of a scan of the whole body per placeholder.
    """
    parts = [_normalise_newlines(template)]
    for token in placeholders.ALL:
        split: list[str] = []
        for index, part in enumerate(parts):
            if index % 2:  # already a placeholder
                split.append(part)
                continue
            pieces = part.split(token)
            for position, piece in enumerate(pieces):
                if position:
                    split.append(token)
                split.append(piece)
        parts = split
    return parts


def _fill(parts: list[str], values: dict[str, str]) -> str:
    return "".join(values[part] if index % 2 else part for index, part in enumerate(parts))


@dataclass(frozen=True)
class DkimSigner:
    """Signs finished messages with one RSA key (relaxed/relaxed canonicalisation)."""

    selector: str
    domain: str
    private_key: bytes = field(repr=False)

    @classmethod
    def from_file(cls, selector: str, domain: str, key_file: Path) -> DkimSigner:
        """Load and check the key once, so a bad key is a config error, not N failures."""
        where = "[mail] dkim_key_file"
        try:
            key = key_file.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"{where}: {key_file} does not exist") from None
        except OSError as e:
            raise ConfigError(f"{where}: cannot read {key_file}: {e.strerror}") from e
        if not selector.isascii() or not domain.isascii() or not selector or not domain:
            raise ConfigError("[mail] dkim_selector and dkim_domain must be ASCII names")
        signer = cls(selector, domain, key)
        try:
            signer.sign(b"From: check@" + domain.encode("ascii") + b"\r\n\r\ncheck\r\n")
        except SendError as e:
            raise ConfigError(f"{where}: {key_file} is not a usable RSA private key") from e
        return signer

    def sign(self, message: bytes) -> bytes:
        import dkim

        try:
            signature = dkim.sign(
                message,
                self.selector.encode("ascii"),
                self.domain.encode("ascii"),
                self.private_key,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=list(DKIM_HEADERS),
                linesep=b"\r\n",
            )
        except (dkim.DKIMException, ValueError, IndexError) as e:
            raise SendError(f"DKIM signing failed: {e}") from e
        return signature + message


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
        dkim: DkimSigner | None = None,
    ) -> None:
        from_name, from_email = parseaddr(from_address)
        if "@" not in from_email:
            raise SendError(f"[mail] from: {from_address!r} is not an address")
        self.domain = from_email.rsplit("@", 1)[1]
        self.unsubscribe_mailto = unsubscribe_mailto
        self.html = html
        self.text = text
        self._html_parts = _split_template(html)
        self._text_parts = _split_template(text)
        self._html_body = EncodedBody([part.encode("utf-8") for part in self._html_parts[::2]])
        self._text_body = EncodedBody([part.encode("utf-8") for part in self._text_parts[::2]])
        self._html_slots, self._text_slots = self._html_parts[1::2], self._text_parts[1::2]
        self._html_used, self._text_used = set(self._html_slots), set(self._text_slots)
        self._last_date: tuple[datetime, bytes] | None = None
        self.dkim = dkim
        self.boundary = b"=_digest_" + secrets.token_hex(12).encode("ascii")
        head = [
            b"From: " + format_address(from_name, from_email),
            b"Subject: " + encode_header_value(subject),
            b"MIME-Version: 1.0",
            b"List-Id: " + _list_id(list_id),
            b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        ]
        if reply_to:
            reply_name, reply_email = parseaddr(reply_to)
            head.append(b"Reply-To: " + format_address(reply_name, reply_email))
        for name, value in (extra_headers or {}).items():
            if not re.fullmatch(r"[A-Za-z0-9-]+", name):
                raise SendError(f"header name {name!r} is not valid")
            head.append(name.encode("ascii") + b": " + encode_header_value(value))
        head.append(b'Content-Type: multipart/alternative; boundary="' + self.boundary + b'"')
        self._head = _CRLF.join(head)
        mailto = f"mailto:{clean_header_text(unsubscribe_mailto)}?subject=unsubscribe"
        self._mailto = b"<" + header_url(mailto) + b">"

    def message_id(self, local: str) -> str:
        return f"<{local}.{secrets.token_hex(6)}@{self.domain}>"

    def personalised_parts(self, recipient: Recipient) -> tuple[str, str]:
        """The HTML and text bodies with this recipient's values, escaped for each."""
        html_values = {
            placeholders.GREETING: str(escape(recipient.greeting)),
            placeholders.UNSUBSCRIBE_URL: str(escape(recipient.unsubscribe_url)),
            placeholders.EMAIL: str(escape(recipient.email)),
            placeholders.PREFERENCES_URL: str(escape(recipient.preferences_url)),
        }
        text_values = {
            placeholders.GREETING: clean_header_text(recipient.greeting),
            placeholders.UNSUBSCRIBE_URL: clean_header_text(recipient.unsubscribe_url),
            placeholders.EMAIL: clean_header_text(recipient.email),
            placeholders.PREFERENCES_URL: clean_header_text(recipient.preferences_url),
        }
        html = _fill(self._html_parts, html_values)
        text = _fill(self._text_parts, text_values)
        return html, text

    def _encoded_bodies(self, recipient: Recipient) -> tuple[list[bytes], list[bytes]]:
        """Both bodies transfer-encoded: the edition's segments were encoded once, only
        this recipient's values are encoded here (see `digest.mime_parts`)."""
        raw = {
            placeholders.GREETING: recipient.greeting,
            placeholders.UNSUBSCRIBE_URL: recipient.unsubscribe_url,
            placeholders.EMAIL: recipient.email,
            placeholders.PREFERENCES_URL: recipient.preferences_url,
        }
        # Only the placeholders the templates hold, each escaped or cleaned once.
        html_values = {name: str(escape(raw[name])).encode("utf-8") for name in self._html_used}
        text_values = {
            name: clean_header_text(raw[name]).encode("utf-8") for name in self._text_used
        }
        html = self._html_body.lines([html_values[name] for name in self._html_slots])
        text = self._text_body.lines([text_values[name] for name in self._text_slots])
        return html, text

    def _date(self, date: datetime) -> bytes:
        """The Date header value; the same second is formatted once."""
        second = date.replace(microsecond=0)
        last = self._last_date
        if last is None or last[0] != second:
            last = self._last_date = (second, format_datetime(second).encode("ascii"))
        return last[1]

    def build(self, recipient: Recipient, *, message_id: str, date: datetime) -> bytes:
        """The complete message as CRLF bytes (DKIM-signed when a signer is set)."""
        html_body, text_body = self._encoded_bodies(recipient)
        text_cte, html_cte = self._text_body.cte, self._html_body.cte
        boundary = self.boundary
        message = _CRLF.join(
            [
                self._head,
                b"To: "
                + format_address(recipient.name, recipient.email, smtputf8=recipient.smtputf8),
                b"Date: " + self._date(date),
                b"Message-ID: " + clean_header_text(message_id).encode("ascii"),
                b"List-Unsubscribe: <" + header_url(recipient.unsubscribe_url) + b">,",
                b" " + self._mailto,
                b"",
                b"This is a multi-part message in MIME format.",
                b"--" + boundary,
                b'Content-Type: text/plain; charset="utf-8"',
                b"Content-Transfer-Encoding: " + text_cte,
                b"",
                *text_body,
                b"--" + boundary,
                b'Content-Type: text/html; charset="utf-8"',
                b"Content-Transfer-Encoding: " + html_cte,
                b"",
                *html_body,
                b"--" + boundary + b"--",
                b"",
            ]
        )
        return self.dkim.sign(message) if self.dkim is not None else message
