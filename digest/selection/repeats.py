"""Earlier articles under another name: recent leads, and an outlet's own first copies.

An article that led an edition sent in the last `no_repeat_days` is not a top story
again (DESIGN.md, Selection), and neither is what is that article under another name:
a near-copy (similarity at least `duplicate_threshold`, an update with a reworded
headline) or the same page fetched again under a new guid (one `canonical_address`:
http and https, www or not, tracking parameters).

And an outlet's story posted again under a new guid and address, word for word, with a
later date, is as old as its first copy (`dated_by_earlier_copies`), even when that copy
came before the window: a near-copy among the archive articles read in full, or among
the outlet's postings of the same headline at any date (`postings.postings`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from digest.config import SelectionSettings
from digest.selection import store
from digest.selection.corpus import Corpus, Doc, scan
from digest.selection.identity import canonical_address, reporters
from digest.selection.scoring import ScoreParts, recency, trusted_date
from digest.selection.similarity import RELATED_MIN_TERMS, Vector

#: Given headlines, every article so headlined (`postings.postings`).
PostingReader = Callable[[Sequence[str]], Sequence[Doc]]

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
    addresses = {canonical_address(doc.page) for doc, _ in led_docs} - {""}
    if not addresses:
        return repeats
    return repeats | {doc.id for doc in window_docs if canonical_address(doc.page) in addresses}


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
    postings: PostingReader | None = None,
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
    texts from the same feeds; with `postings`, the outlet's near-copies under the same
    headline at any date too (`first_postings`): the archive read in full is the newest
    thousand articles, hours of a big publication's week, and a breaker's outlet posted
    a story of thirteen days before again, which led over a story four outlets
    reported."""
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
        reporters_of = [who[number] for number in round_]
        posted = (
            first_postings(corpus, docs, reporters_of, postings, end, selection, in_window)
            if postings is not None
            else {}
        )
        for number, doc, copies in zip(round_, docs, found, strict=True):
            dates = [
                copy.doc.published_at
                for copy in copies
                if copy.doc.published_at < doc.published_at
                and trusted_date(copy.doc, end)
                and reporters([(copy.doc.source, copy.doc.url)])[0] == who[number]
            ]
            if doc.id in posted:
                dates.append(posted[doc.id])
            first = min(dates, default=None)
            if first is not None:
                fresh = selection.weight_recency * recency(
                    first, end, selection.recency_half_life_hours
                )
                dated[number] = dated[number]._replace(recency=fresh)
                older.add(doc.id)


def first_postings(
    corpus: Corpus,
    docs: Sequence[Doc],
    who: Sequence[str],
    postings: PostingReader,
    end: datetime,
    selection: SelectionSettings,
    in_window: Collection[int] = (),
) -> dict[int, datetime]:
    """Id -> the earliest trusted date (`scoring.trusted_date`) at which the same
    reporter (`who`, one per doc, `identity.reporters`) posted each doc's headline
    before it, outside the window (`in_window`: ids; copies there are one group,
    `scoring.dated_by_first_copy`), in a near-copy of it (similarity at least
    `duplicate_threshold`, as the archive's copies are judged), for the docs that have
    one. The headline finds the postings; their texts (read with `corpus.read`) decide:
    a column's name ("Markets wrap") heads a new report every day, and a copy's summary
    may be marked up anew or end in a "Read more" link."""
    by_title: dict[str, list[Doc]] = {}
    for posting in postings([doc.title for doc in docs]):
        by_title.setdefault(posting.title, []).append(posting)
    first: dict[int, datetime] = {}
    for doc, reporter in zip(docs, who, strict=True):
        earlier = [
            posting.id
            for posting in by_title.get(doc.title, [])
            if posting.id not in in_window
            and posting.published_at < doc.published_at
            and trusted_date(posting, end)
            and reporters([(posting.source, posting.url)])[0] == reporter
        ]
        if not earlier:
            continue
        copies = scan(
            corpus.read(earlier), [doc.vector], selection.duplicate_threshold, RELATED_MIN_TERMS
        )[0]
        if copies:
            first[doc.id] = min(copy.doc.published_at for copy in copies)
    return first
