"""Each near-duplicate group's candidate for a top story (DESIGN.md, Selection, steps 3-5).

A group is one report and its copies, joined with every other fetch of one address; its
candidate is its best-scoring article that may lead, ranked by date tier first (an
article whose date is not the source's own never leads dated news), then score, then
newest and guid, so that the same window always gives the same candidates in the same
order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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
        address = canonical_address(doc.url)
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

    # Ranked with numpy over the window's ten thousand articles (a Python tuple per
    # article and a sort of thousands of tuples cost 40 ms a picking): every article in
    # rank order, each group's first its best; the groups then in their bests' order,
    # equal ranks in the order each group is first met (a stable sort of the groups).
    allowed = np.flatnonzero(
        np.fromiter((doc.id not in excluded for doc in docs), dtype=bool, count=len(docs))
    )
    if not len(allowed):
        return []
    keys = [docs[number].order_key() for number in allowed.tolist()]
    tier = np.fromiter((date_tier(docs[n], undated) for n in allowed.tolist()), dtype=np.int64)
    score = -np.asarray(doc_scores, dtype=np.float64)[allowed]
    newest = np.fromiter((key[0] for key in keys), dtype=np.float64, count=len(keys))
    ranks = {guid: rank for rank, guid in enumerate(sorted({key[1] for key in keys}))}
    guid = np.fromiter((ranks[key[1]] for key in keys), dtype=np.int64, count=len(keys))
    group = np.asarray(groups, dtype=np.int64)[allowed]
    order = np.lexsort((guid, newest, score, tier))
    _, best = np.unique(group[order], return_index=True)
    _, met = np.unique(group, return_index=True)  # both in group order
    best = order[best]
    chosen = best[np.lexsort((met, guid[best], newest[best], score[best], tier[best]))]
    return [(doc_scores[n], docs[n]) for n in allowed[chosen].tolist()]
