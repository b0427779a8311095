"""An article's language: stated by the entry, the feed, the operator, or detected."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

#: Script markers checked in order; the site's languages decide which apply.
_SCRIPT_LANGUAGES = {"ARABIC": ("ar", "fa", "ur"), "HEBREW": ("he",), "CYRILLIC": ("ru", "uk")}


def detect_language(text: str, languages: tuple[str, ...]) -> str:
    """The configured language whose script dominates `text`; the first one if unsure.

    Telling English from Arabic needs no statistics: the script decides, so a short
    headline is classified as reliably as a long body.
    """
    counts: dict[str, int] = {}
    for ch in text[:2000]:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        script = name.split(" ", 1)[0]
        counts[script] = counts.get(script, 0) + 1
    if counts:
        script = max(counts, key=lambda key: counts[key])
        for code in _SCRIPT_LANGUAGES.get(script, ()):
            if code in languages:
                return code
        if script == "LATIN":
            for code in languages:
                if not any(code in codes for codes in _SCRIPT_LANGUAGES.values()):
                    return code
    return languages[0]


def normalise_language(value: object, languages: tuple[str, ...]) -> str | None:
    """'en-US', 'EN_gb' -> 'en' when 'en' is configured; None when not a site language."""
    if not value or not isinstance(value, str):
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in languages else None


def choose_language(
    candidates: list[object], languages: tuple[str, ...], text: Callable[[], str]
) -> str:
    """The first candidate that is a site language, else the one detected from `text()`.

    `text` is a callable because building the text costs more than most choices need.
    """
    for candidate in candidates:
        language = normalise_language(candidate, languages)
        if language:
            return language
    return detect_language(text(), languages)
