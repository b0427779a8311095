"""Choosing the top stories from the ranked candidates (one per near-duplicate group).

Best score first, with two rules:

- sections stay diverse: no section takes more than half the slots while another
  section still has a candidate (only then does the cap give way);
- one event, one top story: a candidate reporting the same event as a story already
  chosen (`events.Events.same_event`) is set aside, because it is better shown as that
  story's related item than as a second top story on the same news. Set-aside
  candidates never fill empty slots: on a quiet day the edition is shorter rather than
  telling one event twice.

Each pick also records the candidates it was preferred to *because of section
diversity*: better-scoring candidates whose section had reached its cap (for
`digest select --explain`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from digest.selection.corpus import Doc

#: At most this many passed-over candidates are recorded per pick (enough to explain it).
EXPLAINED = 10


def _cap(count: int) -> int:
    return max(1, count // 2)


@dataclass
class Picking:
    """The outcome: top stories in order, what each set aside or beat, its strays."""

    picked: list[Doc] = field(default_factory=list)
    #: Story id -> candidates set aside as the same event as that story, best first.
    same_event: dict[int, list[Doc]] = field(default_factory=dict)
    #: Story id -> better-scoring candidates passed over for section diversity.
    beaten: dict[int, list[Doc]] = field(default_factory=dict)
    #: Story id -> lone reports of its event set aside before picking (filled by the
    #: selector: `corroboration.uncorroborated`), each under one story only.
    strays: dict[int, list[Doc]] = field(default_factory=dict)
    #: Candidates ranked above the last story, passed over because their section was
    #: full and so never asked whether they report a story's event, best first. The
    #: selector gives a story those that report its event (`same_event`), as picking
    #: would have had their section had room.
    passed_over: list[Doc] = field(default_factory=list)


def pick_top_stories(
    ranked: Sequence[Doc],
    count: int,
    same_event: Callable[[Doc, Doc], bool],
    related: Callable[[Doc, Doc], bool] = lambda story, report: False,
    tier: Callable[[Doc], int] = lambda doc: 0,
) -> Picking:
    """Up to `count` top stories from `ranked` (best first), sections diverse, one per
    event. A candidate is a chosen story's event when `same_event` says so, or when it
    is `related` to a report already set aside as that story's event: one step, not a
    chain (a report related to a report related to a report can be another event).
    `ranked` is in tiers (`tier`: 0 for dated news, then untrusted dates): a section's
    cap gives way to the best candidate of the tier at hand before a candidate of a
    later tier is let in for diversity (an undated backlog item is no other section's
    news)."""
    outcome = Picking()
    remaining = list(ranked)
    rank = {doc.id: number for number, doc in enumerate(ranked)}
    #: Story id -> the reports `same_event` itself set aside: the only ones `related`
    #: is asked about, so that a report set aside for being related is not a step on.
    direct: dict[int, list[Doc]] = {}

    def owns(chosen: Doc, story: Doc) -> bool:
        if same_event(story, chosen):
            direct[chosen.id].append(story)
            return True
        return any(related(story, report) for report in direct[chosen.id])

    while remaining and len(outcome.picked) < count:
        story, passed_over = _next(remaining, outcome.picked, count, tier)
        owner = next((chosen for chosen in outcome.picked if owns(chosen, story)), None)
        if owner is not None:
            outcome.same_event[owner.id].append(story)
            remaining[0:0] = passed_over  # they were not beaten: nothing was picked
            continue
        outcome.picked.append(story)
        outcome.same_event[story.id] = []
        direct[story.id] = []
        outcome.beaten[story.id] = _beaten(passed_over[:EXPLAINED], outcome.picked, same_event)
        remaining[0:0] = passed_over
    if outcome.picked:
        last = rank[outcome.picked[-1].id]
        outcome.passed_over = [doc for doc in remaining if rank[doc.id] < last]
    return outcome


def _beaten(
    passed_over: Sequence[Doc], picked: Sequence[Doc], same_event: Callable[[Doc, Doc], bool]
) -> list[Doc]:
    """The candidates a story beat on section diversity, one per event: none of a chosen
    story's event, and none of the event of one listed before it (a breaker's edition
    listed three reports of one fire as three candidates beaten)."""
    found: list[Doc] = []
    for doc in passed_over:
        if not any(same_event(doc, other) for other in (*picked, *found)):
            found.append(doc)
    return found


def _next(
    remaining: list[Doc], picked: Sequence[Doc], count: int, tier: Callable[[Doc], int]
) -> tuple[Doc, list[Doc]]:
    """Remove and return the best candidate of the best tier whose section is under the
    cap (else the best), and remove the better ones passed over because their section
    was full."""
    per_section: dict[str, int] = {}
    for story in picked:
        per_section[story.section] = per_section.get(story.section, 0) + 1
    cap = _cap(count)
    best = tier(remaining[0])
    for position, doc in enumerate(remaining):
        if tier(doc) != best:
            break
        if per_section.get(doc.section, 0) < cap:
            passed_over = remaining[:position]
            del remaining[: position + 1]
            return doc, passed_over
    return remaining.pop(0), []
