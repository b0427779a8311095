"""The selection's batch arithmetic against its one-document definitions: the vectors of
many documents at once (`batch_vectors`), the key-term cut of the vector matrix and the
window's pair products (`graph`), a search over many rows (`vector_rows`). Each batch
path exists for speed only; these say it computes the very same numbers."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np

from digest.selection.batch_vectors import vectors_of, vectors_with
from digest.selection.graph import KEY_TERMS, KeyGraph, leading, matrix
from digest.selection.similarity import (
    EMPTY,
    Vector,
    Vocabulary,
    Weighting,
    cosine,
    matching_text,
    shared_terms,
)
from digest.selection.text import WordCounts, pack, word_counts
from digest.selection.vector_rows import rows_of, search

WORDS = (
    "flood storm dam derna libya toll rescue bridge quake turkey syria ankara "
    "rates bank cut inflation markets oil prices opec saudi output election vote "
    "parliament minister resigns strike union port ship canal suez blocked trade "
    "Iranian Iran Chinese China club final goal coach league title fans stadium"
).split()


def _documents(count: int, seed: int) -> list[tuple[str, str]]:
    """Headlines and openings of skewed word use: many terms tie on weight, several
    documents repeat words, a few share none."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(WORDS))]
    documents = []
    for _ in range(count):
        title = " ".join(rng.choices(WORDS, weights, k=rng.randint(0, 8)))
        text = " ".join(rng.choices(WORDS, weights, k=rng.randint(0, 40)))
        documents.append((title, text))
    return documents


def _one_by_one(documents: list[tuple[str, str]]) -> tuple[list, Weighting]:
    vocabulary = Vocabulary()
    counts = [vocabulary.count(title, text) for title, text in documents]
    weighting = Weighting(counts)
    return [weighting.vector(each) for each in counts], weighting


def test_many_documents_vectors_at_once_are_each_documents_own() -> None:
    for seed in range(5):
        documents = _documents(300, seed)
        expected, weighting = _one_by_one(documents)
        packed = [pack(each) for each in word_counts([matching_text(*each) for each in documents])]
        found, batch_weighting = vectors_of(Vocabulary(), packed)
        assert batch_weighting.documents == weighting.documents
        assert list(found) == expected


def test_a_stored_word_with_no_term_adds_nothing_to_the_vectors() -> None:
    """The term cache stores term words only (`text.word_counts`); a stop word packed
    anyway is dropped, as `Vocabulary.count` drops it, not counted as a term."""
    with_stop = [pack(WordCounts(("the", "flood", "floods", "derna"), (4, 1, 2, 1)))]
    without = [pack(WordCounts(("flood", "floods", "derna"), (1, 2, 1)))]
    found, _ = vectors_of(Vocabulary(), with_stop + without)
    assert found[0] == found[1] and len(found[0].ids) == 2


def test_the_key_terms_cut_of_the_full_matrix_is_each_vectors_heaviest_terms() -> None:
    vectors, _ = _one_by_one(_documents(200, 7))
    full = matrix(vectors)
    for terms in (1, 3, KEY_TERMS):
        cut = leading(full, terms)
        for number, vector in enumerate(vectors):
            row = cut.getrow(number)
            weights = vector.weights[:terms]
            norm = sum(w * w for w in weights) ** 0.5
            assert row.indices.tolist() == list(vector.ids[:terms])
            assert np.allclose(row.data, [w / norm for w in weights], rtol=0, atol=1e-12)


