"""The headline screen: which archive headlines name a query's heaviest terms.

`corpus.Corpus.search` reads the newest archive in full and screens the older tens of
thousands by headline first (ordinary two-stage retrieval). A screen looks for about a
hundred wanted words among half a million headline words: making every word a string
and looking it up cost more than the rest of the search. Where the headlines are
mostly ASCII once normalised (English news, with an accented name or a symbol here and
there), the words are not made strings: numpy finds each word's bounds in the UTF-8
bytes and a fingerprint of it (its length and its first and last four bytes), and only
the words whose fingerprint a wanted word has (a few in a hundred) are read and looked
up. Another script's headlines are tokenised as `text.words_of_joined_lines` does. Both
give the same places (`tests/test_select_screen.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import repeat

import numpy as np

from digest.selection.text import (
    _ASCII_SPLIT_LINES,
    LINE_END,
    normalise,
    words_of_joined_lines,
)

#: Fingerprints are looked up in a table of this many bits (a power of two).
_TABLE_BITS = 20
#: Words fingerprinted at a time.
_SLICE = 1 << 15
_SPACE = ord(" ")
#: Text with more than one character beyond ASCII in this many bytes is tokenised.
_FEW_OTHERS = 16
#: Spaces around the words: every four-byte read of `_fingerprints` stays inside.
_PAD = b"    "
#: The low 0 to 4 bytes of a 32-bit number.
_LOW_BYTES = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF], dtype=np.uint32)
_LINE_END = ord(LINE_END)


def word_places(joined: str, wanted: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(line, term) of each place a wanted word (normalised, as `Vocabulary.words_of`
    gives them, with its term) occurs in `joined` (`text.joined_lines`: lines ended by
    `LINE_END`), in text order; lines are numbered from 0. Two int64 arrays."""
    normalised = normalise(joined)
    encoded = normalised.encode("utf-8", "surrogatepass")
    if len(encoded) != len(normalised):  # characters beyond ASCII
        worded = _other_scripts_spaced(encoded)
        if worded is None:
            return _by_tokens(joined, wanted)
        encoded = worded
    data = _PAD + encoded.translate(_ASCII_SPLIT_LINES) + _PAD
    buffer = np.frombuffer(data, dtype=np.uint8)
    starts, ends = _word_bounds(buffer)
    # (A line end is never a wanted word, as tokenising reads it: `_by_tokens`.)
    by_bytes = {
        w.encode("utf-8", "surrogatepass"): t for w, t in wanted.items() if w and w != LINE_END
    }
    table = np.zeros(1 << _TABLE_BITS, dtype=bool)
    if by_bytes:
        padded = _PAD.join([b"", *by_bytes, b""])
        table[_fingerprints(padded, *_word_bounds(np.frombuffer(padded, np.uint8)))] = True
    # In slices: the fingerprints' temporaries stay small (no peak of memory).
    found = np.concatenate(
        [
            np.flatnonzero(
                table[_fingerprints(data, starts[at : at + _SLICE], ends[at : at + _SLICE])]
            )
            + at
            for at in range(0, len(starts), _SLICE)
        ]
        or [np.zeros(0, dtype=np.int64)]
    )
    places: list[int] = []
    terms: list[int] = []
    for place, start, end in zip(
        found.tolist(), starts[found].tolist(), ends[found].tolist(), strict=True
    ):
        term = by_bytes.get(data[start:end])
        if term is not None:
            places.append(place)
            terms.append(term)
    line_ends = np.flatnonzero(buffer == _LINE_END)
    at = starts[np.asarray(places, dtype=np.int64)]
    return np.searchsorted(line_ends, at).astype(np.int64), np.asarray(terms, dtype=np.int64)


