"""Selection: which articles make an edition, as a plan with no side effects."""

from digest.selection.plan import EditionPlan, RelatedItem, Story, Window
from digest.selection.selector import (
    RelatedArticle,
    RelatedReport,
    plan_edition,
    related_articles,
)
from digest.selection.window import edition_window

__all__ = [
    "EditionPlan",
    "RelatedArticle",
    "RelatedItem",
    "RelatedReport",
    "Story",
    "Window",
    "edition_window",
    "plan_edition",
    "related_articles",
]
