"""Selection: which articles make an edition, as a plan with no side effects.

Names are loaded on first use (PEP 562): the plan's value types and the window arithmetic
are light, while the selector pulls numpy, scipy and the text pipeline. `digest status`
and other quick commands read editions and windows, and must not pay for the selector.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from digest.selection.plan import EditionPlan, RelatedItem, Story, Window
    from digest.selection.related import RelatedArticle, RelatedReport, related_articles
    from digest.selection.selector import plan_edition
    from digest.selection.window import edition_window

_WHERE = {
    "EditionPlan": "digest.selection.plan",
    "RelatedItem": "digest.selection.plan",
    "Story": "digest.selection.plan",
    "Window": "digest.selection.plan",
    "RelatedArticle": "digest.selection.related",
    "RelatedReport": "digest.selection.related",
    "plan_edition": "digest.selection.selector",
    "related_articles": "digest.selection.related",
    "edition_window": "digest.selection.window",
}

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


def __getattr__(name: str) -> Any:
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'digest.selection' has no attribute {name!r}") from None
    return getattr(import_module(module), name)
