"""An article's language: stated by the entry, the feed, the operator, or detected.

What a feed declares is usually right, but not always: an Arabic item in a feed marked
English belongs in the Arabic edition, right to left. Each item's text is checked, and
an item *clearly* in another of the site's languages is stored with that language.

Two steps keep this cheap. The writing system decides alone where it can (Arabic script
in an English/Arabic site is Arabic; no statistics needed, so a short headline is as
reliable as a long body). Only when it cannot (English or French, both Latin; an Arabic
title in a feed marked English) is the text given to Lingua (`lingua-language-detector`),
a maintained detector built for short text whose models ship inside its wheel (no
download), restricted to the site's languages and loaded on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex

#: The writing system of languages not written in Latin letters (ISO 639-1 codes);
#: every other language is taken to be written in Latin.
_SCRIPT_OF = {
    **dict.fromkeys(("ar", "fa", "ur", "ps", "ug", "sd", "ckb"), "Arabic"),
    **dict.fromkeys(("he", "yi"), "Hebrew"),
    **dict.fromkeys(("ru", "uk", "be", "bg", "mk", "sr", "kk", "ky", "mn", "tg"), "Cyrillic"),
    **dict.fromkeys(("hi", "mr", "ne", "sa"), "Devanagari"),
    "el": "Greek", "hy": "Armenian", "ka": "Georgian", "bn": "Bengali", "gu": "Gujarati",
    "pa": "Gurmukhi", "ta": "Tamil", "te": "Telugu", "kn": "Kannada", "ml": "Malayalam",
    "th": "Thai", "lo": "Lao", "km": "Khmer", "my": "Myanmar", "am": "Ethiopic",
    "ko": "Hangul", "zh": "Han", "ja": "Han",
}  # fmt: skip
#: Japanese kana count as Han for telling scripts apart (Japanese mixes the three).
_SCRIPT_PATTERN = {
    "Han": r"[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]",
}
#: How much of the text the checks read: a headline and the opening of the summary.
TEXT_SAMPLE = 400
#: Re-tagging needs this many letters and this much of the detector's confidence.
MIN_LETTERS = 12
MIN_CONFIDENCE = 0.9


@dataclass(frozen=True)
class LanguageChoice:
    """The language to store, and whether it overrode what the item or feed declared."""

    code: str
    retagged: bool = False


def script_of(language: str) -> str:
    """The writing system of an ISO 639-1 language code ("Latin" unless listed)."""
    return _SCRIPT_OF.get(language, "Latin")


@lru_cache(maxsize=32)
def _letters(script: str) -> Any:
    return regex.compile(_SCRIPT_PATTERN.get(script, rf"\p{{Script={script}}}"))


def _script_counts(text: str, languages: tuple[str, ...]) -> dict[str, int]:
    """Letters of each site language's script in `text` (only those scripts are counted)."""
    sample = text[:TEXT_SAMPLE]
    scripts = dict.fromkeys(script_of(code) for code in languages)
    return {script: len(_letters(script).findall(sample)) for script in scripts}


@lru_cache(maxsize=64)
def _other_scripts(declared: str, languages: tuple[str, ...]) -> Any:
    """A pattern for letters of the site's scripts other than `declared`'s, or None when
    another site language shares `declared`'s script (only a detector can tell them)."""
    script = script_of(declared)
    if any(script_of(code) == script for code in languages if code != declared):
        return None
    others = {script_of(code) for code in languages} - {script}
    return regex.compile("|".join(_letters(other).pattern for other in sorted(others)))


def _agrees(title: str, declared: str, languages: tuple[str, ...]) -> bool:
    """True when the title has letters only of the declared language's script, and no
    other site language is written in that script: nothing to detect."""
    others = _other_scripts(declared, languages)
    return (
        others is not None
        and others.search(title[:TEXT_SAMPLE]) is None
        and _letters(script_of(declared)).search(title) is not None
    )


def normalise_language(value: object, languages: tuple[str, ...]) -> str | None:
    """'en-US', 'EN_gb' -> 'en' when 'en' is configured; None when not a site language."""
    if not value or not isinstance(value, str):
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in languages else None


def detect_language(text: str, languages: tuple[str, ...]) -> str:
    """The site language `text` is written in; the first site language if unsure."""
    return choose_language([], languages, lambda: text, title=text).code


def choose_language(
    candidates: list[object],
    languages: tuple[str, ...],
    text: Callable[[], str],
    *,
    title: str = "",
) -> LanguageChoice:
    """The declared language (first candidate that is a site language) unless the text is
    clearly in another site language; with none declared, the detected one.

    `title` is read first (cheap); `text()` (title and summary as plain text) is built only
    when the title's script does not settle it. Raises nothing: unsure means declared.
    """
    declared = next(
        (code for code in (normalise_language(c, languages) for c in candidates) if code), None
    )
    if len(languages) < 2:
        return LanguageChoice(declared or languages[0])
    if declared is not None and title and _agrees(title, declared, languages):
        return LanguageChoice(declared)  # the usual case, settled by one regex search
    counts = _script_counts(title, languages) if title else {}
    if not any(counts.values()):
        full = text()
        counts = _script_counts(full, languages)
    else:
        full = ""
    letters = sum(counts.values())
    if not letters:
        return LanguageChoice(declared or languages[0])
    script = max(counts, key=lambda key: counts[key])
    written = [code for code in languages if script_of(code) == script]
    if declared is None:
        if len(written) == 1:
            return LanguageChoice(written[0])
        found = _detect(full or text(), tuple(written))
        return LanguageChoice(found[0] if found else written[0])
    if written == [declared]:
        return LanguageChoice(declared)  # the script says what the feed says
    full = full or text()
    if sum(_script_counts(full, languages).values()) < MIN_LETTERS:
        return LanguageChoice(declared)  # too little text to overrule the feed
    found = _detect(full, tuple(dict.fromkeys((*written, declared))))
    if found and found[0] != declared and found[1] >= MIN_CONFIDENCE:
        return LanguageChoice(found[0], retagged=True)
    return LanguageChoice(declared)


def _detect(text: str, languages: tuple[str, ...]) -> tuple[str, float] | None:
    """Lingua's most likely language of `text` among `languages`, with its confidence."""
    detector = _detector(languages)
    if detector is None:
        return None
    values = detector.compute_language_confidence_values(text[:TEXT_SAMPLE])
    if not values:
        return None
    best = values[0]
    return best.language.iso_code_639_1.name.lower(), float(best.value)


@lru_cache(maxsize=16)
def _detector(languages: tuple[str, ...]) -> Any:
    """A Lingua detector for the site languages it knows (None if fewer than two)."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder  # loaded on first use

    known = []
    for code in languages:
        try:
            known.append(Language.from_iso_code_639_1(IsoCode639_1.from_str(code)))
        except ValueError:
            continue  # a site language Lingua does not know: the script decides alone
    if len(known) < 2:
        return None
    return LanguageDetectorBuilder.from_languages(*known).build()
