"""The edition plan: what select produces and render/freeze consume."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from digest.models import Article


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


@dataclass
class RelatedItem:
    article: Article
    similarity: float


@dataclass(frozen=True)
class Report:
    """A window article as the selector saw it (for explanations: no ORM object)."""

    guid: str
    title: str
    source: str
    section: str
    published_at: datetime
    #: Its score, where the explanation compares scores.
    score: float | None = None


@dataclass
class Explanation:
    """Why a story is a top story: its score in weighted parts (they add up to the
    score), the window reports grouped into it (copies, re-fetches, other reports of
    the same event), and the better-scoring candidates it was preferred to because
    their section had reached its share of the slots."""

    priority: float
    popularity: float
    recency: float
    coverage: float
    #: Distinct sources reporting the event (coverage is 1 - 1/sources).
    sources: int
    reports: list[Report] = field(default_factory=list)
    beaten: list[Report] = field(default_factory=list)


@dataclass
class Story:
    article: Article
    score: float
    related: list[RelatedItem] = field(default_factory=list)
    explanation: Explanation | None = None


@dataclass
class EditionPlan:
    date: date
    language: str
    window: Window
    stories: list[Story] = field(default_factory=list)
    #: Articles of the window left out because they led a recent edition (or copy one).
    repeats: int = 0
    #: Reports one source alone carries, left out in a window most of whose news
    #: several sources carry (`corroboration.uncorroborated`), and under no story.
    set_aside: list[Report] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.stories

    def articles(self) -> list[Article]:
        """Every article in edition order: each top story, then its related items."""
        ordered: list[Article] = []
        for story in self.stories:
            ordered.append(story.article)
            ordered.extend(item.article for item in story.related)
        return ordered
