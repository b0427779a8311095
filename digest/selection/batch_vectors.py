"""The vectors of tens of thousands of documents at once, with numpy.

An edition weighs every article of its window and archive; a Python loop per document
and term was the selection's main cost (README, "Performance"). `vectors_of` gives the
same numbers as `similarity.Vocabulary.count` then `similarity.Weighting.vector` per
document (`tests/test_select_terms.py` compares them).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import count
from typing import cast

import numpy as np
from scipy import sparse

from digest.selection.similarity import LOG_TF, MAX_TERMS, Vocabulary, Weighting
from digest.selection.text import PackedWords
from digest.selection.vector_rows import VectorRows


def _term_counts(
    vocabulary: Vocabulary, documents: Sequence[PackedWords]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(document number, term, count) of every term of the documents, by document then
    term (several words can share a term: their counts add up)."""
    first, distinct = _numbered(documents)
    # The distinct words learnt in order of first appearance (the ids `Vocabulary._learn`
    # gives every word), then looked up once each.
    vocabulary._learn(distinct)
    known = vocabulary._word_terms
    terms = np.fromiter(map(known.__getitem__, distinct), dtype=np.int64, count=len(distinct))
    ids = terms[first]
    counts = np.frombuffer(b"".join(document.counts for document in documents), dtype="<u2")
    counts = counts.astype(np.int64)
    stop = ids < 0  # a word with no term (none is stored: `text.word_counts`)
    if stop.any():
        ids, counts = np.where(stop, 0, ids), np.where(stop, 0, counts)
    indptr = np.zeros(len(documents) + 1, dtype=np.int64)
    np.cumsum(
        np.fromiter(
            (len(document.counts) // 2 for document in documents),
            dtype=np.int64,
            count=len(documents),
        ),
        out=indptr[1:],
    )
    # Each document's words as a sparse row of (term, count), in which the words that
    # share a term are added up and the terms sorted, row by row (scipy's C++ loops:
    # a third of the time of sorting every pair by document and term).
    width = int(ids.max()) + 1 if len(ids) else 1
    rows = sparse.csr_matrix((counts, ids, indptr), shape=(len(documents), width))
    rows.sum_duplicates()
    if stop.any():
        rows.eliminate_zeros()
    pair_doc = np.repeat(np.arange(len(documents), dtype=np.int64), np.diff(rows.indptr))
    return pair_doc, rows.indices.astype(np.int64, copy=False), rows.data


#: Stored numbers this many times the number of words read are made dense first.
_SPARSE_NUMBERS = 8
_SPACE = ord(" ")


def _numbered(documents: Sequence[PackedWords]) -> tuple[np.ndarray, list[str]]:
    """Each word of the documents, in order, numbered in order of first appearance, and
    the distinct words in that order. From the words' stored numbers (`PackedWords.ids`)
    where every document has them, one per word: numpy marks each number's first place,
    and only the distinct words are cut out of the text (splitting half a million words
    into strings was most of the cost). Otherwise in one hashing pass over the words (a
    defaultdict whose factory is a C counter), the same numbers three times slower."""
    worded = [document for document in documents if document.words]
    joined = " ".join(document.words for document in worded)
    ids = [document.ids for document in worded]
    if worded and None not in ids:
        per_document = np.fromiter(map(len, cast(list[bytes], ids)), np.int64, len(ids))
        counts = np.fromiter((len(document.counts) for document in worded), np.int64, len(ids))
        if np.array_equal(per_document, 2 * counts):
            stored = np.frombuffer(b"".join(cast(list[bytes], ids)), dtype="<u4")
            encoded = joined.encode("utf-8", "surrogatepass")
            spaces = np.flatnonzero(np.frombuffer(encoded, dtype=np.uint8) == _SPACE)
            if len(stored) == len(spaces) + 1:
                first, places = _by_first_place(stored)
                return first, _words_at(joined, encoded, spaces, places)
    flat = joined.split(" ")
    if flat == [""]:
        return np.zeros(0, dtype=np.int64), []
    numbers: defaultdict[str, int] = defaultdict(count().__next__)
    first = np.fromiter(map(numbers.__getitem__, flat), dtype=np.int64, count=len(flat))
    return first, list(numbers)


def _by_first_place(stored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_numbered`'s numbers of words whose stored numbers are `stored` (one word, one
    number), and the place of each distinct word's first appearance, in that order.

    The first places are marked in a table as long as the largest number: where the
    numbers run far past the words read (a database whose number sequence jumped, after
    many rolled-back ingests), they are first made dense by `np.unique` (a sort, still
    without hashing a string), so memory stays that of the words read."""
    size = len(stored)
    if int(stored.max()) >= _SPARSE_NUMBERS * size:
        stored = np.unique(stored, return_inverse=True)[1].ravel()
    first = np.full(int(stored.max()) + 1, size, dtype=np.int64)
    np.minimum.at(first, stored, np.arange(size, dtype=np.int64))
    seen = np.flatnonzero(first < size)
    in_order = seen[np.argsort(first[seen])]  # first places differ: no ties
    renumbered = np.empty(len(first), dtype=np.int64)
    renumbered[in_order] = np.arange(len(in_order), dtype=np.int64)
    return renumbered[stored], first[in_order]


def _words_at(joined: str, encoded: bytes, spaces: np.ndarray, places: np.ndarray) -> list[str]:
    """The words at `places` (word numbers) of `joined`, words joined by single spaces
    (`encoded` in UTF-8, with the byte offsets of its `spaces`)."""
    bounds = np.concatenate(([-1], spaces, [len(encoded)]))
    starts, ends = (bounds[places] + 1).tolist(), bounds[places + 1].tolist()
    if len(encoded) == len(joined):  # ASCII: byte offsets are character offsets
        return [joined[start:end] for start, end in zip(starts, ends, strict=True)]
    return [
        encoded[start:end].decode("utf-8", "surrogatepass")
        for start, end in zip(starts, ends, strict=True)
    ]


def _stable_order(values: np.ndarray) -> np.ndarray:
    """`np.argsort(values, kind="stable")` of non-negative integers, in the narrowest
    unsigned type that holds them: numpy sorts 16-bit integers by radix, in linear time,
    where a 64-bit comparison sort of half a million keys was a tenth of the vectors'
    cost."""
    top = int(values.max()) if len(values) else 0
    narrow = np.uint16 if top <= 0xFFFF else np.uint32 if top <= 0xFFFFFFFF else np.uint64
    return np.argsort(values.astype(narrow), kind="stable")


def _by_document(doc_of: np.ndarray, order: np.ndarray) -> np.ndarray:
    """`order` (an ordering of the pairs) re-sorted by document, keeping its order within
    each document (a stable sort)."""
    return order[_stable_order(doc_of[order])]


def _heaviest_first(
    pair_doc: np.ndarray, pair_term: np.ndarray, tf_levels: np.ndarray, idf: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's weight (`LOG_TF` of its count level times its term's IDF), and the
    order of the pairs by document, then weight (heaviest first), then term: the pairs
    come by document then term, so a stable sort by weight and a stable sort of that by
    document leave equal weights in term order.

    A weight is one of a few thousand products (the count levels used times the
    distinct IDFs): each pair's place among them, read from a table of the products,
    orders the pairs as the weights do and fits in 16 bits, which numpy sorts by radix
    (half the time of a stable sort of the weights themselves)."""
    tf_weights = np.asarray(LOG_TF)
    raw = tf_weights[tf_levels] * idf[pair_term]
    used = np.flatnonzero(np.bincount(tf_levels, minlength=1))
    distinct_idf, idf_of_term = np.unique(idf, return_inverse=True)
    products = np.multiply.outer(tf_weights[used], distinct_idf)  # the same products as raw
    levels = np.unique(products)
    if len(levels) > 0x10000:
        return raw, _by_document(pair_doc, np.argsort(-raw, kind="stable"))
    heavier = (len(levels) - 1 - np.searchsorted(levels, products)).astype(np.uint16)
    used_number = np.zeros(len(tf_weights), dtype=np.int64)
    used_number[used] = np.arange(len(used))
    place = heavier[used_number[tf_levels], idf_of_term.ravel()[pair_term]]
    return raw, _by_document(pair_doc, np.argsort(place, kind="stable"))


def vectors_of(
    vocabulary: Vocabulary, documents: Sequence[PackedWords]
) -> tuple[VectorRows, Weighting]:
    """The vectors of many documents (the packed `text.WordCounts` of their
    `matching_text`) at once, and the weighting learnt from them: the same numbers as
    `Vocabulary.count` then `Weighting.vector` per document, computed with numpy over all
    documents together (tens of thousands of documents: a Python loop per document and
    term would be the selection's main cost).
    """
    pair_doc, pair_term, counts = _term_counts(vocabulary, documents)
    width = int(pair_term.max()) + 1 if len(pair_term) else 1
    document_counts = np.bincount(pair_term, minlength=width)
    terms_seen = np.flatnonzero(document_counts)
    frequencies = Counter(
        dict(zip(terms_seen.tolist(), document_counts[terms_seen].tolist(), strict=True))
    )
    weighting = Weighting((), frequencies=frequencies, documents=len(documents))
    vectors = _vectors(pair_doc, pair_term, counts, _idf(weighting, width), len(documents))
    return vectors, weighting


def vectors_with(
    vocabulary: Vocabulary, weighting: Weighting, documents: Sequence[PackedWords]
) -> VectorRows:
    """The vectors of documents outside the sample `weighting` was learnt from (the
    archive articles a search reads in full), at once: the same numbers as
    `Vocabulary.count_words` then `weighting.vector` per document."""
    pair_doc, pair_term, counts = _term_counts(vocabulary, documents)
    width = int(pair_term.max()) + 1 if len(pair_term) else 1
    return _vectors(pair_doc, pair_term, counts, _idf(weighting, width), len(documents))


def _idf(weighting: Weighting, width: int) -> np.ndarray:
    """The weighting's inverse document frequency of terms 0 to `width` - 1 (a term it
    never saw: `Weighting.unseen`)."""
    known = weighting._idf
    return np.asarray(known + [weighting.unseen] * max(0, width - len(known)))


def _vectors(
    pair_doc: np.ndarray,
    pair_term: np.ndarray,
    counts: np.ndarray,
    idf: np.ndarray,
    documents: int,
) -> VectorRows:
    """Each document's vector from its (document, term, count) pairs (`_term_counts`):
    its `MAX_TERMS` heaviest terms, normalised, as `Weighting.vector` makes them."""
    tf_levels = np.minimum(counts, len(LOG_TF) - 1)
    raw, order = _heaviest_first(pair_doc, pair_term, tf_levels, idf)
    pair_doc, pair_term, raw = pair_doc[order], pair_term[order], raw[order]
    starts = np.searchsorted(pair_doc, np.arange(documents + 1))
    rank = np.arange(len(pair_doc)) - starts[pair_doc]
    keep = rank < MAX_TERMS
    pair_doc, pair_term, raw = pair_doc[keep], pair_term[keep], raw[keep]
    bounds = np.searchsorted(pair_doc, np.arange(documents + 1))
    squares = np.bincount(pair_doc, weights=raw * raw, minlength=documents)
    norms = np.sqrt(squares)[pair_doc]
    return VectorRows(bounds.astype(np.int64), pair_term, raw / norms)
