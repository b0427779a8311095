"""Each near-duplicate group's candidate for a top story (DESIGN.md, Selection, steps 3-5).

A group is one report and its copies, joined with every other fetch of one address; its
candidate is its best-scoring article that may lead, ranked by date tier first (an
article whose date is not the source's own never leads dated news), then score, then
newest and guid, so that the same window always gives the same candidates in the same
order.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter

from digest.selection.corpus import Doc
from digest.selection.identity import canonical_address


def join_same_address(
    groups: Sequence[int], docs: Sequence[Doc]
) -> tuple[list[int], frozenset[int]]:
    """Groups with every fetch of one address joined; the ids of the later fetches."""
    joined = list(groups)
    first_at: dict[str, int] = {}
    later: set[int] = set()
    for number, doc in enumerate(docs):  # publication order: the first fetch comes first
        address = canonical_address(doc.page)
        if not address:
            continue
        first = first_at.setdefault(address, number)
        if first == number:
            continue
        later.add(doc.id)
        keep, drop = sorted((joined[first], joined[number]))
        if keep != drop:
            joined = [keep if group == drop else group for group in joined]
    return joined, frozenset(later)


def date_tier(doc: Doc, undated: frozenset[int]) -> int:
    """0 for dated news, 1 for a date not the source's own (`undated`), 2 for an item
    undated in its source's first fetch (`Doc.backlog`): ranking and picking go tier by
    tier."""
    return 2 if doc.backlog else 1 if doc.id in undated else 0


def representatives(
    docs: Sequence[Doc],
    groups: Sequence[int],
    doc_scores: Sequence[float],
    excluded: frozenset[int],
    undated: frozenset[int] = frozenset(),
) -> list[tuple[float, Doc]]:
    """The best-scoring allowed article of each group, best first (ties: newest, guid).

    Articles whose date is not the source's own (`undated`) come after every dated one,
    whatever their score: a backlog stamped with its fetch time, or a feed whose dates
    could not be read, must not lead an edition over the day's dated news. Of those, a
    source's first fetch without dates (`Doc.backlog`: its items may be years old) comes
    after the others (a future date clamped, a later fetch's undated item: of this day).
    """

    best: dict[int, tuple[tuple[int, float, float, str], float, Doc]] = {}
    for group, score, doc in zip(groups, doc_scores, docs, strict=True):
        if doc.id in excluded:
            continue
        rank = (date_tier(doc, undated), -score, *doc.order_key())
        held = best.get(group)
        if held is None or rank < held[0]:
            best[group] = (rank, score, doc)
    return [(score, doc) for _, score, doc in sorted(best.values(), key=itemgetter(0))]
