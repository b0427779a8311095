"""The edition's top stories and their related items.

First form: score by priority and recency, keep sections diverse, skip identical
headlines, and relate items by word overlap. The selector issue replaces the scoring
and similarity with content-based grouping; the plan it returns stays the same.
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.config import ScheduleSettings, SelectionSettings
from digest.ingest.clean import plain_text
from digest.models import Article, Edition, EditionItem, EditionStatus
from digest.selection.plan import EditionPlan, RelatedItem, Story, Window
from digest.selection.window import edition_window

_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    "a an and are as at be by for from has have in is it its of on or the to was were with "
    "amid after over new says his her their".split()
)


def _tokens(article: Article) -> frozenset[str]:
    text = f"{article.title} {plain_text(article.summary)}".casefold()
    return frozenset(w for w in _WORD.findall(text) if len(w) > 2 and w not in _STOP)


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _score(article: Article, window: Window, weights: SelectionSettings) -> float:
    age_hours = max(0.0, (window.end - article.published_at).total_seconds() / 3600)
    recency = 0.5 ** (age_hours / max(weights.recency_half_life_hours, 0.1))
    popularity = math.log1p(article.popularity or 0) / 10
    return (
        weights.weight_priority * article.priority
        + weights.weight_recency * recency
        + weights.weight_popularity * popularity
    )


def recent_top_story_ids(session: Session, day: date, language: str, days: int) -> set[int]:
    """Articles that led an edition sent (or sending) in the `days` before `day`."""
    rows = session.scalars(
        select(EditionItem.article_id)
        .join(Edition, EditionItem.edition_id == Edition.id)
        .where(
            Edition.language == language,
            Edition.date < day,
            Edition.date >= day - timedelta(days=days),
            Edition.status.in_([EditionStatus.SENDING, EditionStatus.SENT]),
            EditionItem.role == "top",
        )
    )
    return set(rows)


def plan_edition(
    session: Session,
    *,
    day: date,
    language: str,
    selection: SelectionSettings,
    schedule: ScheduleSettings,
) -> EditionPlan:
    window = edition_window(day, schedule.at, schedule.timezone, selection.window_hours)
    plan = EditionPlan(date=day, language=language, window=window)
    excluded = recent_top_story_ids(session, day, language, selection.no_repeat_days)
    candidates = [
        article
        for article in session.scalars(
            select(Article)
            .where(
                Article.language == language,
                Article.published_at >= window.start,
                Article.published_at < window.end,
            )
            .order_by(Article.guid)
        )
        if article.id not in excluded
    ]
    ranked = sorted(
        candidates,
        key=lambda a: (-_score(a, window, selection), -a.published_at.timestamp(), a.guid),
    )
    tops = _pick_diverse(ranked, selection.top_stories)
    archive_start = window.start - timedelta(days=selection.no_repeat_days)
    archive = list(
        session.scalars(
            select(Article)
            .where(
                Article.language == language,
                Article.published_at >= archive_start,
                Article.published_at < window.end,
            )
            .order_by(Article.guid)
        )
    )
    used = {article.id for article in tops}
    tokens = {article.id: _tokens(article) for article in archive}
    for top in tops:
        top_tokens = tokens.get(top.id) or _tokens(top)
        scored = sorted(
            (
                (_similarity(top_tokens, tokens[other.id]), other)
                for other in archive
                if other.id not in used
            ),
            key=lambda pair: (-pair[0], pair[1].guid),
        )
        related = [
            RelatedItem(other, round(sim, 4))
            for sim, other in scored[: selection.related_per_story]
            if sim >= selection.related_floor
        ]
        used.update(item.article.id for item in related)
        plan.stories.append(Story(top, round(_score(top, window, selection), 4), related))
    return plan


def _pick_diverse(ranked: list[Article], count: int) -> list[Article]:
    """Best first, but no section takes more than half the slots while others wait."""
    cap = max(1, count // 2)
    picked: list[Article] = []
    per_section: dict[str, int] = {}
    seen_titles: set[str] = set()
    deferred: list[Article] = []
    for article in ranked:
        title_key = article.title.casefold()
        if title_key in seen_titles:
            continue
        if per_section.get(article.section, 0) >= cap:
            deferred.append(article)
            continue
        picked.append(article)
        seen_titles.add(title_key)
        per_section[article.section] = per_section.get(article.section, 0) + 1
        if len(picked) == count:
            return picked
    for article in deferred:  # only when no other section has candidates left
        if len(picked) == count:
            break
        if article.title.casefold() not in seen_titles:
            picked.append(article)
            seen_titles.add(article.title.casefold())
    return picked
