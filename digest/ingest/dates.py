"""Article dates: always UTC, never in the future, flagged when they were not given.

Sources write dates as RFC 822 (RSS), ISO 8601 (Atom, JSON, pages) or in their own
language: "الأحد، 03 مارس 2024 09:15:00 +0300", Arabic-Indic or Persian digits,
"mercredi 4 juin 2025". The first two are read by the standard library; the rest by
`dateparser`, a maintained library that knows the day and month names of some 200
locales and every script's digits. Every format (RSS, Atom, JSON, pages) reads its dates
through `parse_any_date`, so one date means one moment wherever it is written.

Zone names: RFC 822 section 5 and RFC 2822 section 4.3 define only UT, GMT and the US
zones (EST/EDT, CST/CDT, MST/MDT, PST/PDT); the military letters, whose signs RFC 822
got backwards (RFC 1123 section 5.2.14), mean "-0000", no zone information. Any other
name says nothing reliable (AST is Arabia, +03, or Atlantic, -04): the parsers would
read it as UTC or guess, so the clock time is kept as UTC and the date marked estimated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

import regex

from digest.ingest.months import with_standard_months

#: A date further ahead than this is a clock error at the source: clamp it.
FUTURE_TOLERANCE = timedelta(minutes=10)
#: A date before this is the zero value of a clock or database, not a publication date
#: (Go's 0001-01-01, Unix's 1970-01-01, spreadsheets' 1900-01-01): no date was given.
EARLIEST = datetime(1971, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Dating:
    published_at: datetime
    updated_at: datetime | None
    #: The source gave no date (or only a day, or one in the future): handle with care.
    estimated: bool
    #: The source gave no usable date at all: the stored one is the feed's or fetch time.
    undated: bool = False


@dataclass(frozen=True)
class SourceDate:
    moment: datetime
    #: False when the source gave only a day, not a time.
    precise: bool = True
    #: A zone name RFC 2822 does not define ("EET", "AST"), ignored: the clock time was
    #: taken as UTC. "" when the zone was known (or absent: UTC by our documented rule).
    unknown_zone: str = ""

    @property
    def exact(self) -> bool:
        """Whether this is the moment the source meant, not a day or a guessed zone."""
        return self.precise and not self.unknown_zone


def settle(
    published: SourceDate | None,
    updated: SourceDate | None,
    *,
    fallback: datetime | None,
    now: datetime,
) -> Dating:
    """Pick the stored dates: the source's own, else the feed's or fetch time (flagged).
    A date before `EARLIEST` (the feed's too) counts as none; one after `now` (with
    `FUTURE_TOLERANCE`) becomes `now`, flagged."""
    estimated = undated = False
    if fallback is not None and fallback < EARLIEST:
        fallback = None
    if published is not None and published.moment < EARLIEST:
        published = None
    if updated is not None and updated.moment < EARLIEST:
        updated = None
    if published is None:
        published = updated
    if published is None:
        moment, estimated, undated = fallback or now, True, True
    else:
        moment, estimated = published.moment, not published.exact
    if moment > now + FUTURE_TOLERANCE:
        moment, estimated = now, True
    updated_at = updated.moment if updated else None
    if updated_at is not None and updated_at > now + FUTURE_TOLERANCE:
        updated_at = None  # a bogus future stamp says nothing about freshness
    return Dating(
        moment.astimezone(UTC), updated_at and updated_at.astimezone(UTC), estimated, undated
    )


def undated_reason(raw: str, languages: tuple[str, ...] = ()) -> str:
    """Why a date the source wrote was not used, for a warning: "not understood", or
    a zero value (`EARLIEST`)."""
    found = parse_any_date(raw, languages)
    if found is not None and found.moment < EARLIEST:
        return "is a zero value, not a publication date"
    return "not understood"


def zone_warnings(where: str, dates: dict[str, SourceDate | None]) -> list[str]:
    """A warning for each date (by field name) whose zone name was not understood."""
    return [
        f"{where}: {field}: time zone {found.unknown_zone!r} is not one RFC 2822 defines; "
        "its clock time is stored as UTC, marked estimated"
        for field, found in dates.items()
        if found is not None and found.unknown_zone
    ]


def parse_date(value: str) -> SourceDate:
    """ISO 8601 (or RFC 2822) into UTC; no offset means UTC. Raises ValueError."""
    text, zone = _without_zone_name(value.strip())
    if not text:
        raise ValueError("empty date")
    found = _parse_strict(text)
    return _with_zone(found, zone)


#: A time of day on a 12-hour clock ("06:40 PM", "6:40 p.m."), which RFC 2822 section
#: 3.3 does not write: the email parser took "PM" for an unknown zone and kept 06:40.
_TWELVE_HOUR = regex.compile(r"\d{1,2}:\d{2}(?::\d{2})?\s*[AaPp]\.?\s?[Mm]\b\.?")


def _parse_strict(text: str) -> SourceDate:
    try:
        moment = datetime.fromisoformat(text)
        precise = "T" in text.upper() or " " in text
    except ValueError:
        if _TWELVE_HOUR.search(text):  # RFC 2822 has a 24-hour clock: the email parser
            raise ValueError(f"not RFC 2822: {text!r}") from None  # reads PM as a zone
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"not an ISO 8601 date-time: {text!r}") from None
        precise = True
        if _EARLY_YEAR.search(text):  # "0001": the email module reads it as 2001
            moment = datetime.min
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    _check_offset(moment)
    return _in_utc(moment, precise)


#: RFC 2822 section 4.3's zone names (UT, GMT, the US zones), with UTC and ISO's Z.
RFC_ZONES = frozenset("UT UTC GMT Z EST EDT CST CDT MST MDT PST PDT".split())
#: A zone name written after a time of day (and an AM/PM): "06:40:00 EET", "6:40 PM (MSK)".
#: A name after a numeric offset ("+0300 (EEST)") is a comment: the offset rules.
_ZONE_NAME = regex.compile(
    r"(?<=\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?)"
    r"\s*\(?([A-Za-z]{1,5})\)?(?![\p{L}\d]|[+-]\d)"
)
#: A numeric offset: with one, a zone name beside it is only a comment.
_OFFSET = regex.compile(r"(?<=\d)\s*[+-]\d\d:?\d\d(?!\d)")


def _without_zone_name(text: str) -> tuple[str, str]:
    """`text` without a zone name RFC 2822 does not define, and that name ("" if none).

    Names it defines stay for the parsers, which read them right; an unknown name is
    removed so that no parser guesses (the email module reads AST as Atlantic time,
    dateparser as well, feedparser drops it). A name in mixed or lower case ("Uhr",
    "hrs") is a word, not a zone."""
    for match in _ZONE_NAME.finditer(text):
        name = match.group(1)
        if name.upper() in ("AM", "PM"):
            continue  # the zone, if any, comes after it
        if name.upper() in RFC_ZONES or not name.isupper():
            break
        rest = (text[: match.start()] + " " + text[match.end() :]).strip()
        return rest, ("" if _OFFSET.search(rest) else name)
    return text, ""


def _with_zone(found: SourceDate, zone: str) -> SourceDate:
    return SourceDate(found.moment, found.precise, zone) if zone else found


#: The furthest real zones from UTC (tz database: Etc/GMT+12, Pacific/Kiritimati). An
#: offset beyond them ("+99:00", "+2359") is a broken date, not a place.
_OFFSET_RANGE = (timedelta(hours=-12), timedelta(hours=14))


def _check_offset(moment: datetime) -> None:
    """Raise ValueError for an offset no place on Earth uses."""
    offset = moment.utcoffset()
    if offset is not None and not _OFFSET_RANGE[0] <= offset <= _OFFSET_RANGE[1]:
        raise ValueError(f"impossible UTC offset: {offset}")


#: A four-digit year before 1000 in an RFC 2822 date (Go's zero value is year 1).
_EARLY_YEAR = regex.compile(r"(?i)\b[a-z]{3}[a-z]*\.?\s+0\d{3}(?!\d)")


def _in_utc(moment: datetime, precise: bool) -> SourceDate:
    """`moment` in UTC; where the shift leaves the calendar (year 1 east of UTC, 9999
    west of it), the calendar's first or last instant: a zero value or a future date,
    which `settle` handles."""
    try:
        return SourceDate(moment.astimezone(UTC), precise)
    except OverflowError:
        edge = datetime.min if moment.year < 2000 else datetime.max
        return SourceDate(edge.replace(tzinfo=UTC), precise)


def try_parse_date(value: str | None) -> SourceDate | None:
    """parse_date for sources where a bad date just means no date."""
    if not value or not isinstance(value, str):
        return None
    try:
        return parse_date(value)
    except ValueError:
        return None


#: A time of day in any script's digits (12:30, ١١:٠٠): without one a date is only a day.
_TIME_OF_DAY = regex.compile(r"\d{1,2}\s*:\s*\d{2}")
#: Longer than any real date: do not hand pages of text to the parser.
_DATE_MAX = 200


def parse_any_date(value: str, languages: tuple[str, ...] = ()) -> SourceDate | None:
    """RFC 822, ISO 8601 or a localised date (any of `languages` first, then any locale).

    Returns None when nothing in `value` reads as a day, month and year; a time zone
    written in the value is honoured, none means UTC. `languages` are ISO 639-1 codes.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > _DATE_MAX:
        return None
    try:
        return parse_date(text)
    except ValueError:
        pass
    text, zone = _without_zone_name(text)
    text = with_standard_months(text)  # dateparser knows only one of Arabic's name sets
    for hint in (languages, ()):
        try:
            moment = _date_parser(_locales(hint)).get_date_data(text).date_obj
            if moment is not None:
                _check_offset(moment)
        except (OverflowError, ValueError):  # at the calendar's edge, or offset impossible
            moment = None
        if moment is not None:
            break
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _with_zone(_in_utc(moment, bool(_TIME_OF_DAY.search(text))), zone)


