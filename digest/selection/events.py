"""Events in the window: which articles report the same news, beyond copies of one report.

Two headlines of one event often share a single word ("Fed official says weak data
caused by weather" and "Fed's Plosser sees high bar for change in pace of tapering"):
pairwise similarity finds about a third of same-event pairs on real headlines (UCI News
Aggregator). Comparing with the event's *centroid* finds most of them: an article's
neighbourhood (every window article related to it: similarity at least the related
floor, sharing at least `RELATED_MIN_TERMS` terms) is summed into one vector, which
carries the words all the event's reports use between them. This is relevance
feedback (Rocchio 1971) and the centroid comparison of topic detection and tracking
(Allan et al., "Topic Detection and Tracking Pilot Study", 1998).

Two articles are the same event when they are related, or when either lies within
`EVENT_THRESHOLD` of the other's centroid. The threshold was chosen on half of the UCI
stories (`bench/select_eval.py`, the "tune" split) and is reported on the other half.

The neighbourhoods come from `graph.KeyGraph` (every pair at once, over key terms).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse

from digest.selection.graph import KeyGraph, matrix
from digest.selection.similarity import RELATED_MIN_TERMS, Vector

#: Similarity to an event's centroid from which an article reports that event.
EVENT_THRESHOLD = 0.25
#: How many of a centroid's heaviest terms name the event.
EVENT_KEYWORDS = 4
#: ... each of them in at least this share of the event's reports.
KEYWORD_SHARE = 0.5


class Events:
    """Neighbourhoods and event tests over the window's articles (indexes into `vectors`).

    `floor` is the related floor (0..1); `sources` gives each article's source identity,
    so `coverage` can count the distinct sources reporting each article's event.
    """

    def __init__(
        self,
        vectors: Sequence[Vector],
        graph: KeyGraph,
        floor: float,
        sources: Sequence[str],
        title_terms: Callable[[int], frozenset[int]],
    ) -> None:
        self.rows = matrix(vectors)
        self.ones = self.rows.copy()
        self.ones.data[:] = 1.0
        self._title_terms = title_terms
        self.related = graph.pairs(floor, RELATED_MIN_TERMS)
        self._sources = sources
        self._centroids: dict[int, sparse.csr_matrix] = {}
        self._keywords: dict[int, frozenset[int]] = {}

    def neighbours(self, index: int) -> list[int]:
        """Window articles related to article `index` (itself included), in index order."""
        start, end = self.related.indptr[index], self.related.indptr[index + 1]
        return sorted(int(i) for i in self.related.indices[start:end])

    def coverage_sources(self) -> list[int]:
        """For each article, how many distinct sources report articles related to it."""
        identities: dict[str, int] = {}
        codes = np.array(
            [identities.setdefault(source, len(identities)) for source in self._sources],
            dtype=np.int64,
        )
        if not len(codes):
            return []
        rows = np.repeat(np.arange(self.related.shape[0]), np.diff(self.related.indptr))
        pairs = np.sort(rows * (len(identities) + 1) + codes[self.related.indices])
        pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]  # np.unique, faster
        counted = np.bincount(pairs // (len(identities) + 1), minlength=self.related.shape[0])
        return [int(n) for n in counted]

    def _centroid(self, index: int) -> sparse.csr_matrix:
        found = self._centroids.get(index)
        if found is None:
            total = self.related[index] @ self.rows
            norm = float(np.sqrt(total.multiply(total).sum())) or 1.0
            found = self._centroids[index] = total / norm
        return found

    def centroid_similarity(self, event: int, article: int) -> float:
        """Cosine between article `article` and the centroid of `event`'s neighbourhood."""
        return float((self._centroid(event) @ self.rows[article].T).sum())

    def keywords(self, index: int) -> frozenset[int]:
        """The event's names: the `EVENT_KEYWORDS` terms most of the article's neighbourhood
        shares (most members first, then the heavier in the centroid), each in at least
        half of it. Counting members, not weights: the name every report of a big event
        repeats is common in that day's news, so its weight is low, but it is in every
        report."""
        found = self._keywords.get(index)
        if found is None:
            members = self.related[index] @ self.ones
            centroid = self._centroid(index)
            weight = dict(zip(centroid.indices.tolist(), centroid.data.tolist(), strict=True))
            needed = max(2.0, self.related[index].nnz * KEYWORD_SHARE)
            ranked = sorted(
                zip(members.indices.tolist(), members.data.tolist(), strict=True),
                key=lambda pair: (-pair[1], -weight.get(pair[0], 0.0), pair[0]),
            )
            found = frozenset(term for term, count in ranked[:EVENT_KEYWORDS] if count >= needed)
            self._keywords[index] = found
        return found

    def same_event(self, first: int, second: int) -> bool:
        """Whether the two articles report one event: related, near either centroid, or
        one names the other's event keyword among its own heaviest terms."""
        if self.related[first, second]:
            return True
        if self.keywords(first) & self._title_terms(second):
            return True
        if self.keywords(second) & self._title_terms(first):
            return True
        return (
            self.centroid_similarity(first, second) >= EVENT_THRESHOLD
            or self.centroid_similarity(second, first) >= EVENT_THRESHOLD
        )
