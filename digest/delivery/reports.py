"""Reports on editions and their deliveries: counts, what is not yet sent, and why.

Read-only queries for summaries (`digest send`, `digest editions list|show`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice

from sqlalchemy import and_, case, exists, func, literal, select, update
from sqlalchemy.orm import Session, selectinload

from digest.errors import DigestError
from digest.models import Delivery, DeliveryStatus, Edition, EditionItem, EditionStatus
from subscribers.models import Subscriber

_OPEN = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.DEFERRED)


def counts(session: Session, edition_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Delivery.status, func.count(Delivery.id))
        .where(Delivery.edition_id == edition_id)
        .group_by(Delivery.status)
    )
    found = {str(status): number for status, number in rows}
    return {status.value: found.get(status.value, 0) for status in DeliveryStatus}


def remaining(session: Session, edition_id: int) -> int:
    """Deliveries not yet in a final state."""
    return (
        session.scalar(
            select(func.count(Delivery.id)).where(
                Delivery.edition_id == edition_id, Delivery.status.in_(list(_OPEN))
            )
        )
        or 0
    )


def remaining_and_held(session: Session, edition_id: int, now: datetime) -> tuple[int, int]:
    """(deliveries not yet final, of those held by a live lease: a sender is on them),
    counted by one statement so that both see the same moment (on SQLite two SELECTs in
    one session can see different commits of the other senders)."""
    leased = Delivery.lease_expires_at >= now
    total, held = session.execute(
        select(
            func.count(Delivery.id), func.coalesce(func.sum(case((leased, 1), else_=0)), 0)
        ).where(Delivery.edition_id == edition_id, Delivery.status.in_(list(_OPEN)))
    ).one()
    return int(total or 0), int(held or 0)


def settle_edition(session: Session, edition_id: int, now: datetime) -> str:
    """Set the edition's status from its deliveries as they stand, in one statement:
    "sent" (and `sent_at`, if not yet set) once none is open, else "sending"; returns it.

    Several senders finish at once (`send --workers`). One that counted another's
    deliveries still in flight must not write "sending" over the "sent" of the one that
    finished them (a three-worker run on PostgreSQL ended "sending" with every delivery
    sent). A statement reads the deliveries as of its own start, after the commits of
    the senders that finished before it, so whichever writes last writes what is true.
    """
    still_open = exists().where(Delivery.edition_id == edition_id, Delivery.status.in_(list(_OPEN)))
    when = literal(now, type_=Edition.sent_at.type)
    first_sent = and_(~still_open, Edition.sent_at.is_(None))
    session.execute(
        update(Edition)
        .where(Edition.id == edition_id)
        .values(
            status=case((still_open, EditionStatus.SENDING.value), else_=EditionStatus.SENT.value),
            sent_at=case((first_sent, when), else_=Edition.sent_at),
        )
        .execution_options(synchronize_session=False)
    )
    return str(session.scalar(select(Edition.status).where(Edition.id == edition_id)))


def deferred_reasons(session: Session, edition_id: int, limit: int = 10) -> list[tuple[str, int]]:
    """The commonest last errors of deliveries still deferred, most frequent first."""
    number = func.count(Delivery.id)
    rows = session.execute(
        select(func.coalesce(Delivery.last_error, "not yet tried"), number)
        .where(Delivery.edition_id == edition_id, Delivery.status == DeliveryStatus.DEFERRED)
        .group_by(Delivery.last_error)
        .order_by(number.desc())
        .limit(limit)
    )
    return [(str(reason), int(count)) for reason, count in rows]


@dataclass(frozen=True)
class Unsent:
    """A delivery that went wrong, for summaries: who, what happened, why."""

    email: str
    status: str
    attempts: int
    error: str
    next_attempt_at: datetime | None
    #: address, refused or transient (None before this was recorded).
    kind: str | None = None


def iter_unsent(session: Session, edition_id: int, batch_size: int = 500) -> Iterator[Unsent]:
    """Failed, deferred and uncertain deliveries in id order, streamed a page at a time."""
    last_id = 0
    while True:
        rows = session.execute(
            select(
                Delivery.id,
                Subscriber.email,
                Delivery.status,
                Delivery.attempts,
                Delivery.last_error,
                Delivery.next_attempt_at,
                Delivery.failure_kind,
            )
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(
                Delivery.edition_id == edition_id,
                Delivery.id > last_id,
                Delivery.status.in_(
                    [DeliveryStatus.FAILED, DeliveryStatus.DEFERRED, DeliveryStatus.UNCERTAIN]
                ),
            )
            .order_by(Delivery.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return
        for row in rows:
            yield Unsent(
                row.email,
                row.status,
                row.attempts,
                row.last_error or "",
                row.next_attempt_at,
                row.failure_kind,
            )
        last_id = rows[-1].id


class UnknownEdition(DigestError):
    pass


def find_edition(session: Session, reference: str) -> Edition:
    """An edition by id (`12`) or key (`2025-06-04/en`)."""
    reference = reference.strip()
    edition: Edition | None = None
    if reference.isdigit():
        number = int(reference)  # an id column is 32 bits on PostgreSQL; SQLite 64
        edition = session.get(Edition, number) if number < 2**31 else None
    elif "/" in reference:
        day, _, rest = reference.partition("/")
        language, _, variant = rest.partition("/")
        try:
            edition_day = date.fromisoformat(day)
        except ValueError:
            edition_day = None
        if edition_day is not None:
            edition = session.scalars(
                select(Edition).where(
                    Edition.date == edition_day,
                    Edition.language == language,
                    Edition.variant == variant,
                )
            ).first()
    if edition is None:
        raise UnknownEdition(f"no edition {reference!r}", hint="'digest editions list' shows them")
    return edition


def list_editions(session: Session, limit: int = 50) -> list[tuple[Edition, dict[str, int]]]:
    """The newest editions with their delivery counts by status."""
    editions = list(
        session.scalars(
            select(Edition).order_by(Edition.date.desc(), Edition.language, Edition.id).limit(limit)
        )
    )
    ids = [edition.id for edition in editions]
    by_edition: dict[int, dict[str, int]] = {
        i: {status.value: 0 for status in DeliveryStatus} for i in ids
    }
    if ids:
        rows = session.execute(
            select(Delivery.edition_id, Delivery.status, func.count(Delivery.id))
            .where(Delivery.edition_id.in_(ids))
            .group_by(Delivery.edition_id, Delivery.status)
        )
        for edition_id, status, number in rows:
            by_edition[edition_id][str(status)] = number
    return [(edition, by_edition[edition.id]) for edition in editions]


@dataclass
class EditionReport:
    """One edition for `digest editions show`: what it holds and how delivery went."""

    edition: Edition
    counts: dict[str, int]
    items: list[EditionItem]
    unsent: list[Unsent]
    unsent_total: int


def edition_report(
    session: Session, reference: str, *, unsent_limit: int | None = 50
) -> EditionReport:
    """Everything about one edition; the failed and deferred list is cut at `unsent_limit`."""
    edition = find_edition(session, reference)
    items = list(
        session.scalars(
            select(EditionItem)
            .options(selectinload(EditionItem.article))
            .where(EditionItem.edition_id == edition.id)
            .order_by(EditionItem.position)
        )
    )
    by_status = counts(session, edition.id)
    unsent_total = (
        by_status[DeliveryStatus.FAILED]
        + by_status[DeliveryStatus.DEFERRED]
        + by_status[DeliveryStatus.UNCERTAIN]
    )
    unsent = list(islice(iter_unsent(session, edition.id), unsent_limit))
    return EditionReport(edition, by_status, items, unsent, unsent_total)
