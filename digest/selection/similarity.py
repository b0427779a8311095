"""Content similarity: TF-IDF cosine over headline, summary and the opening of the body.

Why this measure: it is bounded (0..1, so a floor means the same thing on every day), it
rewards sharing the words that are rare in the day's news (names, places, the event)
over the words every story has, it needs no trained model or numeric library, and it is
deterministic. Details:

- Term weight = (1 + ln tf) x idf, idf = ln((1 + N) / (1 + df)) + 1 (smoothed, so a term
  in every document still counts a little); each article keeps its `MAX_TERMS` heaviest
  terms (the rest are the common words that move a cosine least), L2-normalised, so
  cosine = dot product.
- The headline counts `TITLE_WEIGHT` times: it names the event; bodies drift into
  background.
- Of summary and body together only the first `OPENING_CHARS` characters are read (and
  `TITLE_CHARS` of the headline): news is written lede first, and it bounds the cost.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from itertools import filterfalse, pairwise, repeat
from operator import mul, neg, truediv
from typing import NamedTuple

import numpy as np

from digest.selection.country_names import ALIASES
from digest.selection.places import bare_country_stems, city_of, country_of
from digest.selection.text import PackedWords, is_term, stem, stem_all, words

TITLE_WEIGHT = 2
TITLE_CHARS = 300
OPENING_CHARS = 320
MAX_TERMS = 32
#: `digest articles related` reads whole texts (`related.py`): this much of summary and
#: body (as `names.NAMES_CHARS`: past it a long report tells background; 12,000 lost
#: every partner of a breaker pass's 3,500-word reports), keeping this many terms (a
#: long report names more than 32 things).
FULL_CHARS = 4_000
FULL_TERMS = 200
#: Words of a whole text, after its headline, whose terms weigh in full
#: (`Vocabulary.count_whole`): about the length of a short news report.
LEAD_WORDS = 250
#: Related means sharing at least this many terms: one shared word, however rare in a
#: small corpus ("opens", a first name), is a coincidence as often as a story.
RELATED_MIN_TERMS = 2

#: One-letter Arabic proclitics (to, with, as, so) that light10 leaves on a word: a stem
#: of five letters or more that starts with one shares the term of the stem without it,
#: whichever is seen first (on bench/related_eval.py's Arabic pairs: 10/12 -> 11/12);
#: so does a shorter one when the rest is a country's name (بمصر, لقطر:
#: `places.bare_country_stems`), where a short native word would not (بعد is not ب+عد).
_ARABIC_PROCLITICS = frozenset("لبكف")

#: Arabic long vowels, which transliterations of one name put in or leave out.
_LONG_VOWELS = frozenset("اوي")
#: Arabic stems a long vowel apart are joined when the longer has more letters than this.
_SPELLING_MIN = 4

#: Endings that make a demonym of a place name: Iran-ian, Syria-n, Israel-i, Sudan-ese.
_DEMONYM_SUFFIXES = ("ian", "an", "n", "i", "ese", "ish")

#: 1 + ln(tf) for every count a capped headline and opening can produce.
LOG_TF = [0.0] + [1.0 + math.log(n) for n in range(1, TITLE_CHARS * TITLE_WEIGHT + FULL_CHARS + 1)]


#: The shortest part of a word written as two ("mt" of "mtgox").
_COMPOUND_PART = 2


class TermCounts(NamedTuple):
    """A document's terms (ids) and how often each occurs, headline weighted; `lead`,
    when given, a weight (0..1] per term for how far into the text it first appears
    (`Vocabulary.count_whole`)."""

    ids: tuple[int, ...]
    counts: tuple[int, ...]
    lead: tuple[float, ...] = ()


class Vector(NamedTuple):
    """An L2-normalised sparse vector: term ids and their weights, heaviest first."""

    ids: tuple[int, ...]
    weights: tuple[float, ...]

    def as_dict(self) -> dict[int, float]:
        return dict(zip(self.ids, self.weights, strict=True))


EMPTY = Vector((), ())


def opening(summary_text: str, body: str) -> str:
    """The lede: summary then body, cut to `OPENING_CHARS` at a word boundary."""
    text = f"{summary_text} {body}" if body else summary_text
    if len(text) <= OPENING_CHARS:
        return text
    cut = text.rfind(" ", 0, OPENING_CHARS)
    return text[: cut if cut > 0 else OPENING_CHARS]


class Vocabulary:
    """Words to term ids for one selection run; grows as texts are read.

    Stop words map to -1. Mapping is done with C-level built-ins (map, Counter) because
    a selection reads tens of thousands of articles and a Python loop per word is the
    cost that matters.
    """

    def __init__(self, *, arabic_places: bool = False) -> None:
        #: Whether an Arabic country's adjective and a city word have terms of their
        #: own (`_learn`): for `articles related`, whose names step reads places. An
        #: edition's event tests take a word most of an event's reports share for its
        #: keyword, and a country or city shared by several of a thin day's events
        #: became one (a breaker pass: a heat wave in Riyadh and a ministers' meeting
        #: there, one story), so an edition reads words by their light stems alone.
        self._arabic_places = arabic_places
        self._word_terms: dict[str, int] = {}
        self._term_ids: dict[str, int] = {}
        #: Stems a demonym seen so far would come from ("iran" for "iranian").
        self._places: dict[str, int] = {}
        #: Arabic stems seen so far with a one-letter proclitic, without it.
        self._clitic_bases: dict[str, int] = {}
        #: Arabic stems seen so far, and each with one long vowel left out.
        self._spellings: dict[str, int] = {}

    def __len__(self) -> int:
        return len(set(self._term_ids.values()))

    def _learn(self, tokens: list[str]) -> None:
        """Give new words their term (in order of appearance, so ids are reproducible);
        with `arabic_places`, an Arabic country's nisba adjective counts as the country
        (`places.country_of`: التركية as تركيا), and an Arabic city word as the city,
        not its light stem (`places.city_of`: بالرياض as الرياض, not as الرياضة)."""
        known, terms = self._word_terms, self._term_ids
        new = list(dict.fromkeys(filterfalse(known.__contains__, tokens)))
        stems = stem_all(new)
        for word, stemmed in zip(new, stems, strict=True):
            if not is_term(word):
                known[word] = -1
                continue
            if self._arabic_places and not word.isascii():
                country = country_of(word)
                stemmed = city_of(word) or (stemmed if country is None else stem(country))
            stemmed = ALIASES.get(stemmed, stemmed)  # "UK" and "British" as "Britain"
            term = terms.get(stemmed)  # a stem seen already (of "erupts", "eruption")
            known[word] = self._term_of(stemmed, word) if term is None else term

    def _term_of(self, stemmed: str, word: str) -> int:
        """The term of a stem; an English demonym and its place share one (Iranian, Iran),
        whichever comes first (the demonym's ending is read off the word, not its stem:
        the stemmer cuts "Israeli" to "isra")."""
        terms = self._term_ids
        term = terms.get(stemmed)
        if term is not None:
            return term
        if stemmed.isascii():
            return self._english_term(stemmed, word)
        if stemmed[:1] in _ARABIC_PROCLITICS and (
            len(stemmed) >= 5 or stemmed[1:] in bare_country_stems()
        ):
            term = terms.get(stemmed[1:])  # لتايوان ("to Taiwan") after تايوان
            if term is None:
                term = len(terms)
                self._clitic_bases.setdefault(stemmed[1:], term)
            terms[stemmed] = term
            return term
        term = self._clitic_bases.get(stemmed)  # تايوان after لتايوان
        if term is not None:
            terms[stemmed] = term
            return term
        if len(stemmed) >= _SPELLING_MIN:
            return self._spelling_of(stemmed)
        term = terms[stemmed] = len(terms)
        return term

    def _english_term(self, stemmed: str, word: str) -> int:
        """`_term_of` a new ASCII stem: a demonym's place's, or a new one."""
        terms = self._term_ids
        # The base of an Arabic proclitic on a Latin word (a token of mixed script).
        term = self._clitic_bases.get(stemmed)
        if term is not None:
            terms[stemmed] = term
            return term
        term = self._places.get(stemmed)  # a demonym of this place came first
        bases: list[str] = []
        if word.endswith(_DEMONYM_SUFFIXES):
            bases = [
                word[: -len(suffix)]
                for suffix in _DEMONYM_SUFFIXES
                if word.endswith(suffix) and len(word) - len(suffix) >= 4
            ]
            if word.endswith("ese"):  # China and Chinese, Malta and Maltese
                bases.append(word[:-3] + "a")
            if term is None:
                term = next((terms[base] for base in bases if base in terms), None)
        if term is None:
            term = len(terms)
        terms[stemmed] = term
        for base in bases:
            self._places.setdefault(base, term)
        return term

    def _spelling_of(self, stemmed: str) -> int:
        """The term of an Arabic stem, shared with a stem seen before that is the same
        word spelt with one long vowel more or less: transliterated names and loanwords
        are spelt differently by different newsrooms (ترمب and ترامب, الأميركي and
        الأمريكي, whose stems both lose one ي to امرك). Only where the longer stem has
        more than `_SPELLING_MIN` letters: a short native word and the one a vowel away
        are often two words (عالم "world" and علم "flag")."""
        terms = self._term_ids
        skeletons = [
            stemmed[:i] + stemmed[i + 1 :]
            for i in range(1, len(stemmed) - 1)
            if stemmed[i] in _LONG_VOWELS and len(stemmed) > _SPELLING_MIN
        ]
        term = self._spellings.get(stemmed)  # ترمب after ترامب
        for skeleton in skeletons:
            if term is None:
                term = terms.get(skeleton, self._spellings.get(skeleton))
        if term is None:
            term = len(terms)
        terms[stemmed] = term
        self._spellings.setdefault(stemmed, term)
        for skeleton in skeletons:
            self._spellings.setdefault(skeleton, term)
        return term

    def count(self, title: str, text: str, chars: int = OPENING_CHARS) -> TermCounts:
        """Term counts of one document: headline words count `TITLE_WEIGHT` times; of
        `text`, the first `chars` characters are read."""
        tokens = words(matching_text(title, text, chars))
        known = self._word_terms
        if set(tokens).difference(known):
            self._learn(tokens)
        tally = Counter(map(known.__getitem__, tokens))
        tally.pop(-1, None)
        return TermCounts(tuple(tally), tuple(tally.values()))

    def count_whole(self, title: str, text: str) -> TermCounts:
        """`count` of a whole text (`FULL_CHARS`), each term weighed by where it first
        appears: 1 in the headline and the first `LEAD_WORDS` words of `text`, then
        `LEAD_WORDS` / its first word's position. News is written event first; a long
        report goes on into background (history, earlier events, analysis) whose many
        words would otherwise outweigh the event's and hide its second report."""
        headline = words(matching_text(title, "", 0))
        tokens = headline + words(text[:FULL_CHARS])
        known = self._word_terms
        try:  # most words of a text are known: a failed lookup is cheaper than a set
            terms = list(map(known.__getitem__, tokens))
        except KeyError:
            self._learn(tokens)
            terms = list(map(known.__getitem__, tokens))
        tally = Counter(terms)
        tally.pop(-1, None)
        start = len(headline)
        if len(terms) - start <= LEAD_WORDS:  # a short text weighs in full
            return TermCounts(tuple(tally), tuple(tally.values()))
        # Each term's first position, in the order `tally` has its terms (that of first
        # appearance): the sorted first places of the distinct terms, stop words' out.
        numbers = np.asarray(terms, dtype=np.int64)
        places = np.sort(np.unique(numbers, return_index=True)[1])
        places = places[numbers[places] >= 0]
        lead = np.minimum(1.0, LEAD_WORDS / np.maximum(places - start, 1))
        return TermCounts(tuple(tally), tuple(tally.values()), tuple(lead.tolist()))

    def count_words(self, packed: PackedWords) -> TermCounts:
        """`count` of a document whose words are counted already (`text.word_counts` of
        its `matching_text`, packed)."""
        document = packed.unpack()
        known = self._word_terms
        if not known.keys() >= set(document.words):
            self._learn(list(document.words))
        tally: Counter[int] = Counter()
        for word, count in zip(document.words, document.counts, strict=True):
            tally[known[word]] += count
        return TermCounts(tuple(tally), tuple(tally.values()))

    def headline_terms(self, title: str) -> frozenset[int]:
        """The terms of a headline, with names written as one word or two made equal:
        two adjacent words whose concatenation the corpus knows as one word add that
        word's term ("Mt Gox" and "MtGox", "Wal Mart" and "Walmart"), and a word the
        corpus also writes as two known words adds their terms. Spelling of compound
        names varies between newsrooms; a headline has too few words to lose one."""
        counts = self.count(title, "")
        found = set(counts.ids)
        known = self._word_terms
        tokens = words(title[:TITLE_CHARS])
        for first, second in pairwise(tokens):
            term = known.get(first + second, -1)
            if term >= 0:
                found.add(term)
        for token in tokens:
            for cut in range(_COMPOUND_PART, len(token) - _COMPOUND_PART + 1):
                head = known.get(token[:cut], -1)
                if head < 0:  # the tail is read only after a known head
                    continue
                tail = known.get(token[cut:], -1)
                if tail >= 0:
                    found.update((head, tail))
        return frozenset(found)

    def words_of(self, terms: Iterable[int]) -> dict[str, int]:
        """Every word seen so far that stands for one of `terms`, with its term."""
        wanted = set(terms)
        return {word: term for word, term in self._word_terms.items() if term in wanted}


