"""Related items under an edition's top stories (step 5 of `selector`).

For each top story, by similarity, from the whole corpus: at least `related_floor` and
below `duplicate_threshold` (a copy of the same report is not further reading), within
`RELATED_RATIO` of the best match (`close_to_best`), never a top story, never twice,
never two copies of one report, never a report of another top story's event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from digest.config import SelectionSettings
from digest.selection.corpus import Corpus, Doc, Match
from digest.selection.identity import canonical_address
from digest.selection.similarity import RELATED_MIN_TERMS, cosine

if TYPE_CHECKING:
    from digest.selection.selector import Choice

#: A related item scores at least this share of the best (non-copy) match.
RELATED_RATIO = 0.85


def attach_related(
    corpus: Corpus,
    choices: list[Choice],
    selection: SelectionSettings,
    used: set[int],
    elsewhere: Callable[[int, Doc], bool] = lambda story, item: False,
    apart: Callable[[Doc, Doc], bool] | None = None,
) -> None:
    """Related items for each story in order; `used` (the edition's articles) grows.

    `elsewhere(story number, item)` says the item reports the event of another top story
    of the edition (`events.Events.same_event`): such an item is not listed under this
    story, nor does it set the bar of `close_to_best`. A report of story B's event that
    passes the floor under story A shares A's topic words ("files for Chapter 15
    bankruptcy" under another company's Chapter 11 filing): listed under A it is a
    different event, and B tells its event already. On bench/select_eval.py's tune half
    this took related precision from 94.8% (109/115) to 98.2% (109/111); held-out half:
    96.8% to 96.0% (120/125).
    """
    if selection.related_per_story <= 0 or not choices:
        return
    found = corpus.search(
        [choice.doc.vector for choice in choices], selection.related_floor, RELATED_MIN_TERMS
    )
    threshold = selection.duplicate_threshold
    # Every page the edition shows, under any story: a page fetched twice (two guids) is
    # one article, and no article appears twice in an edition.
    addresses = {canonical_address(choice.doc.page) for choice in choices} - {""}
    for number, (choice, matches) in enumerate(zip(choices, found, strict=True)):
        chosen: list[dict[int, float]] = []
        bar = None  # `close_to_best`'s, set by the first match that could be listed
        for match in matches:  # best first; `elsewhere` asked only as far as needed
            if len(choice.related) == selection.related_per_story:
                break
            if match.doc.id == choice.doc.id or match.similarity >= threshold:
                continue
            if bar is not None and match.similarity < RELATED_RATIO * bar:
                break
            if elsewhere(number, match.doc) or (apart and apart(choice.doc, match.doc)):
                continue
            if bar is None:
                bar = match.similarity
            if match.doc.id in used:
                continue
            address = canonical_address(match.doc.page)
            if address in addresses:
                continue  # another fetch of a page already shown
            if any(cosine(other, match.doc.vector) >= threshold for other in chosen):
                continue
            choice.related.append(match)
            if address:
                addresses.add(address)
            chosen.append(match.doc.vector.as_dict())
            used.add(match.doc.id)


def close_to_best(matches: Sequence[Match], duplicate_threshold: float) -> list[Match]:
    """The matches (best first) within `RELATED_RATIO` of the best one that is not a copy.

    A different event on the same topic (another earthquake, another rate rise) shares
    the topic's words and can pass the floor; beside a report of the same event it
    scores clearly lower (on bench/related_eval.py's hard pairs, at most 0.81 of the
    same-event partner's similarity). Copies (at or above `duplicate_threshold`) stay,
    and do not set the bar: they are the same report, not further reading.
    """
    best = next((m.similarity for m in matches if m.similarity < duplicate_threshold), 0.0)
    return [m for m in matches if m.similarity >= RELATED_RATIO * best]
