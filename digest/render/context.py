"""What the templates see: plain views of the edition, already safe and localised.

Render reads only what it needs from the plan (duck-typed: stories with an `article`
and `related` items with an `article`), so it does not depend on the selection stage.
Feed HTML is untrusted: summaries are sanitised again here for email (no images, no
tables, only absolute links), titles are plain text, URLs are absolute http(s) or dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import lxml.html
import nh3
from markupsafe import Markup, escape

from digest import placeholders
from digest.config import Settings
from digest.i18n import Catalogue
from digest.render.plain import clean_line, clip, display_width, plain

#: Display columns.
SUBJECT_MAX = 78
PREHEADER_MAX = 150
TITLE_MAX = 200
#: Story images: the container's content width, 16:9.
IMAGE_WIDTH = 552
IMAGE_HEIGHT = 310

EMAIL_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "em", "i", "li", "ol", "p", "q",
    "s", "small", "strong", "sub", "sup", "u", "ul",
}  # fmt: skip


class ArticleLike(Protocol):
    """Read-only views, so models and plan dataclasses both fit (no invariance trap)."""

    @property
    def title(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def section(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def image_url(self) -> str: ...
    @property
    def published_at(self) -> datetime: ...


class RelatedLike(Protocol):
    @property
    def article(self) -> ArticleLike: ...


class StoryLike(Protocol):
    @property
    def article(self) -> ArticleLike: ...
    @property
    def related(self) -> Sequence[RelatedLike]: ...


class PlanLike(Protocol):
    @property
    def date(self) -> date: ...
    @property
    def language(self) -> str: ...
    @property
    def stories(self) -> Sequence[StoryLike]: ...


@dataclass(frozen=True)
class Limits:
    """How much of the edition is shown; trimming lowers these one step at a time."""

    stories: int | None = None
    related: int | None = None
    #: Summary length in characters (as plain text); None: the sanitised summary as is.
    summary: int | None = None

    def describe(self) -> str:
        parts = []
        if self.summary is not None:
            parts.append(
                f"summaries cut to {self.summary} characters" if self.summary else "no summaries"
            )
        if self.related is not None:
            parts.append(
                f"at most {self.related} related per story" if self.related else "no related items"
            )
        if self.stories is not None:
            parts.append(f"only the first {self.stories} stories")
        return ", ".join(parts) or "full edition"


@dataclass(frozen=True)
class Image:
    url: str
    alt: str
    width: int
    height: int


@dataclass(frozen=True)
class ArticleView:
    title: str
    url: str
    section: str
    summary: Markup
    summary_text: str
    published: str
    published_iso: str
    image: Image | None
    related: tuple[ArticleView, ...] = ()


#: Characters a URL may not hold literally (WHATWG): written percent-encoded.
_URL_ESCAPES = str.maketrans({ch: f"%{ord(ch):02X}" for ch in '"<>\\^`{|}'})


def web_url(value: str | None) -> str:
    """The URL if it is an absolute http(s) URL without spaces or controls, else "".

    Characters that cannot appear literally in a URL are percent-encoded."""
    if not value or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return value.translate(_URL_ESCAPES)


def _keep_link(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href":
        if value.lower().startswith("mailto:") and "\n" not in value and "\r" not in value:
            return value
        return web_url(value) or None
    return value


def email_summary(summary: str) -> Markup:
    """Feed summary HTML made email-safe: inline text markup and absolute links only."""
    return summary_parts(summary)[0]


def summary_parts(summary: str) -> tuple[Markup, str]:
    """(email-safe HTML, plain text) of a feed summary; the text keeps the link targets
    as `label <URL>`, so the text part has every link the HTML has."""
    if not summary or not summary.strip():
        return Markup(""), ""
    cleaned = nh3.clean(
        summary,
        tags=EMAIL_TAGS,
        attributes={"a": {"href"}, "abbr": {"title"}},
        url_schemes={"http", "https", "mailto"},
        attribute_filter=_keep_link,
        link_rel=None,
        strip_comments=True,
    ).strip()
    if not cleaned:
        return Markup(""), ""
    root = lxml.html.fragment_fromstring(cleaned, create_parent="div")
    for link in list(root.iter("a")):
        if not link.get("href"):
            link.drop_tag()  # a link whose target was unsafe: keep its words only
    html = str(escape(root.text or "")) + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in root
    )
    for link in list(root.iter("a")):
        label, href = clean_line(link.text_content()), link.get("href", "")
        shown = href if not label or label == href else f"{label} <{href}>"
        tail = link.tail or ""
        link.clear()
        link.text, link.tail = shown, tail
        link.drop_tag()
    return Markup(html.strip()), clean_line(root.text_content())


class ViewBuilder:
    """Turns a plan's articles into views, within the given limits."""

    def __init__(self, settings: Settings, catalogue: Catalogue, day: date, limits: Limits) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.day = day
        self.limits = limits

    def article(self, article: ArticleLike, *, with_image: bool) -> ArticleView:
        title = clip(clean_line(article.title), TITLE_MAX) or clean_line(article.url) or "—"
        if self.limits.summary is None:
            summary, summary_text = summary_parts(article.summary)
        else:
            summary_text = plain(article.summary)
            summary_text = clip(summary_text, self.limits.summary) if self.limits.summary else ""
            summary = Markup(escape(summary_text))
        image_url = web_url(article.image_url) if with_image else ""
        published = article.published_at
        return ArticleView(
            title=title,
            url=web_url(article.url) or web_url(self.settings.site.url),
            section=self.catalogue.section(clean_line(article.section)),
            summary=summary,
            summary_text=summary_text,
            published=self.catalogue.story_time(
                published, self.day, self.settings.schedule.timezone
            ),
            published_iso=published.strftime("%Y-%m-%dT%H:%M:%SZ"),
            image=Image(image_url, title, IMAGE_WIDTH, IMAGE_HEIGHT) if image_url else None,
        )

    def stories(self, stories: Sequence[StoryLike]) -> list[ArticleView]:
        limits = self.limits
        views = []
        for story in stories[: limits.stories]:
            view = self.article(story.article, with_image=True)
            related = story.related if limits.related is None else story.related[: limits.related]
            related_views = tuple(self.article(item.article, with_image=False) for item in related)
            views.append(replace(view, related=related_views))
        return views


