"""The edition's last check of one event, one top story: candidates read whole.

An edition judges events on every window article's headline and opening
(`similarity.OPENING_CHARS`): tens of thousands are read, so they are read short. Two
reports of one event that open on different angles ("Thousands evacuated as blaze
tears through Dubai high-rise"; "Fire breaks out at 67-storey Dubai Marina tower") can
share too few opening words to be related, and both become top stories. Picking asks
about a few dozen candidates only, so for those it reads further, as `digest articles
related` does: a candidate whose whole text (summary and body, a site's boilerplate
left out: `wholetext`) has a cosine of at least `selection.related_floor` with a
chosen story's, sharing `RELATED_MIN_TERMS` terms, reports that story's event. The
weights are the edition's (learnt from the window's and archive's openings), so a word
common in the day's news weighs little. Only between two articles that both have text
beyond their headlines: on headlines alone the event tests have read everything.

On `bench/select_week_eval.py`'s labelled week (summaries and bodies), the Dubai tower
fire (in both languages) and an Arabic pair of one match became one story each: top-
story pairs of one event fell from 6 to 4 of 280 (a slot freed let in a second report
of Egypt's rate cut that shares one opening word with the first), distinct events
shown rose from 74 to 76 of 80, no report of another event was grouped in, and the
week's top-story pairs of two events scored at most 0.17 read whole. `select_eval`
(UCI headlines) cannot change, and `select_eval_arabic` did not; `select_bench`
measured 0.96 of the time before (no cost).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from digest.selection.corpus import Doc
from digest.selection.similarity import (
    FULL_TERMS,
    RELATED_MIN_TERMS,
    Vector,
    Vocabulary,
    Weighting,
    cosine,
    shared_terms,
)
from digest.selection.wholetext import Texts, whole_texts

#: Candidates read at once, as a multiple of the edition's top stories (picking rarely
#: looks further; those it does are read one batch more at a time).
READ_AHEAD = 3


class WholeReading:
    """Whole-text vectors of the candidates picking asks about, read from the store in
    batches (`read`: article ids -> (headline, summary HTML, body)), and the test."""

    def __init__(
        self,
        read: Callable[[Sequence[int]], Mapping[int, Texts]],
        vocabulary: Vocabulary,
        weighting: Weighting,
        floor: float,
    ) -> None:
        self._read = read
        self._vocabulary = vocabulary
        self._weighting = weighting
        self._floor = floor
        self._vectors: dict[int, Vector | None] = {}

    def read_ahead(self, docs: Sequence[Doc]) -> None:
        """Read the whole texts of `docs` not read yet, in one batch (a site's
        boilerplate is told by lines repeated among the texts read together)."""
        wanted = [doc for doc in docs if doc.id not in self._vectors]
        if not wanted:
            return
        texts = self._read([doc.id for doc in wanted])
        sources = {doc.id: doc.source for doc in wanted}
        plain = whole_texts(texts, sources)
        for doc in wanted:
            text = plain.get(doc.id, "")
            if not text:  # a headline alone: the event tests read all of it
                self._vectors[doc.id] = None
                continue
            counts = self._vocabulary.count_whole(texts[doc.id][0], text)
            self._vectors[doc.id] = self._weighting.vector(counts, FULL_TERMS)

    def same_event(self, first: Doc, second: Doc) -> bool:
        """Whether the whole texts of `first` and `second` are related: cosine at least
        the floor, sharing `RELATED_MIN_TERMS` terms. False where either has nothing
        beyond its headline."""
        self.read_ahead([first, second])
        own, theirs = self._vectors[first.id], self._vectors[second.id]
        if not own or not theirs:
            return False
        query = own.as_dict()
        return shared_terms(query, theirs) >= RELATED_MIN_TERMS and (
            cosine(query, theirs) >= self._floor
        )
