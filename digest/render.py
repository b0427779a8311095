"""Rendering an edition once: Jinja templates, premailer inlining, plain-text twin.

The output still holds the per-recipient placeholders of `digest.placeholders`; the
sender fills them per message, so no template work happens per recipient.
"""

from __future__ import annotations

import logging
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from digest import i18n, placeholders
from digest.config import Settings
from digest.errors import RenderError
from digest.ingest.clean import plain_text
from digest.selection.plan import EditionPlan

PACKAGED_TEMPLATES = Path(__file__).parent / "templates"
SOURCE_TEMPLATES = Path(__file__).parent.parent / "templates"

#: Subjects longer than this are cut at a word boundary (RFC 5322 line advice).
SUBJECT_MAX = 78


@dataclass(frozen=True)
class RenderedEdition:
    subject: str
    preheader: str
    html: str
    text: str


def template_dirs(settings: Settings) -> list[Path]:
    """Configured override folder first, then the packaged templates."""
    dirs: list[Path] = []
    if settings.site.templates:
        override = settings.resolve_path(settings.site.templates)
        if not override.is_dir():
            raise RenderError(f"[site] templates: folder {override} does not exist")
        dirs.append(override)
    dirs.append(PACKAGED_TEMPLATES if PACKAGED_TEMPLATES.is_dir() else SOURCE_TEMPLATES)
    return dirs


def _finalize(value: Any) -> Any:
    """Every interpolated value passes here: no value can forge a placeholder."""
    if isinstance(value, str):
        return placeholders.defuse(value)
    return value


def _wrap(text: str, width: int = 78, indent: str = "") -> str:
    return textwrap.fill(
        str(text),
        width=width,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def make_environment(settings: Settings) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(settings)]),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "xml"), default_for_string=True
        ),
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["wrap"] = _wrap
    return env


def subject_for(plan: EditionPlan, settings: Settings) -> str:
    strings = i18n.catalogue(plan.language)
    day = i18n.long_date(plan.date, plan.language)
    if not plan.stories:
        return f"{settings.site.name} · {day}"
    subject = strings["subject"].format(
        site=settings.site.name, date=day, headline=plan.stories[0].article.title
    )
    return _clip(plain_text(subject), SUBJECT_MAX)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:·-") + "…"


def _context(plan: EditionPlan, settings: Settings) -> dict[str, Any]:
    language = plan.language
    strings = dict(i18n.catalogue(language))
    for key in ("why", "intro", "view_site"):
        strings[key] = strings[key].format(site=settings.site.name)
    timezone = settings.schedule.timezone

    def article_view(article: Any) -> dict[str, Any]:
        return {
            "title": article.title,
            "url": article.url or settings.site.url,
            "section": article.section,
            "summary": Markup(article.summary),  # sanitised by ingest (nh3)
            "summary_text": plain_text(article.summary),
            "published": i18n.short_time(article.published_at, language, timezone),
            "image_url": article.image_url,
        }

    stories = []
    for story in plan.stories:
        view = article_view(story.article)
        view["related"] = [article_view(item.article) for item in story.related]
        stories.append(view)
    direction = i18n.direction(language)
    preheader = plan.stories[0].article.title if plan.stories else strings["empty"]
    return {
        "language": language,
        "dir": direction,
        "align": "right" if direction == "rtl" else "left",
        "site": settings.site,
        "strings": strings,
        "edition_date": i18n.long_date(plan.date, language),
        "subject": subject_for(plan, settings),
        "preheader": preheader,
        "stories": stories,
    }


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
            cssutils_logging_level=logging.CRITICAL,
            allow_network=False,
        ).transform()
    except Exception as e:  # premailer raises assorted parser errors
        raise RenderError(f"CSS inlining failed: {e}") from e


def render_edition(plan: EditionPlan, settings: Settings) -> RenderedEdition:
    env = make_environment(settings)
    context = _context(plan, settings)
    try:
        html = env.get_template("email.html").render(context)
        text = env.get_template("email.txt").render(context)
    except jinja2.TemplateError as e:
        raise RenderError(f"template error: {e}") from e
    return RenderedEdition(
        subject=context["subject"],
        preheader=plain_text(context["preheader"]),
        html=inline_css(html),
        text=text,
    )
