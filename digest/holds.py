"""Retractions: `digest articles hold GUID` pulls an article from every edition not yet fully
sent, making a new revision of each; `unhold` lets it be selected again.

The article's copies are held with it (`selection.held_copies.copies_of`: its page fetched
again under another guid, its text posted again under its headline), each marked with
the article it follows (`held_copy_of`), and pulled like it: an edition frozen before the
hold may show a copy rather than the article the editor knows by its guid. `unhold`
releases the article and its copies.

A revision is the edition without the held article (a held top story takes its related
items with it), rendered again; it is what every delivery claimed from then on gets
(`digest.outbox` stamps each claimed delivery with the revision it was built from, and a
run that sees the revision change reloads it). Deliveries sent before stay recorded with
the revision they had, so `editions show` lists who had the article. An edition left with
no story is withdrawn: its unsent deliveries are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from digest import editions
from digest.articles import article_by_guid
from digest.db import Database
from digest.models import (
    Article,
    Delivery,
    DeliveryStatus,
    Edition,
    EditionItem,
    EditionRevision,
    EditionStatus,
)
from digest.selection.plan import EditionPlan, RelatedItem, Story, Window
from digest.variants import decode_ids
from subscribers.models import Subscriber

if TYPE_CHECKING:
    from digest.render import RenderedEdition

Renderer = Callable[[EditionPlan], "RenderedEdition"]
#: Re-renders what else the edition froze (its reader variants) without the held articles:
#: (session, edition, held article ids, the revision's plan) -> whether any of it had one.
Reviser = Callable[[Session, Edition, Collection[int], EditionPlan], bool]
#: The stored copies of an article (ids), among those headlined like it and the given ids
#: of what unsent editions show: (session, article, unsent ids) -> ids.
CopyFinder = Callable[[Session, Article, Collection[int]], list[int]]


@dataclass
class Revised:
    """One edition a hold changed."""

    key: str
    revision: int
    #: The edition had no story left: its unsent deliveries were skipped.
    withdrawn: bool
    #: Addresses whose message, already sent, had the article.
    had_it: list[str] = field(default_factory=list)


@dataclass
class HoldReport:
    guid: str
    title: str
    #: False when the article was held already (the call changed nothing new).
    newly: bool
    editions: list[Revised] = field(default_factory=list)
    #: (guid, title) of each copy held with it now.
    copies: list[tuple[str, str]] = field(default_factory=list)


def hold(
    db: Database,
    guid: str,
    reason: str,
    now: datetime,
    render: Renderer,
    revise: Reviser | None = None,
    *,
    source: str | None = None,
    copies: CopyFinder | None = None,
) -> HoldReport:
    """Hold the article with `guid` (of `source`, when several sources use it: see
    `articles.article_by_guid`, which raises) and the `copies` found of it, so that none
    is ever selected again, and pull them from every frozen edition not yet fully sent,
    each under its line's lock."""
    with db.session() as session:
        article = article_by_guid(session, guid, source)
        # A copy held with another article is held in its own right when named: that
        # article's unhold no longer releases it.
        as_copy = article.held_copy_of is not None
        report = HoldReport(guid, article.title, article.held_at is None or as_copy)
        found = copies(session, article, _unsent_articles(session)) if copies else []
        if article.held_at is None or as_copy:
            article.held_at, article.hold_reason, article.held_copy_of = now, reason, None
        article_id = article.id
        for copy in session.scalars(select(Article).where(Article.id.in_(found))):
            copy.held_at, copy.hold_reason, copy.held_copy_of = now, reason, article_id
            report.copies.append((copy.guid, copy.title))
        pulled = {article_id, *found}
        targets = [
            (edition_id, language)
            for edition_id, language in session.execute(
                select(Edition.id, Edition.language)
                .join(EditionItem, EditionItem.edition_id == Edition.id)
                .where(EditionItem.article_id.in_(pulled), Edition.status != EditionStatus.SENT)
                .distinct()
            )
        ]
        if revise is not None:
            # Reader variants may show it from the edition's wider pool only.
            seen = {edition_id for edition_id, _ in targets}
            pooled = session.execute(
                select(Edition.id, Edition.language).where(
                    Edition.status != EditionStatus.SENT,
                    Edition.frozen_at.is_not(None),
                    Edition.pool != "",
                )
            ).all()
            targets += [(row[0], row[1]) for row in pooled if row[0] not in seen]
    for edition_id, language in targets:
        with editions.locked(db, language) as session:
            revised = _revise(session, edition_id, article_id, pulled, reason, now, render, revise)
        if revised is not None:
            report.editions.append(revised)
    return report


@dataclass
class Release:
    """What `unhold` did."""

    title: str
    #: False when the article was not held (the call changed nothing).
    was_held: bool
    #: Copies held with it, released with it.
    copies: int = 0
    #: The guid of the held article this one copies, which stays held: this copy is
    #: released on its own (selection shows it though it is that article's copy).
    copy_of: str | None = None


def unhold(db: Database, guid: str, source: str | None = None) -> Release:
    """Let the article (`articles.article_by_guid`) and the copies held with it be
    selected again; editions they were pulled from stay as revised. A copy held with an
    article still held is released on its own: it keeps `held_copy_of`, with no hold,
    so that selection does not leave it out as that article's copy (a correction posted
    under the held headline, say), until that article's own unhold."""
    with db.session() as session:
        article = article_by_guid(session, guid, source)
        release = Release(article.title, article.held_at is not None)
        original = session.get(Article, article.held_copy_of) if article.held_copy_of else None
        if original is not None and original.held_at is not None:
            release.copy_of = original.guid
        else:
            article.held_copy_of = None
        article.held_at, article.hold_reason = None, None
        copies = list(session.scalars(select(Article).where(Article.held_copy_of == article.id)))
        for copy in copies:
            release.copies += copy.held_at is not None
            copy.held_at, copy.hold_reason, copy.held_copy_of = None, None, None
        return release