def test_the_pair_products_are_the_truncated_vectors_cosines_and_shared_terms() -> None:
    vectors, _ = _one_by_one(_documents(120, 11))
    graph = KeyGraph(vectors)
    assert graph.similar.has_sorted_indices and graph.shared.has_sorted_indices
    assert np.array_equal(graph.similar.indices, graph.shared.indices)
    keys = [dict(zip(v.ids[:KEY_TERMS], v.weights[:KEY_TERMS], strict=True)) for v in vectors]
    for first, key in enumerate(keys):
        norm = sum(w * w for w in key.values()) ** 0.5
        row = graph.similar.getrow(first)
        found = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
        shared_row = graph.shared.getrow(first)
        shared = dict(zip(shared_row.indices.tolist(), shared_row.data.tolist(), strict=True))
        for second, other in enumerate(keys):
            common = Counter(key) & Counter(other)
            if not common:
                assert second not in found
                continue
            other_norm = sum(w * w for w in other.values()) ** 0.5
            expected = sum(key[t] * other[t] for t in common) / (norm * other_norm)
            assert abs(found[second] - expected) < 1e-5
            assert shared[second] == len(common)


def test_documents_outside_the_sample_get_each_documents_own_vector() -> None:
    sample = [pack(each) for each in word_counts([matching_text(*d) for d in _documents(200, 5)])]
    outside = [matching_text(*d) for d in _documents(60, 6)]
    outside += ["Unheard-of words: zephyr quokka Iranian ferry", ""]  # new terms, none
    vocabulary = Vocabulary()
    _, weighting = vectors_of(vocabulary, sample)
    one_by_one = Vocabulary()
    vectors_of(one_by_one, sample)
    packed = [pack(each) for each in word_counts(outside)]
    found = vectors_with(vocabulary, weighting, packed)  # first: `vector` extends the weights
    assert list(found) == [weighting.vector(one_by_one.count_words(each)) for each in packed]


def _brute_force(
    vectors: list[Vector], queries: list[Vector], floor: float, min_shared: int
) -> list[list[tuple[int, float]]]:
    """Every (row, similarity) by the one-pair definition: `cosine`, `shared_terms`."""
    found: list[list[tuple[int, float]]] = []
    for query in queries:
        weights = query.as_dict()
        found.append(
            [
                (row, cosine(weights, vector))
                for row, vector in enumerate(vectors)
                if shared_terms(weights, vector) >= max(min_shared, 1)
                and cosine(weights, vector) >= floor
            ]
        )
    return found


def test_a_search_over_rows_finds_what_every_pair_compared_finds() -> None:
    vectors, _ = _one_by_one(_documents(250, 13))
    rows = rows_of(vectors)
    queries = [vectors[n] for n in (0, 5, 17, 40, 41, 99, 200)] + [EMPTY]
    for floor, min_shared in ((0.0, 1), (0.0, 3), (0.2, 1), (0.35, 2), (0.9, 1), (1.0, 1)):
        found = search(rows, queries, floor, min_shared)
        assert found == _brute_force(vectors, queries, floor, min_shared)
    assert any(found for found in search(rows, queries, 0.35, 2))  # the floors select


def test_a_documents_own_row_is_found_at_similarity_one_exactly_as_cosine_sums_it() -> None:
    vectors, _ = _one_by_one(_documents(80, 3))
    rows = rows_of(vectors)
    for number, vector in enumerate(vectors):
        if vector.ids:
            found = dict(search(rows, [vector], 0.999)[0])
            assert found[number] == cosine(vector.as_dict(), vector)


def test_rows_taken_or_sliced_are_the_same_vectors() -> None:
    packed = [pack(each) for each in word_counts([matching_text(*d) for d in _documents(90, 2)])]
    rows, _ = vectors_of(Vocabulary(), packed)
    everything = list(rows)
    assert list(rows[10:20]) == everything[10:20]  # a view of the same arrays
    picked = np.asarray([40, 3, 3, 89, 0], dtype=np.int64)
    assert list(rows.take(picked)) == [everything[n] for n in picked.tolist()]
    assert rows.take(np.arange(len(rows), dtype=np.int64)) is rows
    assert (rows.matrix() != matrix(everything)).nnz == 0
    unread, _ = vectors_of(Vocabulary(), packed)  # no vector built yet
    unread.matrix().sort_indices()  # in place, as scipy does before some operations
    assert list(unread) == everything  # each still heaviest first
