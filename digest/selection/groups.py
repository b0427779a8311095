"""Near-duplicate groups: one event reported twice, a rewrite, a wire copy, an update.

Articles are read in publication order, as a news desk would. Each is compared exactly
(cosine) with the `CANDIDATES` earlier articles that share most (and at least
`MIN_SHARED`) of its `KEY_TERMS` heaviest terms, looking at the `RECENT` latest
articles under each term (near-duplicates are published close together). At or above
the threshold they join one group; groups are connected (a wire copy of a rewrite joins
both). This is the candidate generation of first-story detection systems: a bounded
cost per article, where comparing all pairs would cost the square of a busy day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import chain

from digest.selection.similarity import Vector, cosine

KEY_TERMS = 6
RECENT = 32
CANDIDATES = 3
MIN_SHARED = 2


def near_duplicate_groups(vectors: Sequence[Vector], threshold: float) -> list[int]:
    """Group of each vector (in publication order): the index of its first member."""
    parent = list(range(len(vectors)))

    def root(item: int) -> int:
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    postings: dict[int, list[int]] = {}
    for number, vector in enumerate(vectors):
        keys = vector.ids[:KEY_TERMS]
        lists = [postings[term][-RECENT:] for term in keys if term in postings]
        if lists:
            shared = Counter(chain.from_iterable(lists))
            query: dict[int, float] | None = None
            for other, count in shared.most_common(CANDIDATES):
                if count < min(MIN_SHARED, len(keys)):
                    break
                if root(other) == root(number):
                    continue
                if query is None:
                    query = vector.as_dict()
                if cosine(query, vectors[other]) >= threshold:
                    low, high = sorted((root(other), root(number)))
                    parent[high] = low
        for term in keys:
            postings.setdefault(term, []).append(number)
    return [root(number) for number in range(len(vectors))]
