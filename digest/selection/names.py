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
A script without letter case (Arabic) shows no names that way, nor does a language that
capitalises every noun (German) or a text in capitals or title case throughout: there a
name is a word with a digit or a place Unicode CLDR names in the language (`places`),
countries and cities being the names most news shares, in the headline as well (a
headline misleads by its capitals only), and in Arabic a country's short name and its
adjective (السعودية, التركي); its people and organisations go unseen, and count with
the happening.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import regex

from digest.selection.places import calendar_words, capitals_mark_names, place_words
from digest.selection.similarity import Vector, Vocabulary

#: Where a sentence's first word starts: after . ! ? (not the point of an abbreviation
#: such as "Mr." or "U.S."), a line break, or a dateline's dash ("HERAT, Afghanistan -
#: Powerful ..."). Its first word is capitalised by rule, not as a name.
_SENTENCE_STARTS = re.compile(
    r"(?:^|(?<!\b[A-Z][a-z])(?<!\b[A-Z])[.!?\u061f]+[\"'\u201d\u2019)\]]*\s+|\n\s*"
    r"|\s[-\u2013\u2014]\s+)\W*(?=\w)"
)
#: A capitalised word or a word with a digit (4.7bn, 10pm, 2010).
_NAME_OR_FIGURE = re.compile(r"(\w*\d[\w.,]*)|\b([^\W\d_a-z][\w'\u2019-]*)")
_FIGURE = re.compile(r"\w*\d[\w.,]*")
#: Words of four letters or more needed to judge a text capitalised throughout.
_JUDGED = 12
_LONG_WORD = re.compile(r"\b[^\W\d_]{4,}\b")
_LETTER = regex.compile(r"\p{L}")
_CASED = regex.compile(r"\p{LC}")
#: Characters read to tell the script of a text in a language CLDR does not know.
_CASE_SAMPLE = 500
#: Characters of a text read for names: the event's names come early, and past them a
#: long report names its background (reading 14,000 characters of capitalised text
#: for each of a thousand candidates took seconds).
NAMES_CHARS = 4000


def name_words(text: str) -> list[str]:
    """The words of `text` (plain text, not a headline) that are names or figures:
    starting with a capital letter and not the first of their sentence, or holding a
    digit."""
    starts = {match.end() for match in _SENTENCE_STARTS.finditer(text)}
    found = []
    for match in _NAME_OR_FIGURE.finditer(text):
        figure, word = match.groups()
        if figure:
            found.append(figure)
        elif word[0].isupper() and match.start() not in starts:
            # Bouches-du-Rhône names Bouches and Rhône, not "du"
            found += [part for part in word.split("-") if part[:1].isupper()]
    return found


def headline_names(vocabulary: Vocabulary, title: str, language: str) -> frozenset[int]:
    """The terms a headline writes as a name or a figure: in a cased script, the words
    after its first that start with a capital, and words with a digit. Where capitals
    tell nothing, in a headline in title case (every word of four letters or more after
    the first capitalised: "Nightclub Fire Kills 59 in North Macedonia") or where they
    do not mark names (`by_capitals`: Arabic, German), its figures and the places of
    `places.gazetteer(language)`."""
    if not by_capitals(language, title):
        words = set(_FIGURE.findall(title)) | place_words(title, language)
        return _terms(vocabulary, words, len(title))
    rest = title.strip().partition(" ")[2]  # its first word is capitalised by rule
    long_words = _LONG_WORD.findall(rest)
    words = set(_FIGURE.findall(title))
    if long_words and all(word[0].isupper() for word in long_words):
        return _terms(vocabulary, words | place_words(title, language), len(title))
    for figure, word in _NAME_OR_FIGURE.findall(rest):
        if not figure and word[0].isupper():
            words.update(part for part in word.split("-") if part[:1].isupper())
    return _terms(vocabulary, words, len(title))


def capitalised_throughout(text: str) -> bool:
    """Whether most words of four letters or more in `text` start with a capital (a text
    in capitals, or in title case; judged on `_JUDGED` such words at least, as a
    sentence of names can be mostly capitals): there capitals tell nothing of names."""
    long_words = _LONG_WORD.findall(text)
    capitalised = sum(word[0].isupper() for word in long_words)
    return len(long_words) >= _JUDGED and capitalised * 2 > len(long_words)


def has_case(text: str) -> bool:
    """Whether most of the letters of `text` (its first `_CASE_SAMPLE` characters) are
    of a script with letter case."""
    sample = text[:_CASE_SAMPLE]
    return len(_CASED.findall(sample)) * 2 > len(_LETTER.findall(sample))


def by_capitals(language: str, text: str) -> bool:
    """Whether names are read by their capitals in an article of `language`
    (`places.capitals_mark_names`; for a language CLDR does not know, whether `text`
    is mostly in a cased script). Decided once per article, from its language rather
    than its text: an Arabic report that quotes an English post in its summary is
    still read as Arabic."""
    known = capitals_mark_names(language)
    return has_case(text) if known is None else known


def names(vocabulary: Vocabulary, text: str, language: str, capitals: bool) -> frozenset[int]:
    """The terms of `vocabulary` that the first `NAMES_CHARS` characters of `text` write
    as a name or figure: `name_words` (not days and months) when `capitals`
    (`by_capitals`) and the text is not capitalised throughout; else the words with a
    digit and the places of `places.gazetteer(language)`."""
    return names_and_nouns(vocabulary, text, language, capitals, nouns=False)[0]


#: A word written in lower case (its first letter).
_LOWER_WORD = regex.compile(r"\b\p{Ll}[\w'\u2019-]*")


def names_and_nouns(
    vocabulary: Vocabulary,
    text: str,
    language: str,
    capitals: bool,
    *,
    headline: str = "",
    nouns: bool = True,
) -> tuple[frozenset[int], frozenset[int]]:
    """`names`, and (with `nouns`) the terms the same characters write in lower case and
    never as a name, where names are read by capitals (empty elsewhere). A word one
    report capitalises in a name (the Harlow Bridge) and another writes only as a common
    noun (the old road bridge) is a word of their kind of event, not a name they share;
    a report that writes it both ways (the Harlow Bridge ... the bridge) names it.
    Where names are not read by capitals, `headline`'s figures and places are names too:
    a short Arabic report often names its country in the headline alone, and two rises
    of fuel prices in two countries then share every word of their summaries."""
    text = text[:NAMES_CHARS]
    by_case = capitals and not capitalised_throughout(text)
    if by_case:
        calendar = calendar_words(language)
        words = {word for word in name_words(text) if word.casefold() not in calendar}
    else:
        text = f"{headline}\n{text}" if headline else text
        words = set(_FIGURE.findall(text)) | place_words(text, language)
    named = _terms(vocabulary, words, len(text))
    if not (nouns and by_case):
        return named, frozenset()
    return named, _terms(vocabulary, set(_LOWER_WORD.findall(text)), len(text)) - named


def _terms(vocabulary: Vocabulary, words: set[str], chars: int) -> frozenset[int]:
    if not words:
        return frozenset()
    return frozenset(vocabulary.count("", " ".join(words), chars + len(words)).ids)


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
