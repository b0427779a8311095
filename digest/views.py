"""Stable JSON shapes of the library's objects (documented in the README)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from digest.editions import EditionWindow
from digest.models import Article
from digest.selection.plan import EditionPlan
from digest.selection.selector import RelatedReport


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, to the second."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def article_dict(article: Article) -> dict[str, Any]:
    return {
        "guid": article.guid,
        "url": article.url,
        "title": article.title,
        "summary": article.summary,
        "body": article.body,
        "section": article.section,
        "author": article.author,
        "language": article.language,
        "image_url": article.image_url,
        "published_at": iso(article.published_at),
        "updated_at": iso(article.updated_at),
        "date_estimated": article.date_estimated,
        "priority": article.priority,
        "popularity": article.popularity,
        "source": article.source,
    }


def plan_dict(plan: EditionPlan) -> dict[str, Any]:
    return {
        "date": plan.date.isoformat(),
        "language": plan.language,
        "window": {"start": iso(plan.window.start), "end": iso(plan.window.end)},
        "stories": [
            {
                "article": article_dict(story.article),
                "score": story.score,
                "related": [
                    {"article": article_dict(item.article), "similarity": item.similarity}
                    for item in story.related
                ],
            }
            for story in plan.stories
        ],
    }


def window_dict(choice: EditionWindow) -> dict[str, Any]:
    """An edition's window: `start`/`end` as frozen, or as freezing now would make them."""
    return {
        "start": iso(choice.window.start),
        "end": iso(choice.window.end),
        "scheduled_at": iso(choice.scheduled_at),
        "early": choice.early,
        "frozen": choice.frozen,
        "previous_edition": choice.previous,
    }


def related_list(report: RelatedReport) -> list[dict[str, Any]]:
    """`digest articles related --json`: the matches, best first, like select's related items."""
    return [
        {
            "article": article_dict(item.article),
            "similarity": item.similarity,
            "duplicate": item.duplicate,
        }
        for item in report.related
    ]
