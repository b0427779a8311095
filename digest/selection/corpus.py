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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from digest.selection.batch_vectors import vectors_of, vectors_with
from digest.selection.screen import screened, word_places
from digest.selection.similarity import (
    EMPTY,
    TITLE_CHARS,
    Vector,
    Vocabulary,
    matching_text,
)
from digest.selection.text import (
    LINE_END,
    PackedWords,
    joined_lines,
    pack,
    word_counts,
)
from digest.selection.vector_rows import VectorRows, rows_of, search

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
    #: The page it is (the canonical URL ingest stored; "" for a link that names no one
    #: article, one several items share), where it differs from `url`, the link, which
    #: still names the outlet (`identity.reporters`); None: the link is the page.
    address: str | None = None
    #: Where its vector is (`bind`): a row of the corpus's `VectorRows`, built when read.
    _rows: VectorRows | None = field(default=None, init=False, repr=False)
    _row: int = field(default=0, init=False, repr=False)
    _vector: Vector = field(default=EMPTY, init=False, repr=False)

    @property
    def vector(self) -> Vector:
        """Its vector in the corpus it was read into (`similarity.EMPTY` before)."""
        rows = self._rows
        return self._vector if rows is None else rows[self._row]

    @vector.setter
    def vector(self, value: Vector) -> None:
        self._rows = None
        self._vector = value

    @property
    def page(self) -> str:
        """The address that tells its page (`identity.canonical_address` reads it)."""
        return self.url if self.address is None else self.address

    def bind(self, rows: VectorRows, row: int) -> None:
        """Give it the vector of row `row` of `rows`, built only when read."""
        self._rows = rows
        self._row = row

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


@dataclass(frozen=True, slots=True)
class Headlines:
    """The screened articles' headlines as one text (`text.joined_lines`: each one's
    first `TITLE_CHARS` characters, then a `LINE_END`), and their ids in that order.

    The archive's fifty thousand headlines are read as one string the database joins
    (`store.archive_docs`): a row object per headline cost more than screening them."""

    ids: Sequence[int]
    text: str

    @classmethod
    def of(cls, pairs: Iterable[tuple[int, str]]) -> Headlines:
        """From (id, headline) pairs."""
        listed = list(pairs)
        titles = (title[:TITLE_CHARS] for _, title in listed)
        return cls([article_id for article_id, _ in listed], joined_lines(titles))

    def __len__(self) -> int:
        return len(self.ids)

    def pairs(self) -> list[tuple[int, str]]:
        """(id, headline as screened) of each."""
        titles = self.text.split(f" {LINE_END} ")[: len(self.ids)]
        return list(zip(self.ids, titles, strict=True))


class Corpus:
    """Vectors for the documents read in full; headlines for the screened ones."""

    def __init__(
        self,
        full: Sequence[tuple[Doc, DocText]],
        headlines: Headlines | Sequence[tuple[int, str]] = (),
        fetch: DocFetcher | None = None,
        *,
        arabic_places: bool = False,
    ) -> None:
        self.vocabulary = Vocabulary(arabic_places=arabic_places)
        #: The vectors of `full`, in its order.
        self.rows, self.weighting = vectors_of(self.vocabulary, counted(full))
        self.full = [doc for doc, _ in full]
        for row, doc in enumerate(self.full):
            doc.bind(self.rows, row)
        self.headlines = headlines if isinstance(headlines, Headlines) else Headlines.of(headlines)
        self._fetch = fetch
        self._promoted: dict[int, Doc] = {}

    def vector_for(self, title: str, text: str) -> Vector:
        """A vector for any text, weighted like the corpus (for documents outside it)."""
        return self.weighting.vector(self.vocabulary.count(title, text))

    def vectors_for(self, documents: Sequence[tuple[Doc, DocText]]) -> VectorRows:
        """`vector_for` of documents outside the corpus, from their text or word counts."""
        return vectors_with(self.vocabulary, self.weighting, counted(documents))

    def search(
        self, queries: Sequence[Vector], floor: float, min_shared: int = 1
    ) -> list[list[Match]]:
        """For each query, every document with similarity >= floor (sharing at least
        `min_shared` terms), best first."""
        found = scan(self.full, queries, floor, min_shared)
        if self.headlines and queries:
            more = scan(self.read(self._screen(queries)), queries, floor, min_shared)
            for matches, extra in zip(found, more, strict=True):
                matches.extend(extra)
                matches.sort(key=lambda m: (-m.similarity, *m.doc.order_key()))
        return found

    def _screen(self, queries: Sequence[Vector]) -> list[int]:
        """Ids of the screened articles whose headlines best match some query: for each
        query, the `SCREEN_LIMIT` whose headline's terms weigh most among its
        `SCREEN_TERMS` heaviest (`screen.screened`)."""
        keys = [
            dict(zip(q.ids[:SCREEN_TERMS], q.weights[:SCREEN_TERMS], strict=True)) for q in queries
        ]
        wanted = self.vocabulary.words_of(term for key in keys for term in key)
        lines, terms = word_places(self.headlines.text, wanted)
        return screened(lines, terms, self.headlines.ids, keys, SCREEN_LIMIT)

    def read(self, ids: list[int]) -> list[Doc]:
        """Articles outside the documents read in full (screened ones, older ones), read
        in full once per corpus with the fetcher and given vectors weighted like the
        corpus's; none without a fetcher."""
        missing = [article_id for article_id in ids if article_id not in self._promoted]
        if missing and self._fetch is not None:
            fetched = self._fetch(missing)
            rows = self.vectors_for(fetched)
            for row, (doc, _) in enumerate(fetched):
                doc.bind(rows, row)
                self._promoted[doc.id] = doc
        return [self._promoted[i] for i in ids if i in self._promoted]


def scan(
    docs: Sequence[Doc], queries: Sequence[Vector], floor: float, min_shared: int = 1
) -> list[list[Match]]:
    """For each query, the documents with similarity >= floor sharing at least
    `min_shared` terms with it, best first (`vector_rows.search`: the same pair always
    gets the same number, `similarity.cosine`'s)."""
    found = search(rows_of_docs(docs), queries, floor, min_shared)
    matches = [[Match(docs[row], similarity) for row, similarity in rows] for rows in found]
    for listed in matches:
        listed.sort(key=lambda m: (-m.similarity, *m.doc.order_key()))
    return matches


def rows_of_docs(docs: Sequence[Doc]) -> VectorRows:
    """The documents' vectors as rows: the corpus's own rows where they are all bound
    to one (`Doc.bind`; a view where they are consecutive rows), else copied in."""
    bound = docs[0]._rows if docs else None
    if bound is None or any(doc._rows is not bound for doc in docs):
        return rows_of([doc.vector for doc in docs])
    numbers = np.fromiter((doc._row for doc in docs), dtype=np.int64, count=len(docs))
    return bound.take(numbers)
