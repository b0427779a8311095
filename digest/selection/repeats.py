"""Earlier articles under another name: recent leads, and an outlet's own first copies.

An article that led an edition sent in the last `no_repeat_days` is not a top story
again (DESIGN.md, Selection), and neither is what is that article under another name:
a near-copy (similarity at least `duplicate_threshold`, an update with a reworded
headline) or the same page fetched again under a new guid (one `canonical_address`:
http and https, www or not, tracking parameters).

And an outlet's story posted again under a new guid and address, word for word, with a
later date, is as old as its first copy (`dated_by_earlier_copies`), even when that copy
came before the window.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from digest.config import SelectionSettings
from digest.selection import store
from digest.selection.corpus import Corpus, Doc, scan
from digest.selection.identity import canonical_address, reporters
from digest.selection.scoring import ScoreParts, recency, trusted_date
from digest.selection.similarity import RELATED_MIN_TERMS, Vector

#: The best-scoring window articles, per top story, whose earlier copies are looked for
#: in the archive (a copy only loses score, so only those that could be picked matter).
COPY_CHECKED = 4


def recent_leads(
    session: Session,
    corpus: Corpus,
    window_docs: Sequence[Doc],
    day: date,
    language: str,
    selection: SelectionSettings,
) -> frozenset[int]:
    """Ids of the recent leads and of the window articles that are one of them."""
    led = store.recent_top_story_ids(session, day, language, selection.no_repeat_days)
    led_docs = store.docs_with_terms(session, led)
    repeats = frozenset(led) | repeats_of(corpus.vectors_for(led_docs), window_docs, selection)
    addresses = {canonical_address(doc.url) for doc, _ in led_docs} - {""}
    if not addresses:
        return repeats
    return repeats | {doc.id for doc in window_docs if canonical_address(doc.url) in addresses}


def repeats_of(
    past_tops: Sequence[Vector], window_docs: Sequence[Doc], selection: SelectionSettings
) -> frozenset[int]:
    """Window articles that are near-duplicates of a recent edition's top story."""
    if not past_tops:
        return frozenset()
    copies = scan(window_docs, past_tops, selection.duplicate_threshold)
    return frozenset(match.doc.id for matches in copies for match in matches)


def dated_by_earlier_copies(
    corpus: Corpus,
    window_docs: Sequence[Doc],
    parts: Sequence[ScoreParts],
    who: Sequence[str],
    end: datetime,
    selection: SelectionSettings,
) -> tuple[list[ScoreParts], frozenset[int]]:
    """`parts` with the recency of each of the best-scoring window articles
    (`COPY_CHECKED` per top story, asked again until those are all asked) that an
    earlier near-copy by the same reporter (`who`, `identity.reporters`) in the corpus
    dates: an outlet's story posted again under a new guid and address, with a later
    date, is as old as its first copy (`scoring.dated_by_first_copy` does the same
    within the window); and the ids of those articles. Their date is not the story's
    own, so they rank with the estimated dates (`candidates.date_tier`): a fetch of an
    old page under a new guid with a high priority led a breaker's edition over a
    story five outlets reported that day. One scan per round of the archive's full
    texts from the same feeds."""
    dated = list(parts)
    older: set[int] = set()
    asked: set[int] = set()
    wanted = COPY_CHECKED * selection.top_stories
    in_window = {doc.id for doc in window_docs}  # copies there are one group already
    archive = [doc for doc in corpus.full if doc.id not in in_window]
    while True:
        best = heapq.nlargest(wanted, range(len(window_docs)), key=lambda n: dated[n].total)
        round_ = [number for number in best if number not in asked and dated[number].recency]
        if not round_:
            return dated, frozenset(older)
        asked.update(round_)
        docs = [window_docs[number] for number in round_]
        feeds = {doc.source for doc in docs}  # a copy posted again comes by the same feed
        found = scan(
            [other for other in archive if other.source in feeds],
            [doc.vector for doc in docs],
            selection.duplicate_threshold,
            RELATED_MIN_TERMS,
        )
        for number, doc, copies in zip(round_, docs, found, strict=True):
            first = min(
                (
                    copy.doc.published_at
                    for copy in copies
                    if copy.doc.published_at < doc.published_at
                    and trusted_date(copy.doc, end)
                    and reporters([(copy.doc.source, copy.doc.url)])[0] == who[number]
                ),
                default=None,
            )
            if first is not None:
                fresh = selection.weight_recency * recency(
                    first, end, selection.recency_half_life_hours
                )
                dated[number] = dated[number]._replace(recency=fresh)
                older.add(doc.id)
