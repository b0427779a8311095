"""Each near-duplicate group's candidate (`candidates.representatives`), against its rule
written out plainly: the best allowed article of each group by (date tier, score,
newest, guid), groups best first, equal ranks in the order each group is first met."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from digest.selection.candidates import date_tier, representatives
from digest.selection.corpus import Doc

END = datetime(2025, 6, 4, 4, tzinfo=UTC)


def _plainly(
    docs: list[Doc], groups: list[int], scores: list[float], excluded: frozenset[int], undated
) -> list[tuple[float, Doc]]:
    best: dict[int, tuple[tuple, float, Doc]] = {}
    for group, score, doc in zip(groups, scores, docs, strict=True):
        if doc.id in excluded:
            continue
        rank = (date_tier(doc, undated), -score, *doc.order_key())
        if group not in best or rank < best[group][0]:
            best[group] = (rank, score, doc)
    return [(score, doc) for _, score, doc in sorted(best.values(), key=lambda held: held[0])]


def test_each_groups_candidate_and_their_order_follow_the_rule() -> None:
    for seed in range(40):
        rng = random.Random(seed)
        count = rng.randint(0, 60)
        docs = [
            Doc(
                id=number,
                guid=f"g{rng.randint(0, 8)}",  # shared guids: ties down to the last key
                title="",
                section="World",
                source="feed",
                published_at=END - timedelta(hours=rng.choice([1, 2, 3])),
                backlog=rng.random() < 0.1,
            )
            for number in range(count)
        ]
        groups = [rng.randint(0, 12) for _ in docs]
        scores = [rng.choice([0.0, 0.5, 1.25, 2.0]) for _ in docs]
        excluded = frozenset(doc.id for doc in docs if rng.random() < 0.2)
        undated = frozenset(doc.id for doc in docs if rng.random() < 0.2)
        found = representatives(docs, groups, scores, excluded, undated)
        expected = _plainly(docs, groups, scores, excluded, undated)
        assert [(score, doc.id) for score, doc in found] == [
            (score, doc.id) for score, doc in expected
        ]
