"""The documents one judgement of similarity is made over, and search within them.

A corpus is the edition's window plus the recent archive, in one language. Documents
read in full (the window, and the newest `FULL_ARCHIVE` archive articles) have a vector
and make up the IDF sample. Older archive articles are screened by headline first: per
query, the `SCREEN_LIMIT` whose headline carries the most weight of the query's
`SCREEN_TERMS` heaviest terms are read in full and compared. That is ordinary two-stage
retrieval: a selection over tens of thousands of articles stays within a second or two,
and every similarity reported is exact.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import compress, repeat

import numpy as np

from digest.selection.batch_vectors import vectors_of, vectors_with
from digest.selection.similarity import (
    EMPTY,
    TITLE_CHARS,
    Vector,
    Vocabulary,
    matching_text,
)
from digest.selection.text import LINE_END, PackedWords, pack, word_counts, words_of_lines

FULL_ARCHIVE = 1000
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH = _EPOCH_UTC.replace(tzinfo=None)
SCREEN_LIMIT = 50
SCREEN_TERMS = 12


@dataclass(slots=True, eq=False)
class Doc:
    """What selection needs of an article (no ORM object: tens of thousands are loaded)."""

    id: int
    guid: str
    title: str
    section: str
    source: str
    published_at: datetime
    priority: int = 0
    popularity: int | None = None
    url: str = ""
    #: The source gave no usable date (ingest used the feed's or the fetch time).
    date_estimated: bool = False
    ingested_at: datetime | None = None
    #: Undated and in its source's first fetch (`estimated_on_first_fetch`): of any age.
    backlog: bool = False
    vector: Vector = EMPTY

    def order_key(self) -> tuple[float, str]:
        """Newest first, then guid: the tie-break everywhere, so output is stable.

        Seconds since the epoch with the time read as UTC when it carries no zone (the
        database stores UTC): `datetime.timestamp` would ask the C library for the local
        zone on every call, the main cost of sorting tens of thousands of matches.
        """
        when = self.published_at
        epoch = _EPOCH if when.tzinfo is None else _EPOCH_UTC
        return (-(when - epoch).total_seconds(), self.guid)


@dataclass(frozen=True, slots=True)
class Match:
    doc: Doc
    similarity: float


#: A document's matching text (headline aside), or its words counted already: the
#: `text.word_counts` of its `similarity.matching_text`, as the term cache stores them.
DocText = str | PackedWords

#: Given article ids, those documents with their matching text.
DocFetcher = Callable[[list[int]], list[tuple[Doc, DocText]]]


def counted(documents: Sequence[tuple[Doc, DocText]]) -> list[PackedWords]:
    """The packed `WordCounts` of each document: as given, or counted from its text now."""
    texts = [matching_text(doc.title, text) for doc, text in documents if isinstance(text, str)]
    fresh = map(pack, word_counts(texts))
    return [next(fresh) if isinstance(text, str) else text for _, text in documents]


class Corpus:
    """Vectors for the documents read in full; headlines for the screened ones."""

    def __init__(
        self,
        full: Sequence[tuple[Doc, DocText]],
        headlines: Sequence[tuple[int, str]] = (),
        fetch: DocFetcher | None = None,
        *,
        arabic_places: bool = False,
    ) -> None:
        self.vocabulary = Vocabulary(arabic_places=arabic_places)
        vectors, self.weighting = vectors_of(self.vocabulary, counted(full))
        self.full = [doc for doc, _ in full]
        for doc, vector in zip(self.full, vectors, strict=True):
            doc.vector = vector
        self.headlines = list(headlines)
        self._fetch = fetch
        self._promoted: dict[int, Doc] = {}

    def vector_for(self, title: str, text: str) -> Vector:
        """A vector for any text, weighted like the corpus (for documents outside it)."""
        return self.weighting.vector(self.vocabulary.count(title, text))

    def vectors_for(self, documents: Sequence[tuple[Doc, DocText]]) -> list[Vector]:
        """`vector_for` of documents outside the corpus, from their text or word counts."""
        return vectors_with(self.vocabulary, self.weighting, counted(documents))

    def search(
        self, queries: Sequence[Vector], floor: float, min_shared: int = 1
    ) -> list[list[Match]]:
        """For each query, every document with similarity >= floor (sharing at least
        `min_shared` terms), best first."""
        found = scan(self.full, queries, floor, min_shared)
        if self.headlines and queries:
            more = scan(self._promote(self._screen(queries)), queries, floor, min_shared)
            for matches, extra in zip(found, more, strict=True):
                matches.extend(extra)
                matches.sort(key=lambda m: (-m.similarity, *m.doc.order_key()))
        return found

    def _screen(self, queries: Sequence[Vector]) -> list[int]:
        """Ids of the screened articles whose headlines best match some query."""
        keys = [
            dict(zip(q.ids[:SCREEN_TERMS], q.weights[:SCREEN_TERMS], strict=True)) for q in queries
        ]
        wanted = self.vocabulary.words_of(term for key in keys for term in key)
        tokens = words_of_lines(title[:TITLE_CHARS] for _, title in self.headlines)
        # One C-level pass over the words (half a million): each becomes its term, -1 (not
        # wanted) or -2 (a line end); a word's line is the number of line ends before it.
        codes = {**wanted, LINE_END: -2}
        found = np.fromiter(
            map(codes.get, tokens, repeat(-1, len(tokens))), dtype=np.int64, count=len(tokens)
        )
        lines = np.cumsum(found == -2)
        hits = np.flatnonzero(found >= 0)
        terms_by_line: dict[int, set[int]] = {}
        for at_line, term in zip(lines[hits].tolist(), found[hits].tolist(), strict=True):
            terms_by_line.setdefault(at_line, set()).add(term)
        best: list[list[tuple[float, int]]] = [[] for _ in queries]
        for line_number, terms in terms_by_line.items():
            article_id = self.headlines[line_number][0]
            for number, key in enumerate(keys):
                score = sum(key.get(term, 0.0) for term in sorted(terms))
                if score > 0.0:
                    heap = best[number]
                    entry = (score, -article_id)
                    if len(heap) < SCREEN_LIMIT:
                        heapq.heappush(heap, entry)
                    elif entry > heap[0]:
                        heapq.heapreplace(heap, entry)
        return sorted({-negated for heap in best for _, negated in heap})

    def _promote(self, ids: list[int]) -> list[Doc]:
        """Read screened articles in full (once per corpus) and give them vectors."""
        missing = [article_id for article_id in ids if article_id not in self._promoted]
        if missing and self._fetch is not None:
            fetched = self._fetch(missing)
            for (doc, _), vector in zip(fetched, self.vectors_for(fetched), strict=True):
                doc.vector = vector
                self._promoted[doc.id] = doc
        return [self._promoted[i] for i in ids if i in self._promoted]


def scan(
    docs: Iterable[Doc], queries: Sequence[Vector], floor: float, min_shared: int = 1
) -> list[list[Match]]:
    """For each query, the documents with similarity >= floor sharing at least
    `min_shared` terms with it, best first.

    One pass over the documents accumulates every query's dot product at once; the sum
    runs over each document's terms in order, as `similarity.cosine` does, so the same
    pair always gets the same number.
    """
    index: dict[int, list[tuple[int, float]]] = {}
    for number, query in enumerate(queries):
        for term, weight in zip(query.ids, query.weights, strict=True):
            index.setdefault(term, []).append((number, weight))
    found: list[list[Match]] = [[] for _ in queries]
    query_terms = frozenset(index)
    size = len(queries)
    for doc in docs:
        vector = doc.vector
        if query_terms.isdisjoint(vector.ids):
            continue
        sums = [0.0] * size
        counts = [0] * size
        hits = map(query_terms.__contains__, vector.ids)
        for term, weight in compress(zip(vector.ids, vector.weights, strict=True), hits):
            for number, query_weight in index[term]:
                sums[number] += weight * query_weight
                counts[number] += 1
        for number, total in enumerate(sums):
            if total >= floor and counts[number] >= min_shared:
                found[number].append(Match(doc, min(total, 1.0)))
    for matches in found:
        matches.sort(key=lambda m: (-m.similarity, *m.doc.order_key()))
    return found
