"""How big a story is: editorial priority, popularity, recency and coverage.

score = weight_priority x priority            (the editor's weight, as stored)
      + weight_popularity x popularity        (0..1: ln(1 + views) / ln(1 + most views in
                                               the window); articles without a count get
                                               the window's median, so feeds that report
                                               no views are not punished)
      + weight_recency x recency              (0..1: halves every recency_half_life_hours
                                               before the send time; 0 for a date that
                                               is not the source's own: estimated, or
                                               later than the article was fetched)
      + weight_coverage x coverage            (0..1: 1 - 1/reports, reports = distinct
                                               sources reporting the article's event:
                                               its related articles in the window,
                                               `events.Events.coverage_sources`)

Why recency is withheld from an untrusted date: an undated item is stamped with its fetch
time, which makes it look like the newest news of the day; an accident should not earn
the freshness a reporter's time stamp earns. Why sources and not rows: a feed that runs
a story twice, or one article fetched again under a new guid, is one report.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from datetime import datetime, timedelta
from statistics import median
from typing import NamedTuple

from digest.config import SelectionSettings
from digest.selection.corpus import Doc

#: A published time further past the fetch time than this is not the source's own.
FUTURE_TOLERANCE = timedelta(minutes=10)


def recency(published_at: datetime, end: datetime, half_life_hours: float) -> float:
    """1.0 at `end`, halving every `half_life_hours` before it (a time after `end`: 1.0)."""
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


def trusted_date(doc: Doc, end: datetime) -> bool:
    """Whether the article's time is the source's own: not estimated, not after it was
    fetched (nor after the send time)."""
    if doc.date_estimated or doc.published_at > end + FUTURE_TOLERANCE:
        return False
    return doc.ingested_at is None or doc.published_at <= doc.ingested_at + FUTURE_TOLERANCE


def dated_by_first_copy(
    parts: Sequence[ScoreParts],
    docs: Sequence[Doc],
    copies: Sequence[Hashable],
    end: datetime,
    weights: SelectionSettings,
) -> list[ScoreParts]:
    """`parts` with the recency of each article that is a later copy of an earlier one
    (one key in `copies`: one near-duplicate group and one reporter) taken from the
    first copy's trusted date. An outlet that posts its own story again under a new guid
    and address, with that day's date, has not reported anything new: the copy must not
    lend the story the freshness of news. Copies by other outlets are coverage (a story
    reported all day is still the day's news), and keep their own dates."""
    first: dict[Hashable, datetime] = {}
    for key, doc in zip(copies, docs, strict=True):
        if trusted_date(doc, end) and (key not in first or doc.published_at < first[key]):
            first[key] = doc.published_at
    half_life = weights.recency_half_life_hours
    dated = list(parts)
    for number, (key, doc) in enumerate(zip(copies, docs, strict=True)):
        earliest = first.get(key)
        if earliest is not None and earliest < doc.published_at and parts[number].recency:
            fresh = weights.weight_recency * recency(earliest, end, half_life)
            dated[number] = parts[number]._replace(recency=fresh)
    return dated


def coverage(reports: Sequence[int]) -> list[float]:
    """0..1 from the number of distinct sources reporting each article's event."""
    return [1.0 - 1.0 / max(count, 1) for count in reports]


class ScoreParts(NamedTuple):
    """One article's score, in parts (each already multiplied by its weight). A named
    tuple: ten thousand are made per selection, a quarter of the time a frozen
    dataclass's took."""

    priority: float
    popularity: float
    recency: float
    coverage: float
    #: Distinct sources reporting the event (what coverage is computed from).
    sources: int

    @property
    def total(self) -> float:
        return self.priority + self.popularity + self.recency + self.coverage


def recounted(parts: ScoreParts, sources: int, weights: SelectionSettings) -> ScoreParts:
    """`parts` with coverage from `sources` distinct sources instead."""
    covered = coverage([sources])[0]
    return parts._replace(coverage=weights.weight_coverage * covered, sources=sources)


def score_parts(
    docs: Sequence[Doc], reports: Sequence[int], end: datetime, weights: SelectionSettings
) -> list[ScoreParts]:
    """The score of every window article (same order as `docs`), in parts."""
    views = popularity(docs)
    covered = coverage(reports)
    half_life = weights.recency_half_life_hours
    return [
        ScoreParts(
            priority=weights.weight_priority * doc.priority,
            popularity=weights.weight_popularity * seen,
            recency=weights.weight_recency * recency(doc.published_at, end, half_life)
            if trusted_date(doc, end)
            else 0.0,
            coverage=weights.weight_coverage * reported,
            sources=count,
        )
        for doc, seen, reported, count in zip(docs, views, covered, reports, strict=True)
    ]