@lru_cache(maxsize=8)
def _date_parser(locales: tuple[str, ...]) -> Any:
    """A dateparser parser for these locales (all languages when empty); building one
    costs."""
    # Here, not at the top: only undated or localised items need it.
    from dateparser.date import DateDataParser

    settings = {
        "TIMEZONE": "UTC",
        "TO_TIMEZONE": "UTC",
        "RETURN_AS_TIMEZONE_AWARE": True,
        # "March 2024" is not a publication date: without a day the item stays undated.
        "REQUIRE_PARTS": ["day", "month", "year"],
        "PREFER_DATES_FROM": "past",
        # Absolute dates only: "3 hours ago" would be read against the wall clock, and a
        # bare number as a Unix time; both are better left undated (and warned about).
        "PARSERS": ["custom-formats", "absolute-time"],
    }
    if locales:  # the source's own language first: its order reads numeric dates
        from dateparser.languages.loader import LocaleDataLoader

        first = next(iter(LocaleDataLoader().get_locales(locales=[locales[0]])))
        settings["DATE_ORDER"] = first.info.get("date_order", "MDY")
    return DateDataParser(locales=list(locales) or None, settings=settings)


@lru_cache(maxsize=64)
def _locales(tags: tuple[str, ...]) -> tuple[str, ...]:
    """dateparser locales for language tags ("en", "en-GB", "ar_EG"), one per language
    (dateparser takes one region per language): the first tag with a region dateparser
    knows, else the bare language. The first locale's date order (CLDR, as dateparser
    carries it) reads numeric dates: 05/11/2026 is 5 November in en-GB, ar-EG and ar,
    May 11 in en-US and in bare English."""
    from dateparser.data.languages_info import language_locale_dict

    chosen: dict[str, str] = {}
    for tag in tags:
        language, _, region = tag.replace("_", "-").partition("-")
        language = language.lower()
        regions = language_locale_dict.get(language)
        if regions is None:
            continue
        locale = f"{language}-{region.upper()}"
        if region and locale in regions and chosen.get(language, language) == language:
            chosen[language] = locale
        else:
            chosen.setdefault(language, language)
    return tuple(chosen.values())
