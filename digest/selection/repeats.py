"""Articles that led a recent edition, in any of their forms: not top stories again.

An article that led an edition sent in the last `no_repeat_days` is not a top story
again (DESIGN.md, Selection), and neither is what is that article under another name:
a near-copy (similarity at least `duplicate_threshold`, an update with a reworded
headline) or the same page fetched again under a new guid (one `canonical_address`:
http and https, www or not, tracking parameters).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from digest.config import SelectionSettings
from digest.selection import store
from digest.selection.corpus import Corpus, Doc, scan
from digest.selection.identity import canonical_address
from digest.selection.similarity import Vector


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
