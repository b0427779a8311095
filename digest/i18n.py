"""Localised strings and dates for the email and the web pages, one catalogue per language.

A catalogue is a TOML file, `<language>.toml`, read at run time (no build step): the
packaged ones live in `digest/locale/`, and a `locale/` folder inside the configured
templates folder is searched first, so adding or rewording a language is adding a file.
Every catalogue must define the keys of the English one and may only use the `{fields}`
each key allows; dates and times are formatted by babel from CLDR patterns.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, parse_pattern

from digest.errors import RenderError

PACKAGED_LOCALES = Path(__file__).parent / "locale"

#: The keys every catalogue defines, with the fields each may use.
FIELDS: dict[str, frozenset[str]] = {
    "subject": frozenset({"site", "date", "headline"}),
    "subject_empty": frozenset({"site", "date"}),
    "top_stories": frozenset(),
    "related": frozenset(),
    "read_more": frozenset(),
    "greeting": frozenset({"name"}),
    "greeting_anonymous": frozenset(),
    "intro": frozenset({"site"}),
    "empty": frozenset(),
    "why": frozenset({"site", "email"}),
    "unsubscribe": frozenset(),
    "unsubscribe_text": frozenset(),
    "visit_site": frozenset({"site"}),
    "preheader": frozenset({"stories"}),
    "in_this_edition": frozenset(),
    "lead_label": frozenset(),
    "view_in_browser": frozenset(),
    "manage_preferences": frozenset(),
    "archive_title": frozenset({"site"}),
    "archive_intro": frozenset({"site"}),
    "archive_empty": frozenset(),
    "archive_feed": frozenset(),
}
DATE_KEYS = ("edition", "time", "day_time")

#: The web pages' keys (the [web] table), with the fields each may use. A catalogue may
#: leave some out: `digest serve` shows the English text for those and logs it once.
WEB_FIELDS: dict[str, frozenset[str]] = {
    **{
        key: frozenset()
        for key in (
            "button",
            "confirm_title",
            "done_title",
            "gone_heading",
            "gone_text",
            "invalid_title",
            "invalid_heading",
            "invalid_text",
            "bad_request_heading",
            "bad_request_text",
            "forbidden_heading",
            "forbidden_text",
            "too_many_heading",
            "too_many_text",
            "subscribe_title",
            "subscribe_text",
            "field_email",
            "field_name",
            "field_language",
            "field_sections",
            "field_timezone",
            "all_sections",
            "honeypot",
            "subscribe_button",
            "subscribe_sent_heading",
            "error_email",
            "error_form",
            "optin_title",
            "optin_button",
            "optin_done_heading",
            "prefs_title",
            "prefs_save",
            "prefs_saved",
            "prefs_unsubscribe",
            "prefs_resubscribe",
            "prefs_resubscribed",
            "confirm_email_button",
            "confirm_email_ignore",
            "already_email_manage",
            "undo_link",
        )
    },
    "confirm_heading": frozenset({"site"}),
    "confirm_text": frozenset({"email"}),
    "done_heading": frozenset(),
    "done_text": frozenset({"site", "email"}),
    "already_heading": frozenset(),
    "already_text": frozenset({"site", "email"}),
    "visit": frozenset({"site"}),
    "subscribe_heading": frozenset({"site"}),
    "subscribe_sent_text": frozenset({"hours"}),
    "optin_heading": frozenset({"site"}),
    "optin_text": frozenset({"email"}),
    "optin_done_text": frozenset({"site", "email"}),
    "prefs_heading": frozenset({"email"}),
    "prefs_unsubscribed_text": frozenset({"email"}),
    "prefs_inactive_text": frozenset({"email"}),
    "confirm_email_subject": frozenset({"site"}),
    "confirm_email_text": frozenset({"site", "email", "hours"}),
    "already_email_subject": frozenset({"site"}),
    "already_email_text": frozenset({"site", "email"}),
}


@dataclass(frozen=True)
class Catalogue:
    """One language's strings, date patterns and section labels."""

    language: str
    direction: str
    strings: Mapping[str, str]
    dates: Mapping[str, str]
    sections: Mapping[str, str] = field(default_factory=dict)
    source: str = ""
    #: The web pages' strings ([web]); keys left out are absent here.
    web: Mapping[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        return self.strings[key]

    def text(self, key: str, **values: str) -> str:
        """The string for `key` with its fields filled in (plain text)."""
        return self.strings[key].format(**values)

    def section(self, name: str) -> str:
        return self.sections.get(name, name)

    def edition_date(self, day: date) -> str:
        return format_date(day, self.dates["edition"], locale=self.language)

    def story_time(self, moment: datetime, edition_day: date, timezone: str) -> str:
        """The story's local time and the zone's short name ("6:30 AM GMT+3"); its day too
        when that is not the edition's day in that zone."""
        zone = ZoneInfo(timezone)
        local = moment.astimezone(zone)
        pattern = self.dates["time"] if local.date() == edition_day else self.dates["day_time"]
        shown = format_datetime(moment, pattern, tzinfo=zone, locale=self.language)
        return f"{shown} {zone_abbreviation(local)}"


def zone_abbreviation(local: datetime) -> str:
    """The tz database's short name of the zone at that moment ("EDT", "BST", "UTC"); zones
    with no letters there ("+03") are written "GMT+3", as mail clients and phones do."""
    name = local.tzname() or "UTC"
    if name[:1] not in "+-":
        return name
    sign, digits = name[0], name[1:]
    hours, minutes = digits[:2].lstrip("0") or "0", digits[2:4]
    return f"GMT{sign}{hours}" + (f":{minutes}" if minutes and minutes != "00" else "")


def catalogue_dirs(extra: Sequence[Path] = ()) -> list[Path]:
    """Where catalogues are looked up, first match wins."""
    return [*extra, PACKAGED_LOCALES]


def known_languages(extra: Sequence[Path] = ()) -> list[str]:
    found = {path.stem for folder in catalogue_dirs(extra) for path in folder.glob("*.toml")}
    return sorted(found)


def catalogue(language: str, extra: Sequence[Path] = ()) -> Catalogue:
    """The catalogue of `language`, checked; RenderError names the file and key at fault."""
    for folder in catalogue_dirs(extra):
        path = folder / f"{language}.toml"
        if path.is_file():
            return _load(path, language)
    raise RenderError(
        f"no catalogue for language {language!r}",
        hint=f"known: {', '.join(known_languages(extra))}; add locale/{language}.toml "
        "to the templates folder",
    )


def _load(path: Path, language: str) -> Catalogue:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise RenderError(f"{path}: cannot read catalogue: {e}") from e
    try:
        locale = Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        raise RenderError(f"{path}: babel has no locale data for {language!r}") from None
    strings = _table(document, "strings", path)
    dates = _table(document, "dates", path)
    sections = _table(document, "sections", path, required=False)
    meta = _table(document, "meta", path, required=False)
    web = _table(document, "web", path, required=False)
    for key in sorted(set(document) - {"strings", "dates", "sections", "meta", "web"}):
        raise RenderError(f"{path}: unknown table [{key}]")
    _check_strings(strings, path)
    _check_fields(web, WEB_FIELDS, path, "web", required=False)
    for key in DATE_KEYS:
        if not dates.get(key):
            raise RenderError(f"{path}: [dates] {key}: missing")
        try:
            parse_pattern(dates[key])
        except Exception as e:  # babel raises bare ValueError/TypeError for bad patterns
            raise RenderError(f"{path}: [dates] {key}: bad pattern: {e}") from None
    direction = meta.get("direction") or (
        "rtl" if locale.character_order == "right-to-left" else "ltr"
    )
    if direction not in ("ltr", "rtl"):
        raise RenderError(f'{path}: [meta] direction: expected "ltr" or "rtl", got {direction!r}')
    return Catalogue(language, direction, strings, dates, sections, str(path), web)


def _table(
    document: dict[str, Any], name: str, path: Path, *, required: bool = True
) -> dict[str, str]:
    table = document.get(name)
    if table is None:
        if required:
            raise RenderError(f"{path}: [{name}] table missing")
        return {}
    if not isinstance(table, dict):
        raise RenderError(f"{path}: [{name}] must be a table")
    for key, value in table.items():
        if not isinstance(value, str):
            raise RenderError(f"{path}: [{name}] {key}: expected a string, got {value!r}")
    return table


def _check_strings(strings: Mapping[str, str], path: Path) -> None:
    _check_fields(strings, FIELDS, path, "strings")


def _check_fields(
    strings: Mapping[str, str],
    keys: Mapping[str, frozenset[str]],
    path: Path,
    table: str,
    *,
    required: bool = True,
) -> None:
    """Every key known, every `{field}` allowed; with `required`, every key present."""
    for key, allowed in keys.items():
        if key not in strings:
            if required:
                raise RenderError(f"{path}: [{table}] {key}: missing")
            continue
        try:
            used = {name for _, name, _, _ in string.Formatter().parse(strings[key]) if name}
        except ValueError as e:
            raise RenderError(f"{path}: [{table}] {key}: {e}") from None
        unknown = used - allowed
        if unknown:
            fields = ", ".join("{" + name + "}" for name in sorted(allowed)) or "none"
            raise RenderError(
                f"{path}: [{table}] {key}: unknown field {{{sorted(unknown)[0]}}} "
                f"(allowed: {fields})"
            )
    for key in sorted(set(strings) - set(keys)):
        raise RenderError(f"{path}: [{table}] {key}: unknown key")


def find_catalogue(language: str, extra: Sequence[Path] = ()) -> Catalogue | None:
    """The catalogue of `language`, or None when no folder has one (a broken one raises)."""
    if language in known_languages(extra):
        return catalogue(language, extra)
    return None


def script_direction(language: str) -> str:
    """ "rtl" or "ltr" for a language from babel's locale data (ltr when babel has none)."""
    try:
        locale = Locale.parse(language)
    except (UnknownLocaleError, ValueError, TypeError):
        return "ltr"
    return "rtl" if locale.character_order == "right-to-left" else "ltr"


def direction(language: str, extra: Sequence[Path] = ()) -> str:
    return catalogue(language, extra).direction


def long_date(day: date, language: str, extra: Sequence[Path] = ()) -> str:
    """'Wednesday, Jun 04, 2025' and its equivalent in the edition's language."""
    return catalogue(language, extra).edition_date(day)