def _word_bounds(buffer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first byte and the byte after the last of each word of `buffer` (bytes, words
    between spaces; it starts and ends with a space, so that its changes between space
    and word alternate: a word's start, then its end)."""
    space = buffer == _SPACE
    changes = np.flatnonzero(space[:-1] ^ space[1:])
    changes += 1  # in place: a new array of a million places costs its page faults
    return changes[0::2], changes[1::2]


def _other_scripts_spaced(encoded: bytes) -> bytes | None:
    """UTF-8 text with each character beyond ASCII that is not part of a word (not
    alphanumeric, as `[^\\W_]` reads it: dashes, quotes, symbols, emoji, combining marks)
    made spaces, byte for byte; None where such characters are more than one in
    `_FEW_OTHERS` bytes (another script's headlines: tokenised instead)."""
    buffer = np.frombuffer(encoded, dtype=np.uint8)
    leads = np.flatnonzero(buffer >= 0xC0)  # the first byte of each such character
    if len(leads) * _FEW_OTHERS > len(encoded):
        return None
    sizes = 2 + (buffer[leads] >= 0xE0) + (buffer[leads] >= 0xF0)
    spaced = bytearray(encoded)
    in_words: dict[bytes, bool] = {}
    for lead, size in zip(leads.tolist(), sizes.tolist(), strict=True):
        character = encoded[lead : lead + size]
        in_word = in_words.get(character)
        if in_word is None:
            in_word = in_words[character] = character.decode("utf-8", "surrogatepass").isalnum()
        if not in_word:
            spaced[lead : lead + size] = b" " * size
    return bytes(spaced)


def _fingerprints(data: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Each word's slot in the fingerprint table, from its length and its first and last
    four bytes (of a shorter word, its bytes alone), mixed by a multiplicative hash. The
    words must have `_PAD` on either side of them in `data`."""
    # Four bytes from every position, as one little-endian number (a strided view).
    quads = np.ndarray((len(data) - 3,), dtype="<u4", buffer=data, strides=(1,))
    length = ends - starts
    short = np.minimum(length, 4)
    first = quads[starts] & _LOW_BYTES[short]
    last = np.where(length > 4, quads[ends - 4], 0).astype(np.uint64)
    mixed = (first.astype(np.uint64) << np.uint64(32)) | last
    mixed = (mixed ^ length.astype(np.uint64)) * np.uint64(0x9E3779B97F4A7C15)
    return (mixed >> np.uint64(64 - _TABLE_BITS)).astype(np.int64)


def _by_tokens(joined: str, wanted: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """`word_places` by making every word a string (`text.words_of_joined_lines`) and
    looking each up: a word becomes its term, -1 (not wanted) or -2 (a line end), and its
    line is the number of line ends before it."""
    tokens = words_of_joined_lines(joined)
    codes = {**wanted, LINE_END: -2}
    found = np.fromiter(
        map(codes.get, tokens, repeat(-1, len(tokens))), dtype=np.int64, count=len(tokens)
    )
    lines = np.cumsum(found == -2)
    hits = np.flatnonzero(found >= 0)
    return lines[hits].astype(np.int64), found[hits]


def screened(
    lines: np.ndarray,
    terms: np.ndarray,
    ids: Sequence[int],
    keys: Sequence[Mapping[int, float]],
    limit: int,
) -> list[int]:
    """The ids (`ids[line]`) of the lines that, for some key (term -> weight), are among
    the `limit` whose distinct terms weigh most in it, in increasing order; places as
    `word_places` gives them. A line scores the sum of its distinct terms' weights, added
    in term order, and counts only above 0; equal scores go to the smaller id."""
    if not len(lines):
        return []
    distinct = np.unique(terms)
    pairs = np.unique(lines * len(distinct) + np.searchsorted(distinct, terms))
    pair_line, pair_term = np.divmod(pairs, len(distinct))  # by line, then term
    numbers, line_of_pair = np.unique(pair_line, return_inverse=True)
    article = np.asarray([ids[number] for number in numbers.tolist()], dtype=np.int64)
    chosen: set[int] = set()
    for key in keys:
        weights = np.asarray([key.get(term, 0.0) for term in distinct.tolist()])
        scores = np.bincount(line_of_pair, weights=weights[pair_term], minlength=len(numbers))
        scoring = np.flatnonzero(scores > 0.0)
        best = np.lexsort((article[scoring], -scores[scoring]))[:limit]
        chosen.update(article[scoring[best]].tolist())
    return sorted(chosen)
