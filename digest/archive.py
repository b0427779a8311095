"""The web archive: every sent edition as a page, an index per language and an Atom feed.

`digest serve` serves it under /archive/ and `digest archive build DIR` writes the same
files for any static host (DIR is then what is published at `web.public_url`/archive/).
An archive page is the general variant exactly as sent, without its personal parts:
the greeting is the anonymous one, and the paragraphs and links that carry the
reader's address, unsubscribe or preferences link are left out. Index pages link
relatively (`DATE/LANG/`), so the same files work served or static; the feed links
absolutely, from `web.public_url` (Atom, RFC 4287).

A retraction reaches the archive, as it cannot reach mail already sent: an edition with
an article held since (`digest articles hold`) is shown rendered again without it (a
held top story takes its related items along), and one left with no story (withdrawn)
is not shown. Three breaker passes found a "legal request" hold still published there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import lxml.html
from sqlalchemy import select
from sqlalchemy.orm import Session

from digest import i18n, placeholders
from digest.config import Settings, localised
from digest.errors import DigestError
from digest.holds import plan_of, pulled_items
from digest.models import Article, Edition, EditionItem, EditionStatus
from digest.render import locale_dirs
from digest.render.environment import get_template, shared_environment, translator
from digest.render.files import write_atomically

INDEX_TEMPLATE = "archive.html"
FEED_TEMPLATE = "archive.xml"
#: Editions listed per language on the index and in the feed, newest first.
LIMIT = 365
PUBLISHED = (EditionStatus.SENDING, EditionStatus.SENT)


class ArchiveError(DigestError):
    """No such edition in the archive, or the archive cannot be written."""


@dataclass(frozen=True)
class Entry:
    """One edition as the index and the feed list it."""

    day: date
    language: str
    subject: str
    preheader: str
    updated: datetime

    @property
    def path(self) -> str:
        return f"{self.day.isoformat()}/{self.language}/"


@dataclass(frozen=True)
class Published:
    """An edition as the archive shows it."""

    subject: str
    preheader: str
    html: str


def _published(settings: Settings, edition: Edition, retracted: set[int]) -> Published | None:
    """The edition as sent, or, if `retracted` holds its id (an article of it is held),
    rendered again without what is held; None when no story is left."""
    if edition.id not in retracted:
        return Published(edition.subject, edition.preheader, edition.html_template)
    from digest.render import render_edition  # only for an edition a retraction changed

    items = list(edition.items)
    held = {item.article_id for item in items if item.article.held_at is not None}
    pulled = pulled_items(items, held)
    plan = plan_of(edition, [item for item in items if item.id not in pulled])
    if plan.is_empty:
        return None
    rendered = render_edition(plan, settings)
    return Published(rendered.subject, rendered.preheader, rendered.html)


def _shown(session: Session, settings: Settings, query: Any) -> Iterator[tuple[Edition, Published]]:
    """The editions `query` selects that the archive shows (sent or sending, general, of a
    site language, with a story left), each as shown."""
    with_story = set(
        session.scalars(select(EditionItem.edition_id).where(EditionItem.role == "top"))
    )
    retracted = set(
        session.scalars(
            select(EditionItem.edition_id)
            .join(Article, Article.id == EditionItem.article_id)
            .where(Article.held_at.is_not(None))
        )
    )
    published = query.where(Edition.variant == "", Edition.status.in_([str(s) for s in PUBLISHED]))
    for edition in session.scalars(published):
        if edition.language not in settings.site.languages or edition.id not in with_story:
            continue
        shown = _published(settings, edition, retracted)
        if shown is not None:
            yield edition, shown


def entries(session: Session, settings: Settings, language: str | None = None) -> list[Entry]:
    """Sent (or sending) general editions, newest first, at most LIMIT per language."""
    query = select(Edition).order_by(Edition.date.desc(), Edition.language)
    if language is not None:
        query = query.where(Edition.language == language)
    found: list[Entry] = []
    counts: dict[str, int] = {}
    for edition, shown in _shown(session, settings, query):
        counts[edition.language] = counts.get(edition.language, 0) + 1
        if counts[edition.language] <= LIMIT:
            updated = edition.sent_at or edition.frozen_at or edition.created_at
            found.append(
                Entry(edition.date, edition.language, shown.subject, shown.preheader, updated)
            )
    return found


def edition_page(session: Session, settings: Settings, day: date, language: str) -> str:
    """The archive page of one edition; ArchiveError if it was not sent (or nothing of
    it is left to show)."""
    query = select(Edition).where(Edition.date == day, Edition.language == language)
    found = next(iter(_shown(session, settings, query)), None)
    if found is None:
        raise ArchiveError(f"no sent edition for {day.isoformat()} in {language!r}")
    catalogue = i18n.catalogue(language, locale_dirs(settings))
    return impersonal(found[1].html, catalogue["greeting_anonymous"], feed_url(settings))


def impersonal(html: str, greeting: str, feed: str) -> str:
    """The edition's HTML with no personal part left: the greeting made anonymous, and
    every paragraph, cell or link holding a per-recipient value removed."""
    doc = lxml.html.document_fromstring(html.replace(placeholders.GREETING, greeting))
    for link in list(doc.iter("a")):
        if placeholders.MARKER in (link.get("href") or ""):
            _drop_link(link)
    # Innermost first: once a paragraph is gone, the cells around it no longer match.
    for element in reversed(list(doc.iter("p", "div", "td"))):
        if element.getparent() is not None and placeholders.MARKER in element.text_content():
            element.drop_tree()
    head = doc.find("head")
    if head is not None:
        alternate = lxml.html.Element(
            "link", rel="alternate", type="application/atom+xml", href=feed
        )
        head.append(alternate)
    body = lxml.html.tostring(doc, encoding="unicode", doctype="<!DOCTYPE html>")
    return body + "\n"


def _drop_link(link: lxml.html.HtmlElement) -> None:
    """Remove a link and the " · " separator that joined it to its neighbour."""
    previous = link.getprevious()
    tail = (link.tail or "").lstrip()
    if tail.startswith("·"):
        tail = tail[1:].lstrip()
    elif previous is not None and (previous.tail or "").rstrip().endswith("·"):
        previous.tail = (previous.tail or "").rstrip()[:-1].rstrip() + " "
    elif previous is None and (link.getparent().text or "").rstrip().endswith("·"):
        parent = link.getparent()
        parent.text = (parent.text or "").rstrip()[:-1].rstrip()
    link.tail = tail
    link.drop_tree()


def feed_url(settings: Settings) -> str:
    return f"{settings.public_url}/archive/feed.xml"


def index_page(session: Session, settings: Settings) -> str:
    """The list of past editions, one section per language in its own direction."""
    env = shared_environment(settings)
    languages = []
    for language in settings.site.languages:
        catalogue = i18n.catalogue(language, locale_dirs(settings))
        languages.append(
            {
                "code": language,
                "dir": catalogue.direction,
                "t": translator(catalogue),
                "site": localised(settings.site.name, language),
                "entries": [
                    (entry, catalogue.edition_date(entry.day))
                    for entry in entries(session, settings, language)
                ],
            }
        )
    first = languages[0]
    return get_template(env, INDEX_TEMPLATE).render(
        language=first["code"], dir=first["dir"], site=first["site"], t=first["t"],
        languages=languages, feed="feed.xml",
    )  # fmt: skip


def feed(session: Session, settings: Settings, now: datetime) -> str:
    """Atom feed (RFC 4287) of the editions, newest first, absolute links."""
    listed = entries(session, settings)
    base = f"{settings.public_url}/archive/"
    updated = max((entry.updated for entry in listed), default=now)
    return get_template(shared_environment(settings), FEED_TEMPLATE).render(
        title=localised(settings.site.name, settings.site.languages[0]),
        base=base, self_url=feed_url(settings), updated=_atom_time(updated),
        entries=[(entry, base + entry.path, _atom_time(entry.updated)) for entry in listed],
    )  # fmt: skip


def _atom_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class BuildReport:
    folder: Path
    pages: int = 0


def build(session: Session, settings: Settings, folder: Path, now: datetime) -> BuildReport:
    """Write index.html, feed.xml and DATE/LANG/index.html under `folder` (each file
    replaced whole, so a web server never serves half a page)."""
    report = BuildReport(folder)
    write_atomically(folder / "index.html", index_page(session, settings).encode("utf-8"))
    write_atomically(folder / "feed.xml", feed(session, settings, now).encode("utf-8"))
    for entry in entries(session, settings):
        page = edition_page(session, settings, entry.day, entry.language)
        write_atomically(folder / entry.path / "index.html", page.encode("utf-8"))
        report.pages += 1
    return report
