"""Checking and normalising one subscriber's fields; each error names its field."""

from __future__ import annotations

import unicodedata
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import regex

from subscribers.addresses import Address, AddressValidator
from subscribers.errors import InvalidSubscriber
from subscribers.status import STATUSES, Status

NAME_MAX = 200
SECTION_MAX = 100

__all__ = [
    "Address",
    "check_language",
    "check_sections",
    "check_status",
    "check_timezone",
    "clean_name",
    "normalise_email",
]


def normalise_email(value: str, *, check_deliverability: bool = False) -> Address:
    """One address checked and normalised (see `AddressValidator`)."""
    return AddressValidator(check_deliverability=check_deliverability).check(value)


#: Not text in a name: controls, format characters but ZWNJ and ZWJ (Arabic and Persian
#: names need them), private use, surrogates, non-characters. From the `regex` package's
#: Unicode tables, newer than the runtime's: an emoji added since (U+1FAE8 on Python
#: 3.11) is text, not an unassigned code point to drop.
_NOT_TEXT = regex.compile(
    r"(?![\u200c\u200d])[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Noncharacter_Code_Point}]"
)


def clean_name(value: str | None) -> str:
    """Plain single-line text: control characters, CR and LF are never stored."""
    if not value:
        return ""
    if value.isprintable() and "  " not in value and value == value.strip():
        text = value  # the common case, without a per-character walk
    else:
        text = " ".join(_NOT_TEXT.sub(" ", value).split())
    text = unicodedata.normalize("NFC", text)
    if len(text) > NAME_MAX:
        raise InvalidSubscriber("name", f"longer than {NAME_MAX} characters")
    return text


def check_language(value: str | None, languages: tuple[str, ...]) -> str:
    """One of the site's languages; empty means the first (the site's main language)."""
    language = (value or "").strip().lower() or languages[0]
    if language not in languages:
        raise InvalidSubscriber(
            "language", f"{language!r} is not one of the site's languages ({', '.join(languages)})"
        )
    return language


def check_sections(value: str | list[str] | None, known: tuple[str, ...] | None) -> str:
    """Comma-separated section names, sorted and unique; empty means every section.

    Names are matched to `known` without regard to case and stored in its spelling;
    `known=None` (no sections known yet) accepts any well-formed name.
    """
    if not value:
        return ""
    parts = value if isinstance(value, list) else value.split(",")
    by_folded = {name.casefold(): name for name in known} if known is not None else None
    sections: set[str] = set()
    for part in parts:
        section = " ".join(part.split())
        if not section:
            continue
        if _NOT_TEXT.search(section) or len(section) > SECTION_MAX:
            raise InvalidSubscriber("sections", f"{section!r} is not a section name")
        if by_folded is not None:
            canonical = by_folded.get(section.casefold())
            if canonical is None:
                raise InvalidSubscriber(
                    "sections", f"unknown section {section!r} (known: {', '.join(known or ())})"
                )
            section = canonical
        sections.add(section)
    return ",".join(sorted(sections))


#: Names a system's zone folder may hold that are not IANA zones.
_NOT_ZONES = frozenset({"localtime", "factory", "posixrules"})


@cache
def _zones() -> dict[str, str]:
    """Every IANA zone name by its lower-case form (read once: the list does not change)."""
    return {
        zone.lower(): zone
        for zone in available_timezones() | {"UTC"}
        if zone.lower() not in _NOT_ZONES and not zone.startswith(("posix/", "right/"))
    }


def time_zones() -> list[str]:
    """Every IANA zone name `check_timezone` accepts, sorted (for a form's choices)."""
    return sorted(set(_zones().values()))


def check_timezone(value: str | None) -> str:
    """A valid IANA zone in its canonical spelling (`asia/riyadh` → `Asia/Riyadh`); empty
    when none is given (the reader then gets the site's zone)."""
    raw = (value or "").strip()
    if not raw:
        return ""
    zone = _zones().get(raw.lower())
    if zone is None:
        raise InvalidSubscriber("timezone", f"{raw!r} is not an IANA time zone")
    ZoneInfo(zone)
    return zone


def check_status(value: str | None) -> Status | None:
    """A subscriber status; empty means not given."""
    text = (value or "").strip().lower()
    if not text:
        return None
    try:
        return Status(text)
    except ValueError:
        raise InvalidSubscriber(
            "status", f"{text!r} is not a status ({', '.join(STATUSES)})"
        ) from None
