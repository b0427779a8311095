"""Checking and normalising one subscriber's fields; each error names its field."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo, available_timezones

from email_validator import EmailNotValidError, validate_email

from subscribers.errors import InvalidSubscriber

NAME_MAX = 200


@dataclass(frozen=True)
class Address:
    email: str
    smtputf8: bool


def normalise_email(value: str, *, check_deliverability: bool = False) -> Address:
    """Syntax check and normalisation: `Alice@Example.COM` and `alice@example.com` are one.

    The local part is lower-cased too: every large provider treats it case-insensitively,
    and two rows for one person would mean two copies of every edition.
    """
    value = (value or "").strip()
    if not value:
        raise InvalidSubscriber("email", "missing")
    try:
        info = validate_email(value, check_deliverability=check_deliverability)
    except EmailNotValidError as e:
        raise InvalidSubscriber("email", f"{value!r} is not a valid address: {e}") from None
    local, _, domain = info.normalized.rpartition("@")
    return Address(email=f"{local.casefold()}@{domain.lower()}", smtputf8=bool(info.smtputf8))


def clean_name(value: str | None) -> str:
    """Plain single-line text: control characters, CR and LF never stored."""
    if not value:
        return ""
    text = "".join(
        " " if unicodedata.category(ch)[0] == "C" and ch not in "\u200c\u200d" else ch
        for ch in value
    )
    text = " ".join(text.split())
    if len(text) > NAME_MAX:
        raise InvalidSubscriber("name", f"longer than {NAME_MAX} characters")
    return text


def check_language(value: str | None, languages: tuple[str, ...]) -> str:
    language = (value or "").strip().lower() or languages[0]
    if language not in languages:
        raise InvalidSubscriber(
            "language", f"{language!r} is not one of the site's languages ({', '.join(languages)})"
        )
    return language


def check_sections(value: str | list[str] | None, known: tuple[str, ...] | None) -> str:
    """Comma-separated section names; `known=None` accepts any well-formed name."""
    if not value:
        return ""
    parts = value if isinstance(value, list) else value.split(",")
    sections = sorted({part.strip() for part in parts if part.strip()})
    for section in sections:
        if any(unicodedata.category(ch)[0] == "C" for ch in section) or len(section) > 100:
            raise InvalidSubscriber("sections", f"{section!r} is not a section name")
        if known is not None and section not in known:
            raise InvalidSubscriber(
                "sections", f"unknown section {section!r} (known: {', '.join(known)})"
            )
    return ",".join(sections)


_ZONES: set[str] | None = None


def check_timezone(value: str | None) -> str:
    global _ZONES
    zone = (value or "").strip() or "UTC"
    if _ZONES is None:
        _ZONES = available_timezones() | {"UTC"}
    if zone not in _ZONES:
        raise InvalidSubscriber("timezone", f"{zone!r} is not an IANA time zone")
    ZoneInfo(zone)
    return zone