def _unsent_articles(session: Session) -> set[int]:
    """Ids of the articles the editions not yet fully sent show or keep in their pool
    (reader variants draw from those two only)."""
    unsent = Edition.status != EditionStatus.SENT
    found = set(
        session.scalars(
            select(EditionItem.article_id)
            .join(Edition, EditionItem.edition_id == Edition.id)
            .where(unsent)
        )
    )
    for pool in session.scalars(select(Edition.pool).where(unsent, Edition.pool != "")):
        for top, related in decode_ids(pool):
            found.update((top, *related))
    return found


def _revise(
    session: Session,
    edition_id: int,
    article_id: int,
    pulled_ids: set[int],
    reason: str,
    now: datetime,
    render: Renderer,
    revise: Reviser | None = None,
) -> Revised | None:
    edition = session.get(Edition, edition_id)
    if edition is None or edition.status == EditionStatus.SENT:
        return None  # completed meanwhile: it stays as sent
    items = list(edition.items)
    pulled = pulled_items(items, pulled_ids)
    kept = [item for item in items if item.id not in pulled]
    plan = plan_of(edition, kept)
    varied = revise is not None and revise(session, edition, pulled_ids, plan)
    if not pulled and not varied:
        return None
    article = session.get(Article, article_id)
    assert article is not None
    # One statement: the database's ON DELETE CASCADE takes a held story's related items
    # with it, and deleted one by one, the ORM's batch found them gone and warned.
    session.execute(delete(EditionItem).where(EditionItem.id.in_(sorted(pulled))))
    session.expire(edition, ["items"])
    edition.revision += 1
    session.add(
        EditionRevision(
            edition_id=edition.id,
            revision=edition.revision,
            created_at=now,
            article_guid=article.guid,
            article_title=article.title,
            reason=reason,
        )
    )
    withdrawn = plan.is_empty
    if withdrawn:
        _withdraw(session, edition, now)
    else:
        rendered = render(plan)
        edition.subject, edition.preheader = rendered.subject, rendered.preheader
        edition.html_template, edition.text_template = rendered.html, rendered.text
    return Revised(edition.key, edition.revision, withdrawn, _had_it(session, edition.id))


def pulled_items(items: list[EditionItem], article_ids: Collection[int]) -> set[int]:
    """Ids of the edition items a hold of `article_ids` pulls: theirs, and the related
    items of a held top story (they were further reading on it)."""
    pulled = {item.id for item in items if item.article_id in article_ids}
    return pulled | {item.id for item in items if item.parent_id in pulled}


def plan_of(edition: Edition, items: list[EditionItem]) -> EditionPlan:
    """The frozen edition's stories as a plan again (to render the revision)."""
    plan = EditionPlan(
        date=edition.date,
        language=edition.language,
        window=Window(edition.window_start, edition.window_end),
    )
    stories: dict[int, Story] = {}
    for item in items:
        if item.role == "top":
            stories[item.id] = Story(item.article, item.score)
            plan.stories.append(stories[item.id])
        elif item.parent_id in stories:
            stories[item.parent_id].related.append(RelatedItem(item.article, item.score))
    return plan


def _withdraw(session: Session, edition: Edition, now: datetime) -> None:
    session.execute(
        update(Delivery)
        .where(
            Delivery.edition_id == edition.id,
            Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.DEFERRED]),
        )
        .values(
            status=DeliveryStatus.SKIPPED,
            last_error="edition withdrawn: every story was held",
            lease_owner=None,
            lease_expires_at=None,
            updated_at=now,
        )
    )
    edition.status = EditionStatus.SENT
    edition.sent_at = edition.sent_at or now


def _had_it(session: Session, edition_id: int) -> list[str]:
    """Addresses whose message was already sent, from an earlier revision (those in flight
    at the hold show in `editions show` under the revision they went out with)."""
    return list(
        session.scalars(
            select(Subscriber.email)
            .join(Delivery, Delivery.subscriber_id == Subscriber.id)
            .where(
                Delivery.edition_id == edition_id,
                Delivery.status == DeliveryStatus.SENT,
            )
            .order_by(Subscriber.email)
        )
    )


@dataclass(frozen=True)
class RevisionView:
    """One revision of an edition for `editions show`: what changed, who got it."""

    revision: int
    created_at: datetime | None
    held_guid: str | None
    held_title: str | None
    reason: str | None
    delivered: int


def history(session: Session, edition: Edition) -> list[RevisionView]:
    """Revision 1 (the freeze) and each hold's revision, with deliveries sent of each."""
    delivered = dict(
        session.execute(
            select(Delivery.revision, func.count(Delivery.id))
            .where(Delivery.edition_id == edition.id, Delivery.status == DeliveryStatus.SENT)
            .group_by(Delivery.revision)
        ).all()
    )
    views = [RevisionView(1, edition.frozen_at, None, None, None, delivered.get(1, 0))]
    for row in session.scalars(
        select(EditionRevision)
        .where(EditionRevision.edition_id == edition.id)
        .order_by(EditionRevision.revision)
    ):
        views.append(
            RevisionView(
                row.revision, row.created_at, row.article_guid, row.article_title,
                row.reason, delivered.get(row.revision, 0),
            )
        )  # fmt: skip
    return views
