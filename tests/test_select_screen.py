"""The headline screen (`selection.screen`): where the wanted words stand among tens of
thousands of headlines, and which headlines each query keeps. ASCII headlines are read
as bytes, by fingerprint: the places must be exactly those that tokenising every word
gives (`text.words_of_joined_lines`), whatever the headlines hold, and the choice
exactly that of scoring each headline in turn."""

from __future__ import annotations

import heapq
import random
from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from digest.selection import screen
from digest.selection.screen import screened, word_places
from digest.selection.text import LINE_END, joined_lines, normalise, words_of_joined_lines

_WORDS = [
    "iran", "iranian", "irans", "ran", "an", "a", "i", "x", "us", "u", "s", "u.s.", "U.S",
    "tariff", "tariffs", "Tariff", "TARIFFS", "2025", "20", "7", "g7", "covid-19", "covid",
    "19", "Trump's", "trump", "trumps", "opec+", "e-mail", "email", "mail", "longest",
    "supercalifragilisticexpialidocious", "ab", "abc", "abcd", "abcde", "abcdef", "dcba",
    "bbbb", "bbbbb", "bbbbbb", "fed", "feds", "federal", "...", "--", "'", "\"quoted\"",
    "M&A", "AT&T", "at", "t", "q&a",
]  # fmt: skip


def _reference_places(joined: str, wanted: Mapping[str, int]) -> list[tuple[int, int]]:
    """(line, term) of each wanted word, by tokenising every word."""
    places, line = [], 0
    for token in words_of_joined_lines(joined):
        if token == LINE_END:
            line += 1
        elif token in wanted:
            places.append((line, wanted[token]))
    return places


def _headlines(rng: random.Random, count: int) -> list[str]:
    return [
        " ".join(rng.choice(_WORDS) for _ in range(rng.randint(0, 12))) + rng.choice(["", "?", "."])
        for _ in range(count)
    ]


def _wanted(rng: random.Random, headlines: Sequence[str]) -> dict[str, int]:
    words = sorted({w for h in headlines for w in words_of_joined_lines(normalise(h))})
    words += ["absent", "iranians", "b", "zz"]
    return {word: rng.randrange(40) for word in rng.sample(words, min(len(words), 12))}


def _places(joined: str, wanted: Mapping[str, int]) -> list[tuple[int, int]]:
    lines, terms = word_places(joined, wanted)
    assert lines.dtype == np.int64 and terms.dtype == np.int64
    return list(zip(lines.tolist(), terms.tolist(), strict=True))