def visible_defuse(text: str) -> str:
    """Break a placeholder marker with a visible space (for headers: no invisible marks)."""
    return text.replace(placeholders.MARKER, "%% " + placeholders.MARKER[2:])


def subject_line(catalogue: Catalogue, site: str, day: date, headline: str | None) -> str:
    """Site, date and lead headline within 78 columns; only the headline is shortened."""
    site, when = clean_line(site), catalogue.edition_date(day)
    if not headline:
        empty = catalogue.text("subject_empty", site=site, date=when)
        return clip(visible_defuse(clean_line(empty)), SUBJECT_MAX)
    headline = clean_line(headline)
    fixed = catalogue.text("subject", site=site, date=when, headline="")
    room = max(SUBJECT_MAX - display_width(clean_line(fixed)), 12)
    subject = catalogue.text("subject", site=site, date=when, headline=clip(headline, room))
    return clip(visible_defuse(clean_line(subject)), SUBJECT_MAX)


def preheader_line(settings: Settings, stories: Sequence[ArticleView], empty: str) -> str:
    """The configured line, else the lead story: headline and the start of its summary."""
    if settings.site.preheader:
        return clip(clean_line(settings.site.preheader), PREHEADER_MAX)
    if not stories:
        return clip(clean_line(empty), PREHEADER_MAX)
    lead = stories[0]
    text = f"{lead.title} — {lead.summary_text}" if lead.summary_text else lead.title
    return clip(visible_defuse(text), PREHEADER_MAX)


def build_context(
    plan: PlanLike, settings: Settings, catalogue: Catalogue, limits: Limits
) -> dict[str, Any]:
    builder = ViewBuilder(settings, catalogue, plan.date, limits)
    stories = builder.stories(plan.stories)
    direction = catalogue.direction
    site = settings.site
    lead = plan.stories[0].article.title if plan.stories else None
    return {
        "language": plan.language,
        "dir": direction,
        "start": "right" if direction == "rtl" else "left",
        "end": "left" if direction == "rtl" else "right",
        "site": {
            "name": clean_line(site.name),
            "url": web_url(site.url),
            "tagline": clean_line(site.tagline),
            "logo_url": web_url(site.logo_url),
            "logo_width": site.logo_width,
            "logo_height": site.logo_height,
            "postal_address": clean_line(site.postal_address),
        },
        "edition_date": catalogue.edition_date(plan.date),
        "edition_date_iso": plan.date.isoformat(),
        "subject": subject_line(catalogue, site.name, plan.date, lead),
        "preheader": preheader_line(settings, stories, catalogue["empty"]),
        "stories": stories,
        "related_count": sum(len(story.related) for story in stories),
    }
