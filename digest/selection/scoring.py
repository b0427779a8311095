"""How big a story is: editorial priority, popularity, recency and coverage.

score = weight_priority x priority            (the editor's weight, as stored)
      + weight_popularity x popularity        (0..1: ln(1 + views) / ln(1 + most views in
                                               the window); articles without a count get
                                               the window's median, so feeds that report
                                               no views are not punished)
      + weight_recency x recency              (0..1: halves every recency_half_life_hours
                                               before the send time)
      + weight_coverage x coverage            (0..1: 1 - 1/reports, reports = distinct
                                               sources in the article's near-duplicate
                                               group + half a report for each further
                                               page (distinct canonical URL) from a
                                               source already counted; rows never count)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from statistics import median

from digest.config import SelectionSettings
from digest.selection.corpus import Doc


def recency(published_at: datetime, end: datetime, half_life_hours: float) -> float:
    age_hours = max(0.0, (end - published_at).total_seconds() / 3600)
    return 0.5 ** (age_hours / max(half_life_hours, 0.1))


def popularity(docs: Sequence[Doc]) -> list[float]:
    """Views on a log scale relative to the window's most viewed article."""
    known = [math.log1p(max(doc.popularity, 0)) for doc in docs if doc.popularity is not None]
    top = max(known, default=0.0)
    if top <= 0.0:
        return [0.0] * len(docs)
    typical = median(known) / top
    return [
        typical if doc.popularity is None else math.log1p(max(doc.popularity, 0)) / top
        for doc in docs
    ]


def coverage(groups: Sequence[int], docs: Sequence[Doc]) -> list[float]:
    """How widely each article's story is reported, from its near-duplicate group."""
    pages: dict[int, set[str]] = {}
    sources: dict[int, set[str]] = {}
    for group, doc in zip(groups, docs, strict=True):
        pages.setdefault(group, set()).add(doc.canonical_url or f"#{doc.id}")
        sources.setdefault(group, set()).add(doc.source)
    result = []
    for group in groups:
        distinct = len(sources[group])
        reports = distinct + 0.5 * max(len(pages[group]) - distinct, 0)
        result.append(1.0 - 1.0 / reports)
    return result


def scores(
    docs: Sequence[Doc], groups: Sequence[int], end: datetime, weights: SelectionSettings
) -> list[float]:
    """The score of every window article (same order as `docs`)."""
    views = popularity(docs)
    covered = coverage(groups, docs)
    return [
        weights.weight_priority * doc.priority
        + weights.weight_popularity * seen
        + weights.weight_recency * recency(doc.published_at, end, weights.recency_half_life_hours)
        + weights.weight_coverage * reported
        for doc, seen, reported in zip(docs, views, covered, strict=True)
    ]
