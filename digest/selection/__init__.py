"""Selection: which articles make an edition, as a plan with no side effects."""

from digest.selection.plan import EditionPlan, RelatedItem, Story, Window
from digest.selection.selector import plan_edition
from digest.selection.window import edition_window

__all__ = ["EditionPlan", "RelatedItem", "Story", "Window", "edition_window", "plan_edition"]