class Weighting:
    """Inverse document frequencies from a sample of documents (the day's news)."""

    def __init__(
        self,
        sample: Iterable[TermCounts],
        *,
        frequencies: Counter[int] | None = None,
        documents: int = 0,
    ) -> None:
        if frequencies is None:
            frequencies = Counter()
            for counts in sample:
                frequencies.update(counts.ids)
                documents += 1
        self.documents = documents
        #: Weight of a term the sample never saw: as rare as can be.
        self.unseen = math.log(1 + documents) + 1.0
        self._idf = [self.unseen] * (max(frequencies, default=-1) + 1)
        for term, df in frequencies.items():
            self._idf[term] = math.log((1 + documents) / (1 + df)) + 1.0

    def vector(self, counts: TermCounts, terms: int = MAX_TERMS) -> Vector:
        """The normalised vector of a document's `terms` heaviest terms."""
        if not counts.ids:
            return EMPTY
        idf = self._idf
        highest = max(counts.ids)
        if highest >= len(idf):
            idf.extend(repeat(self.unseen, highest + 1 - len(idf)))
        raw = list(
            map(mul, map(LOG_TF.__getitem__, counts.counts), map(idf.__getitem__, counts.ids))
        )
        if counts.lead:
            raw = list(map(mul, raw, counts.lead))
        # Heaviest first, ties by term id: (-weight, id) pairs sort as the key would,
        # without a Python call per comparison.
        heaviest = sorted(zip(map(neg, raw), counts.ids, strict=True))[:terms]
        kept = [-weight for weight, _ in heaviest]
        norm = math.sqrt(sum(map(mul, kept, kept)))
        return Vector(
            tuple(term for _, term in heaviest),
            tuple(map(truediv, kept, repeat(norm, len(kept)))),
        )


def shared_terms(query: dict[int, float], vector: Vector) -> int:
    return sum(map(query.__contains__, vector.ids))


def cosine(query: dict[int, float], vector: Vector) -> float:
    """Cosine of two normalised vectors, summed over `vector`'s terms in order."""
    shared = map(query.get, vector.ids, repeat(0.0, len(vector.ids)))
    return min(1.0, sum(map(mul, vector.weights, shared)))


def matching_text(title: str, text: str, chars: int = OPENING_CHARS) -> str:
    """What a document is matched on: its headline `TITLE_WEIGHT` times, then the first
    `chars` characters of its text."""
    return " ".join([title[:TITLE_CHARS]] * TITLE_WEIGHT + [text[:chars]])
