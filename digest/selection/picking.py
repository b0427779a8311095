"""Choosing the top stories from the ranked candidates (one per near-duplicate group).

Best score first, with two rules:

- sections stay diverse: no section takes more than half the slots while another
  section still has a candidate (only then does the cap give way);
- one story, one top story: a candidate related (similarity at or above the floor) to a
  story already chosen is set aside, because it is better shown as that story's related
  item than as a second top story on the same news. Set-aside candidates that do not end
  up as related items fill the slots still empty (a quiet day), best first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from digest.selection.corpus import Doc


def _cap(count: int) -> int:
    return max(1, count // 2)


def pick_top_stories(
    ranked: Sequence[Doc], count: int, related: Callable[[Doc, Doc], bool]
) -> tuple[list[Doc], list[Doc]]:
    """(top stories, set aside): up to `count` from `ranked` (best first); set aside are
    the candidates related to a story picked before them, best first."""
    picked: list[Doc] = []
    set_aside: list[Doc] = []
    remaining = list(ranked)
    while remaining and len(picked) < count:
        story = _next(remaining, picked, count)
        if any(related(story, chosen) for chosen in picked):
            set_aside.append(story)
        else:
            picked.append(story)
    set_aside.extend(remaining)  # never compared: kept for filling, in rank order
    return picked, set_aside


def fill(picked: Sequence[Doc], candidates: Sequence[Doc], count: int) -> list[Doc]:
    """More stories from `candidates` (best first) until `count`, sections diverse."""
    chosen = list(picked)
    remaining = list(candidates)
    while remaining and len(chosen) < count:
        chosen.append(_next(remaining, chosen, count))
    return chosen[len(picked) :]


def _next(remaining: list[Doc], picked: Sequence[Doc], count: int) -> Doc:
    """Remove and return the best candidate whose section is under the cap, else the best."""
    per_section: dict[str, int] = {}
    for story in picked:
        per_section[story.section] = per_section.get(story.section, 0) + 1
    cap = _cap(count)
    for position, doc in enumerate(remaining):
        if per_section.get(doc.section, 0) < cap:
            return remaining.pop(position)
    return remaining.pop(0)
