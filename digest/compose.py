"""An edition's content before it is frozen: the plan over its tiled window, rendered.

Selection and rendering never import each other; this is where they meet for one edition.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from digest import editions
from digest.config import Settings
from digest.editions import Composer
from digest.errors import ConfigError
from digest.render import RenderedEdition, render_edition
from digest.selection import EditionPlan, Window, plan_edition


def check_language(settings: Settings, language: str) -> str:
    """`language` if the site publishes in it; ConfigError naming the field otherwise."""
    if language not in settings.site.languages:
        raise ConfigError(
            f"{language!r} is not one of the site's languages "
            f"({', '.join(settings.site.languages)})",
            field="language",
        )
    return language


def plan_over(
    session: Session, settings: Settings, day: date, language: str, window: Window
) -> EditionPlan:
    return plan_edition(
        session,
        day=day,
        language=check_language(settings, language),
        selection=settings.selection,
        schedule=settings.schedule,
        window=window,
    )


def plan(
    session: Session, settings: Settings, day: date, language: str, *, now: datetime
) -> EditionPlan:
    """The plan over the window the edition had (frozen) or would have if frozen at `now`."""
    check_language(settings, language)
    choice = editions.window_for(session, settings, day, language, now)
    return plan_over(session, settings, day, language, choice.window)


def composer(settings: Settings, day: date, language: str) -> Composer:
    """What `editions.freeze` calls inside the lock: plan the window and render it."""

    def compose(session: Session, window: Window) -> tuple[EditionPlan, RenderedEdition] | None:
        edition_plan = plan_over(session, settings, day, language, window)
        if edition_plan.is_empty:
            return None
        return edition_plan, render_edition(edition_plan, settings)

    return compose
