"""Rendering an edition once: Jinja templates, premailer inlining, plain-text twin.

The output still holds the per-recipient placeholders of `digest.placeholders`; the
sender fills them per message, so no template or CSS work happens per recipient.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from typing import Any

import jinja2

from digest import i18n
from digest.config import Settings
from digest.errors import RenderError
from digest.render.context import Limits, PlanLike, build_context
from digest.render.environment import (
    get_template,
    locale_dirs,
    shared_environment,
    template_dirs,
    translator,
)
from digest.render.trim import encoded_size, fit, ladder

HTML_TEMPLATE = "email.html"
TEXT_TEMPLATE = "email.txt"


@dataclass(frozen=True)
class RenderedEdition:
    subject: str
    preheader: str
    html: str
    text: str
    language: str = ""
    direction: str = "ltr"
    #: What trimming left out to fit the size budget ("" when the full edition fits).
    trimmed: str = ""
    #: Encoded bytes of the HTML part before personalisation.
    html_size: int = 0


def inline_css(html: str) -> str:
    """Inline the <style> rules (once per edition); @media rules stay in <style>."""
    import premailer

    logging.getLogger("cssutils").setLevel(logging.CRITICAL)
    try:
        return premailer.Premailer(
            html,
            keep_style_tags=False,
            remove_classes=False,
            strip_important=False,
            disable_validation=True,
            disable_basic_attributes=["align", "width", "height"],
            cssutils_logging_level=logging.CRITICAL,
            allow_network=False,
            allow_loading_external_files=False,
        ).transform()
    except Exception as e:  # premailer raises assorted parser errors
        raise RenderError(f"CSS inlining failed: {e}") from e


def _render(template: jinja2.Template, context: dict[str, Any], settings: Settings) -> str:
    try:
        return template.render(context)
    except RenderError:
        raise
    except jinja2.TemplateError as e:
        raise RenderError(f"{_where(e, template, settings)}: {e}") from e
    except (AttributeError, TypeError, ValueError, KeyError) as e:
        raise RenderError(f"{_where(e, template, settings)}: {e}") from e


def _where(error: BaseException, template: jinja2.Template, settings: Settings) -> str:
    """`folder/email.html, line 12`: the template frame the error came from."""
    folders = tuple(str(folder) for folder in template_dirs(settings))
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.startswith(folders):
            return f"{frame.filename}, line {frame.lineno}"
    return str(template.filename or template.name)


def render_edition(
    plan: PlanLike, settings: Settings, *, timezone: str | None = None
) -> RenderedEdition:
    """Render and inline once; trim predictably if the HTML would not fit the budget.

    Story times are shown in `timezone` (an IANA name; default `schedule.timezone`)."""
    catalogue = i18n.catalogue(plan.language, locale_dirs(settings))
    env = shared_environment(settings)
    t = translator(catalogue)
    html_template = get_template(env, HTML_TEMPLATE)
    text_template = get_template(env, TEXT_TEMPLATE)

    def attempt(limits: Limits) -> RenderedEdition:
        context = build_context(plan, settings, catalogue, limits, timezone=timezone)
        context["t"] = t
        html = inline_css(_render(html_template, context, settings))
        return RenderedEdition(
            subject=context["subject"],
            preheader=context["preheader"],
            html=html,
            text=_render(text_template, context, settings),
            language=plan.language,
            direction=catalogue.direction,
            trimmed="" if limits == Limits() else limits.describe(),
            html_size=encoded_size(html),
        )

    most_related = max((len(story.related) for story in plan.stories), default=0)
    steps = ladder(len(plan.stories), most_related)
    rendered, _limits = fit(attempt, lambda r: r.html_size, steps)
    return rendered