@pytest.mark.parametrize("seed", range(12))
def test_ascii_places_are_those_of_every_word(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(screen, "_SLICE", [1 << 15, 64, 1][seed % 3])  # one slice, several
    rng = random.Random(seed)
    headlines = _headlines(rng, 300)
    joined = joined_lines(headlines)
    assert normalise(joined).isascii()
    wanted = _wanted(rng, headlines)
    assert _places(joined, wanted) == _reference_places(joined, wanted)
    assert _reference_places(joined, wanted)  # the check had words to find


@pytest.mark.parametrize("seed", range(4))
def test_every_word_a_candidate_still_finds_only_the_wanted(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a fingerprint table of two slots nearly every word's fingerprint is a wanted
    word's: each candidate must be read and checked, not taken on its fingerprint."""
    monkeypatch.setattr(screen, "_TABLE_BITS", 1)
    rng = random.Random(100 + seed)
    headlines = _headlines(rng, 200)
    joined = joined_lines(headlines)
    wanted = _wanted(rng, headlines)
    assert _places(joined, wanted) == _reference_places(joined, wanted)


def test_words_alike_at_both_ends_are_told_apart() -> None:
    """Same length, same first and last four bytes, a different middle: one fingerprint."""
    headlines = ["abcdXXXXwxyz abcdYYYYwxyz", "abcdXXXXwxyz", "abcdYwxyz abcdYYYYwxyz"]
    joined = joined_lines(headlines)
    wanted = {"abcdyyyywxyz": 5}
    assert _places(joined, wanted) == [(0, 5), (2, 5)]


def test_other_scripts_and_edges() -> None:
    headlines = ["إيران تعلن", "Iran says", "", "  ", "ايران"]
    joined = joined_lines(headlines)
    wanted = {"ايران": 1, "iran": 2}
    assert _places(joined, wanted) == _reference_places(joined, wanted) == [(0, 1), (1, 2), (4, 1)]
    assert _places("", wanted) == []
    assert _places(joined_lines(["iran"]), {}) == []
    first = joined_lines(["iran", "x iran"])
    assert _places(first, {"iran": 3}) == [(0, 3), (1, 3)]
    # A line end asked for as a word is never found, by bytes or by tokens.
    for lines in (["iran", "us"], ["ايران", "us"]):
        joined = joined_lines(lines)
        assert _places(joined, {LINE_END: 7, "iran": 1}) == _reference_places(joined, {"iran": 1})


def _reference_screen(
    lines: Sequence[int],
    terms: Sequence[int],
    ids: Sequence[int],
    keys: Sequence[Mapping[int, float]],
    limit: int,
) -> list[int]:
    """Each line scored in turn, a heap per query."""
    terms_by_line: dict[int, set[int]] = {}
    for line, term in zip(lines, terms, strict=True):
        terms_by_line.setdefault(line, set()).add(term)
    best: list[list[tuple[float, int]]] = [[] for _ in keys]
    for line, found in terms_by_line.items():
        for number, key in enumerate(keys):
            score = sum(key.get(term, 0.0) for term in sorted(found))
            if score > 0.0:
                heap, entry = best[number], (score, -ids[line])
                if len(heap) < limit:
                    heapq.heappush(heap, entry)
                elif entry > heap[0]:
                    heapq.heapreplace(heap, entry)
    return sorted({-negated for heap in best for _, negated in heap})


@pytest.mark.parametrize("seed", range(20))
def test_screened_is_each_headline_scored_in_turn(seed: int) -> None:
    rng = random.Random(seed)
    count = rng.randint(1, 400)
    ids = rng.sample(range(1, 10 * count), count)
    places = sorted(
        (rng.randrange(count), rng.randrange(30)) for _ in range(rng.randint(1, 3 * count))
    )
    lines, terms = [line for line, _ in places], [term for _, term in places]
    weights = [0.5, 0.25, 0.1, 1 / 3, 0.0]  # few values: many equal scores
    keys = [
        {term: rng.choice(weights) for term in rng.sample(range(35), 12)}
        for _ in range(rng.randint(1, 6))
    ]
    limit = rng.randint(1, 30)
    found = screened(np.asarray(lines), np.asarray(terms), ids, keys, limit)
    assert found == _reference_screen(lines, terms, ids, keys, limit)


def test_equal_scores_go_to_the_smaller_id() -> None:
    ids = [50, 10, 40, 20, 30]
    lines, terms = np.arange(5), np.zeros(5, dtype=np.int64)
    assert screened(lines, terms, ids, [{0: 1.0}], 2) == [10, 20]
    assert screened(lines, terms, ids, [{0: 0.0}, {1: 1.0}], 2) == []
    assert screened(np.zeros(0, np.int64), np.zeros(0, np.int64), ids, [{0: 1.0}], 2) == []


_OTHERS = [
    "café", "Pokémon", "São", "Paulo", "naïve", "Zürich", "Ærø", "straße", "İstanbul",
    "e\u0301t\u0301e", "٢٠٢٥", "ايران", "إيران", "東京", "🙂", "🙂iran", "iran🙂", "«iran»",
    "iran\u2014tariff", "\u00a0", "x\u200bz", "½", "²", "Ⅻ", "ﬁnal", "Ｔｅｓｔ", "\ud800",
    "a\ud800b",
]  # fmt: skip


@pytest.mark.parametrize("seed", range(12))
def test_latin_headlines_with_other_characters(seed: int) -> None:
    """Accents, symbols, emoji, marks, another script's word here and there (a few in
    a headline, as English news has them): read by bytes, the same places."""
    rng = random.Random(200 + seed)
    headlines = [
        " ".join(rng.choice(_WORDS if rng.random() < 0.97 else _OTHERS) for _ in range(8))
        for _ in range(300)
    ]
    joined = joined_lines(headlines)
    encoded = normalise(joined).encode("utf-8", "surrogatepass")
    assert screen._other_scripts_spaced(encoded) is not None  # read by bytes
    words = sorted({w for h in headlines for w in words_of_joined_lines(normalise(h))})
    wanted = {w: n for n, w in enumerate(words) if not w.isascii() or rng.random() < 0.2}
    assert any(not word.isascii() for word in wanted)
    assert _places(joined, wanted) == _reference_places(joined, wanted)


def test_another_scripts_headlines_are_tokenised() -> None:
    headlines = ["إيران تعلن عن اتفاق", "ترامب: الرسوم الجمركية", "Iran"] * 20
    joined = joined_lines(headlines)
    assert screen._other_scripts_spaced(normalise(joined).encode("utf-8")) is None
    wanted = {"ايران": 1, "اتفاق": 2, "iran": 3, "ترامب": 4}
    assert _places(joined, wanted) == _reference_places(joined, wanted)
