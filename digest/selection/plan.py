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


@dataclass
class Story:
    article: Article
    score: float
    related: list[RelatedItem] = field(default_factory=list)


@dataclass
class EditionPlan:
    date: date
    language: str
    window: Window
    stories: list[Story] = field(default_factory=list)
    #: Articles of the window left out because they led a recent edition (or copy one).
    repeats: int = 0

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
