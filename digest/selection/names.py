"""Names and figures: the terms that say who, where and how many, told from the rest.

Two reports of one event name the same people, places and organisations and give the
same figures, and they tell the same happening. Two events of one kind (two earthquakes,
two elections) share the words of the kind and not the names; two events of one actor
(Taiwan's earthquake and Taiwan's election) share the name and not the happening. One
cosine over all terms cannot tell these apart from the first: a long report of another
earthquake shares as much weight as a second report of this one. So `digest articles
related` measures the two sides separately and asks for both (`facet_cosine`): overlap of
names, places and figures, the strong same-event cue, and of the event's own words.

A name is a word written with a capital letter inside a sentence (not its first word,
and not in a headline, where newsrooms capitalise every word), or a word with a digit.
A script without letter case (Arabic) shows no names that way: there a name is a word
with a digit or a place Unicode CLDR names in the language (`places`), countries and
cities being the names most news shares; its people and organisations go unseen, and
count with the happening.
"""

from __future__ import annotations

import math
import re
import zoneinfo
from collections import Counter
from collections.abc import Iterable
from functools import cache

import regex
from babel import Locale, UnknownLocaleError
from babel.dates import get_timezone_location

from digest.selection.similarity import Vector, Vocabulary

#: Where a sentence's first word starts (after . ! ? or a line break): capitalised by
#: rule, not as a name.
_SENTENCE_STARTS = re.compile(r"(?:^|[.!?\u061f]+[\"'\u201d\u2019)\]]*\s+|\n\s*)\W*(?=\w)")
#: A capitalised word or a word with a digit (4.7bn, 10pm, 2010).
_NAME_OR_FIGURE = re.compile(r"\b[^\W\d_a-z][\w'\u2019-]*|\w*\d[\w.,]*")
_LETTER = regex.compile(r"\p{L}")
_CASED = regex.compile(r"\p{LC}")
#: Characters read to tell the script.
_CASE_SAMPLE = 500
_WORD = re.compile(r"\w+")
_FIGURE = re.compile(r"\w*\d[\w.,]*")
#: One-letter Arabic proclitics: and, with, to, so, as.
_PROCLITICS = frozenset("وبلفك")


def name_words(text: str) -> list[str]:
    """The words of `text` (plain text, not a headline) that are names or figures:
    starting with a capital letter and not the first of their sentence, or holding a
    digit."""
    starts = {match.end() for match in _SENTENCE_STARTS.finditer(text)}
    found = []
    for match in _NAME_OR_FIGURE.finditer(text):
        word = match.group()
        figure = not word[0].isalpha() or any(c.isdigit() for c in word)
        if figure or (word[0].isupper() and match.start() not in starts):
            found.append(word)
    return found


def has_case(text: str) -> bool:
    """Whether most of the letters of `text` (its first `_CASE_SAMPLE` characters) are
    of a script with letter case: an Arabic report quoting "CNN" has none to read."""
    sample = text[:_CASE_SAMPLE]
    return len(_CASED.findall(sample)) * 2 > len(_LETTER.findall(sample))


def names(vocabulary: Vocabulary, text: str, language: str, cased: bool) -> frozenset[int]:
    """The terms of `vocabulary` that `text` writes as a name or figure: `name_words`
    when `cased` (the language's script has letter case, `has_case`); else the words
    with a digit and the place names `places(language)` knows (after a one- or
    two-letter proclitic: و ب ل ف ك, لل for ال)."""
    if cased:
        calendar = calendar_words(language)
        words = {word for word in name_words(text) if word.casefold() not in calendar}
    else:
        known = places(language)
        words = set(_FIGURE.findall(text))
        words.update(word for word in set(_WORD.findall(text)) if _place(word, known))
    if not words:
        return frozenset()
    return frozenset(vocabulary.count("", " ".join(words), len(text) + len(words)).ids)


def _place(word: str, known: frozenset[str]) -> bool:
    """Whether `word` is a place of `known`, maybe behind Arabic proclitics."""
    for cut in range(3):
        if cut and word[cut - 1 : cut] not in _PROCLITICS:
            return False
        rest = word[cut:]
        if rest in known or (rest.startswith("لل") and "ا" + rest[1:] in known):
            return True
    return False


@cache
def places(language: str) -> frozenset[str]:
    """Countries, territories and cities as `language` writes them (Unicode CLDR, through
    Babel: territory names and the time zones' exemplar cities), one word each: a word
    of a name of several words counts only if no other name has it (السعودية of
    المملكة العربية السعودية, not المملكة). Empty for a language CLDR does not know."""
    locale = _locale(language)
    if locale is None:
        return frozenset()
    found = {name for code, name in locale.territories.items() if code.isalpha()}
    for zone in sorted(zoneinfo.available_timezones()):
        try:
            city = get_timezone_location(zone, locale=locale, return_city=True)
        except (LookupError, ValueError):
            continue
        found.add(city)
    words = Counter(word for name in found for word in set(name.split()))
    return frozenset(word for word, count in words.items() if count == 1)


def _part(weights: Iterable[tuple[int, float]]) -> dict[int, float]:
    """A part of a vector, normalised again (empty when it has no weight)."""
    kept = dict(weights)
    norm = math.sqrt(sum(w * w for w in kept.values()))
    return {term: w / norm for term, w in kept.items()} if norm else {}


def facet_cosine(query: dict[int, float], vector: Vector, names: frozenset[int]) -> float:
    """Geometric mean of two cosines, 0..1: over the terms in `names` (who, where, how
    many) and over the others (what happened), each part of `query` and `vector`
    normalised on its own. Zero when either side shares nothing: a report that names
    none of the event's people, or tells none of its happening, is of another event."""
    pairs = list(zip(vector.ids, vector.weights, strict=True))
    named = _part((t, w) for t, w in pairs if t in names)
    other = _part((t, w) for t, w in pairs if t not in names)
    query_named = _part((t, w) for t, w in query.items() if t in names)
    query_other = _part((t, w) for t, w in query.items() if t not in names)
    on_names = sum(w * query_named.get(t, 0.0) for t, w in named.items())
    on_rest = sum(w * query_other.get(t, 0.0) for t, w in other.items())
    return min(1.0, math.sqrt(max(on_names, 0.0) * max(on_rest, 0.0)))


@cache
def calendar_words(language: str) -> frozenset[str]:
    """Names of the days and months in `language`, full and abbreviated, casefolded
    (Unicode CLDR, through Babel): capitalised in English, and shared by every event of
    the same Sunday. Empty for a language CLDR does not know."""
    locale = _locale(language)
    if locale is None:
        return frozenset()
    found: set[str] = set()
    for table in (locale.days, locale.months):
        for context in table.values():
            for width in ("wide", "abbreviated"):
                found.update(name.casefold() for name in context.get(width, {}).values())
    return frozenset(found)


def _locale(language: str) -> Locale | None:
    """The CLDR locale of a language tag ("ar", "en-GB"), or None if unknown."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return None
