"""One more test of one event, for picking: related openings whose names agree.

The event tests (`events.Events`) compare articles over their key terms (each one's
`graph.KEY_TERMS` heaviest). In a window of a few dozen articles (a new site, a quiet
language, a test feed) weights learnt from so few texts rank words almost at random,
and two reports of one earthquake that meet in their openings' names and places (the
wire's "southern Peru ... the Arequipa region", the other's "rescuers in the Arequipa
region") can share no key term: the event was told in two top stories. Over their
whole opening vectors the two are related (`selection.related_floor`), as the related
items' measure would list one under the other. That cosine also relates two
earthquakes in two countries; their names tell them apart, weighed as `articles
related` weighs them (`related`, step 3): the similarity is the geometric mean of the
cosine and `names.facet_cosine` over the names the two openings write, so a pair that
shares the happening and none of the names falls.

Asked only of the pairs picking asks about that the event tests call two events, so
an edition whose events those tests already tell apart is unchanged (every selection
benchmark gave identical output). Names are read once per article, from its stored
headline and opening.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from digest.selection.corpus import Doc
from digest.selection.names import by_capitals, facet_cosine, names_and_nouns
from digest.selection.similarity import RELATED_MIN_TERMS, Vocabulary, cosine, shared_terms
from digest.selection.terms import article_text

#: Article ids -> (headline, summary HTML, body) of those articles (`store.texts`).
TextReader = Callable[[list[int]], dict[int, tuple[str, str, str]]]


class OneStory:
    """`same(first, second)` over window positions: the two openings' cosine (at least
    `floor`, sharing `RELATED_MIN_TERMS` terms) weighed with their names' agreement is
    at least `floor`. Without `texts`, an article's opening is its headline (the
    headline-only evaluation)."""

    def __init__(
        self,
        docs: Sequence[Doc],
        floor: float,
        vocabulary: Vocabulary,
        language: str,
        texts: TextReader | None = None,
    ) -> None:
        self._docs = docs
        self._floor = floor
        self._vocabulary = vocabulary
        self._language = language
        self._texts = texts
        self._named: dict[int, tuple[frozenset[int], frozenset[int]]] = {}

    def same(self, first: int, second: int) -> bool:
        query = self._docs[first].vector.as_dict()
        vector = self._docs[second].vector
        if shared_terms(query, vector) < RELATED_MIN_TERMS:
            return False
        similarity = cosine(query, vector)
        if similarity < self._floor:
            return False
        own_names, own_nouns = self._names(first)
        their_names, their_nouns = self._names(second)
        if not own_names or not their_names:  # nothing to tell two events apart by
            return False
        shared = (own_names | their_names) - own_nouns - their_nouns
        return math.sqrt(similarity * facet_cosine(query, vector, shared)) >= self._floor

    def _names(self, number: int) -> tuple[frozenset[int], frozenset[int]]:
        """The names (and lower-case nouns) the article's headline and opening write."""
        found = self._named.get(number)
        if found is None:
            doc = self._docs[number]
            title, text = doc.title, doc.title
            if self._texts is not None:
                title, summary, body = self._texts([doc.id]).get(doc.id, (doc.title, "", ""))
                text = article_text(summary, body) or title
            capitals = by_capitals(self._language, text)
            found = names_and_nouns(
                self._vocabulary, text, self._language, capitals, headline=title
            )
            self._named[number] = found
        return found
