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
from digest.config import Settings, localised
from digest.i18n import Catalogue
from digest.render.plain import ELLIPSIS, clean_line, clip, display_width, plain

#: Display columns. Phones show about 40 of a subject, desktop clients about 60.
SUBJECT_MAX = 60
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
    """Turns a plan's articles into views, within the given limits, times in `timezone`."""

    def __init__(
        self,
        settings: Settings,
        catalogue: Catalogue,
        day: date,
        limits: Limits,
        timezone: str | None = None,
    ) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.day = day
        self.limits = limits
        self.timezone = timezone or settings.schedule.timezone

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
            published=self.catalogue.story_time(published, self.day, self.timezone),
            published_iso=published.strftime("%Y-%m-%dT%H:%M:%SZ"),
            image=Image(image_url, title, IMAGE_WIDTH, IMAGE_HEIGHT) if image_url else None,
        )

    def stories(self, stories: Sequence[StoryLike]) -> list[ArticleView]:
        limits = self.limits
        views = []
        for index, story in enumerate(stories[: limits.stories]):
            # Only the lead story shows its picture: one image keeps the email light.
            view = self.article(story.article, with_image=index == 0)
            related = story.related if limits.related is None else story.related[: limits.related]
            related_views = tuple(self.article(item.article, with_image=False) for item in related)
            views.append(replace(view, related=related_views))
        return views


@dataclass(frozen=True)
class SectionGroup:
    """The stories of one section in "In this edition", in the edition's order."""

    name: str
    stories: tuple[ArticleView, ...]


def by_section(stories: Sequence[ArticleView]) -> list[SectionGroup]:
    """Group stories by section; sections appear in the order of their best story."""
    groups: dict[str, list[ArticleView]] = {}
    for story in stories:
        groups.setdefault(story.section, []).append(story)
    return [SectionGroup(name, tuple(items)) for name, items in groups.items()]


def visible_defuse(text: str) -> str:
    """Break a placeholder marker with a visible space (for headers: no invisible marks)."""
    return text.replace(placeholders.MARKER, "%% " + placeholders.MARKER[2:])


def _fill(template: str, **values: str) -> str:
    return template.format(**values)


def subject_line(
    catalogue: Catalogue, site: str, day: date, headline: str | None, template: str = ""
) -> str:
    """The subject: the template (settings, else the catalogue's "{headline}") within
    `SUBJECT_MAX` columns; only the headline is shortened, at a word boundary."""
    site, when = clean_line(site), catalogue.edition_date(day)
    headline = clean_line(headline)
    if not headline:  # no story, or a headline with nothing visible in it
        empty = catalogue.text("subject_empty", site=site, date=when)
        return clip(visible_defuse(clean_line(empty)), SUBJECT_MAX)
    pattern = template or catalogue["subject"]
    fixed = _fill(pattern, site=site, date=when, headline="")
    room = max(SUBJECT_MAX - display_width(clean_line(fixed)), 12)
    subject = _fill(pattern, site=site, date=when, headline=clip_words(headline, room))
    return clip(visible_defuse(clean_line(subject)), SUBJECT_MAX)


def clip_words(text: str, width: int) -> str:
    """At most `width` columns, cut after a whole word (a single overlong word is cut)."""
    if display_width(text) <= width:
        return text
    words, kept = text.split(" "), ""
    for word in words:
        candidate = f"{kept} {word}" if kept else word
        if display_width(candidate) + 1 > width:
            break
        kept = candidate
    kept = kept.rstrip(" ,;:·-—–،؛")
    return kept + ELLIPSIS if kept else clip(text, width)


def preheader_line(
    settings: Settings,
    catalogue: Catalogue,
    stories: Sequence[ArticleView],
    *,
    site: str,
    day: date,
) -> str:
    """The inbox preview line: it names the next two or three stories after the lead
    (the subject already gives the lead), or the configured template."""
    if not stories:
        return clip(clean_line(catalogue["empty"]), PREHEADER_MAX)
    template = localised(settings.site.preheader, catalogue.language) or catalogue["preheader"]
    following = [story.title for story in stories[1:4]]
    if not following:
        following = [stories[0].summary_text or stories[0].title]
    lead = stories[0].title
    when = catalogue.edition_date(day)
    for count in range(len(following), 0, -1):
        line = _fill(template, stories=" · ".join(following[:count]), headline=lead, site=site,
                     date=when)  # fmt: skip
        if display_width(clean_line(line)) <= PREHEADER_MAX or count == 1:
            return clip(visible_defuse(clean_line(line)), PREHEADER_MAX)
    return ""  # unreachable: the loop returns at count == 1


def archive_url(settings: Settings, day: date, language: str) -> str:
    """The edition's page in the web archive ("View in browser")."""
    return f"{settings.public_url}/archive/{day.isoformat()}/{language}/"


def build_context(
    plan: PlanLike,
    settings: Settings,
    catalogue: Catalogue,
    limits: Limits,
    *,
    timezone: str | None = None,
) -> dict[str, Any]:
    """Everything the email templates read; times shown in `timezone` (default: the site's)."""
    builder = ViewBuilder(settings, catalogue, plan.date, limits, timezone)
    stories = builder.stories(plan.stories)
    direction = catalogue.direction
    site = settings.site
    language = plan.language
    name = clean_line(localised(site.name, language))
    lead = plan.stories[0].article.title if plan.stories else None
    subject_template = localised(settings.mail.subject, language)
    return {
        "language": language,
        "dir": direction,
        "start": "right" if direction == "rtl" else "left",
        "end": "left" if direction == "rtl" else "right",
        "site": {
            "name": name,
            "url": web_url(site.url),
            "tagline": clean_line(localised(site.tagline, language)),
            "logo_url": web_url(site.logo_url),
            "logo_width": site.logo_width,
            "logo_height": site.logo_height,
            "postal_address": clean_line(localised(site.postal_address, language)),
        },
        "edition_date": catalogue.edition_date(plan.date),
        "edition_date_iso": plan.date.isoformat(),
        "archive_url": web_url(archive_url(settings, plan.date, language)),
        "subject": subject_line(catalogue, name, plan.date, lead, subject_template),
        "preheader": preheader_line(settings, catalogue, stories, site=name, day=plan.date),
        "stories": stories,
        "lead": stories[0] if stories else None,
        "sections": by_section(stories[1:]),
        "related_count": sum(len(story.related) for story in stories),
    }
