"""Stable JSON shapes of the library's objects (documented in the README)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from digest.editions import EditionWindow
from digest.models import Article
from digest.selection.plan import EditionPlan, Explanation, Report

if TYPE_CHECKING:
    from digest.selection.related import RelatedReport


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
        "canonical_url": article.canonical_url,
        "estimated_on_first_fetch": article.estimated_on_first_fetch,
        "held_at": iso(article.held_at),
    }


def plan_dict(plan: EditionPlan, *, explain: bool = False) -> dict[str, Any]:
    """`digest select --json`; with `explain`, each story also has "explanation"."""
    stories = []
    for story in plan.stories:
        shown: dict[str, Any] = {
            "article": article_dict(story.article),
            "score": story.score,
            "related": [
                {"article": article_dict(item.article), "similarity": item.similarity}
                for item in story.related
            ],
        }
        if explain and story.explanation is not None:
            shown["explanation"] = explanation_dict(story.explanation)
        stories.append(shown)
    return {
        "date": plan.date.isoformat(),
        "language": plan.language,
        "window": {"start": iso(plan.window.start), "end": iso(plan.window.end)},
        "stories": stories,
        "set_aside": [report_dict(report) for report in plan.set_aside],
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


def report_dict(report: Report) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "guid": report.guid,
        "title": report.title,
        "source": report.source,
        "section": report.section,
        "published_at": iso(report.published_at),
    }
    if report.score is not None:
        shown["score"] = report.score
    return shown


def explanation_dict(explanation: Explanation) -> dict[str, Any]:
    return {
        "score_parts": {
            "priority": explanation.priority,
            "popularity": explanation.popularity,
            "recency": explanation.recency,
            "coverage": explanation.coverage,
        },
        "sources": explanation.sources,
        "reports": [report_dict(report) for report in explanation.reports],
        "beat_on_section": [report_dict(report) for report in explanation.beaten],
    }


def explanation_lines(explanation: Explanation, indent: str = "      ") -> list[str]:
    """`digest select --explain`: the score in parts, the reports grouped into the
    story, the candidates it beat on section diversity."""
    sources = "source" if explanation.sources == 1 else "sources"
    lines = [
        f"{indent}score = priority {explanation.priority:.2f} + popularity "
        f"{explanation.popularity:.2f} + recency {explanation.recency:.2f} + coverage "
        f"{explanation.coverage:.2f} ({explanation.sources} {sources})"
    ]
    if explanation.reports:
        lines.append(f"{indent}grouped into it ({len(explanation.reports)}):")
        lines.extend(f"{indent}  {line}" for line in report_lines(explanation.reports))
    for report in explanation.beaten:
        lines.append(
            f"{indent}beat on section diversity: [{report.section or '-'}] {report.title} "
            f"(score {report.score})"
        )
    return lines


def report_lines(reports: Sequence[Report]) -> list[str]:
    """One line per report: its time, headline, guid and source."""
    return [f"{iso(r.published_at)}  {r.title} ({r.guid}, {r.source or '-'})" for r in reports]


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
