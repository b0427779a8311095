"""The deliveries outbox: one row per (edition, subscriber), claimed with a lease.

The unique key makes creating deliveries idempotent; the lease makes draining resumable
and safe for several workers. A claim is one `UPDATE ... WHERE id IN (SELECT ... LIMIT n
[FOR UPDATE SKIP LOCKED]) RETURNING`, so two processes can never take the same row, on
SQLite (the statement holds the write lock) or PostgreSQL (skipped locks).

A claimed row keeps its status (pending or deferred) under the lease; only the sender's
"before DATA" step (`mark_sending`) makes it `sending`, committed before the message is
handed over. So after a crash, `sending` means "perhaps on its way", anything else "never
tried in that run".

A lease owner is `host:pid:start:run`; a lease held by a process that no longer runs on this
host is taken over at once, others when they expire. Taking over moves a row from the dead
owner's lease to the claimant's in one statement: a row never stands unleased in between,
where another sender finishing would count it as "not sent yet". A deferred row keeps its
owner while that run still means to retry it (lease set), and after it gave up (lease
cleared), so the same run does not take it again but the next run does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from digest.delivery.leases import LEASE as LEASE
from digest.delivery.leases import HeldElsewhere as HeldElsewhere
from digest.delivery.leases import dead_owners as dead_owners
from digest.delivery.leases import held_elsewhere as held_elsewhere
from digest.delivery.leases import mark_sending as mark_sending
from digest.delivery.leases import owner_is_dead as owner_is_dead
from digest.delivery.leases import release as release
from digest.delivery.leases import renew as renew
from digest.delivery.leases import requeue as requeue
from digest.delivery.leases import requeue_uncertain as requeue_uncertain
from digest.delivery.leases import worker_id as worker_id
from digest.delivery.outcomes import RECORD, row_values
from digest.delivery.outcomes import Outcome as Outcome
from digest.delivery.outcomes import record as record
from digest.delivery.outcomes import record_rows as record_rows
from digest.delivery.reports import EditionReport as EditionReport
from digest.delivery.reports import UnknownEdition as UnknownEdition
from digest.delivery.reports import Unsent as Unsent
from digest.delivery.reports import counts as counts
from digest.delivery.reports import deferred_reasons as deferred_reasons
from digest.delivery.reports import edition_report as edition_report
from digest.delivery.reports import find_edition as find_edition
from digest.delivery.reports import iter_unsent as iter_unsent
from digest.delivery.reports import list_editions as list_editions
from digest.delivery.reports import remaining as remaining
from digest.delivery.reports import remaining_and_held as remaining_and_held
from digest.models import Delivery, DeliveryStatus, Edition
from subscribers.models import Status, Subscriber, UTCDateTime

_deliveries = cast(Table, Delivery.__table__)
_FINAL = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)
_OPEN = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.DEFERRED)
#: Statuses a lease can be held on.
_LEASED = list(_OPEN)


def create_deliveries(session: Session, edition: Edition, now: datetime) -> int:
    """Add a pending delivery for each active subscriber of the edition's language, in
    one `INSERT ... SELECT` run by the database (no subscriber row comes to Python, so a
    million take seconds and no memory). Returns the number of deliveries added.

    Several senders may start at once (one per host). On PostgreSQL, two such statements
    could both find a subscriber without a delivery and the later one would fail on the
    unique key, so creation takes a transaction-scoped advisory lock on the edition: the
    second sender waits for the first one's commit, then finds nothing left to add.
    (`ON CONFLICT DO NOTHING` would do too, at a quarter more time per row.) On SQLite the
    statement holds the database's write lock.
    """
    if _postgresql(session):
        session.execute(select(func.pg_advisory_xact_lock(_CREATING_DELIVERIES, edition.id)))
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        _deliveries.insert().from_select(
            ["edition_id", "subscriber_id", "status", "attempts", "created_at", "updated_at"],
            audience_query(edition, now),
        ),
        execution_options={"preserve_rowcount": True},  # else INSERT's count is -1
    )
    return max(result.rowcount or 0, 0)


#: First key of the advisory lock held while an edition's deliveries are created.
_CREATING_DELIVERIES = 0x44470001


def audience_query(edition: Edition, now: datetime) -> Any:
    """The delivery rows an edition still lacks: its language's active subscribers
    without a delivery of this edition (index ix_subscribers_language_status)."""
    already = exists().where(
        Delivery.edition_id == edition.id, Delivery.subscriber_id == Subscriber.id
    )
    return select(
        literal(edition.id, Delivery.edition_id.type),
        Subscriber.id,
        literal(DeliveryStatus.PENDING.value, Delivery.status.type),
        literal(0, Delivery.attempts.type),
        literal(now, Delivery.created_at.type),
        literal(now, Delivery.updated_at.type),
    ).where(
        Subscriber.status == Status.ACTIVE,
        Subscriber.language == edition.language,
        ~already,
    )


@dataclass(slots=True)
class Claimed:
    """A leased delivery and its subscriber (detached), ready to be sent."""

    delivery_id: int
    attempts: int
    subscriber: Subscriber
    #: Tries in the current run (the sender counts them).
    tries: int = 0
    #: The Message-ID an earlier try recorded: a resent copy carries it again.
    message_id: str | None = None


@dataclass
class Claim:
    deliveries: list[Claimed]
    #: Deliveries whose subscriber left meanwhile: recorded as skipped in the same commit.
    skipped: int = 0


def _due_conditions(owner: Any, now: Any) -> list[Any]:
    """Claimable rows, in the order they are taken: pending, deferred and due, abandoned."""
    c = _deliveries.c
    return [
        and_(
            c.status == DeliveryStatus.PENDING,
            or_(c.lease_expires_at.is_(None), c.lease_expires_at < now),
            or_(c.due_at.is_(None), c.due_at <= now),
        ),
        and_(
            c.status == DeliveryStatus.DEFERRED,
            or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now),
            or_(c.lease_expires_at.is_(None), c.lease_expires_at < now),
            or_(c.lease_owner.is_(None), c.lease_owner != owner),
        ),
        and_(c.status == DeliveryStatus.SENDING, c.lease_expires_at < now),
    ]


def _current_revision() -> Any:
    """Only while the edition is still at the revision this run builds messages from: a
    hold that makes a new revision stops the run's claims (the sender then reloads)."""
    editions = cast(Table, Edition.__table__)
    return exists().where(
        editions.c.id == _deliveries.c.edition_id,
        editions.c.revision == bindparam("c_revision"),
    )


def _claiming(where: Any, *, postgresql: bool) -> Any:
    """UPDATE ... WHERE id IN (SELECT ... LIMIT :limit [FOR UPDATE SKIP LOCKED]) RETURNING."""
    c = _deliveries.c
    where = and_(where, _current_revision())
    picked = select(c.id).where(where).order_by(c.id).limit(bindparam("c_limit"))
    if postgresql:
        picked = picked.with_for_update(skip_locked=True)
    return (
        update(_deliveries)
        .where(c.id.in_(picked.scalar_subquery()))
        .values(
            # Claimed is not yet sending: `mark_sending` does that just before DATA. An
            # abandoned `sending` row (perhaps delivered) comes back as deferred.
            status=case((c.status == DeliveryStatus.SENDING, "deferred"), else_=c.status),
            lease_owner=bindparam("c_owner"),
            lease_expires_at=bindparam("c_until", type_=UTCDateTime()),
            updated_at=bindparam("c_now", type_=UTCDateTime()),
            revision=bindparam("c_revision"),
        )
        .returning(c.id, c.subscriber_id, c.attempts, c.message_id)
    )


@cache
def _claim_statements(postgresql: bool) -> tuple[Any, ...]:
    """Built once: a claim runs every few dozen messages, its SQL never changes."""
    now = bindparam("c_now", type_=UTCDateTime())
    owner: Any = bindparam("c_owner")
    edition = _deliveries.c.edition_id == bindparam("c_edition")
    return tuple(
        _claiming(and_(edition, condition), postgresql=postgresql)
        for condition in _due_conditions(owner, now)
    )


@cache
def _abandoned_statement(postgresql: bool) -> Any:
    """Open rows of owners known dead (`dead_owners`), whatever their lease says."""
    c = _deliveries.c
    where = and_(
        c.edition_id == bindparam("c_edition"),
        c.status.in_(_LEASED),
        c.lease_owner.in_(bindparam("c_dead", expanding=True)),
    )
    return _claiming(where, postgresql=postgresql)


@cache
def _retry_statement(postgresql: bool) -> Any:
    c = _deliveries.c
    where = and_(
        c.id.in_(bindparam("c_ids", expanding=True)),
        c.status == DeliveryStatus.DEFERRED,
        c.lease_owner == bindparam("c_owner"),
    )
    return _claiming(where, postgresql=postgresql)


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def claim(
    session: Session,
    edition_id: int,
    owner: str,
    now: datetime,
    limit: int,
    *,
    lease: timedelta = LEASE,
    revision: int = 1,
    abandoned_by: Sequence[str] = (),
) -> Claim:
    """Lease up to `limit` due deliveries: those of the dead owners `abandoned_by` first
    (they have waited longest), then pending, deferred, and those whose lease expired;
    none unless the edition is still at `revision`, which each claimed row records."""
    rows: list[Any] = []
    values = {
        "c_edition": edition_id,
        "c_owner": owner,
        "c_now": now,
        "c_until": now + lease,
        "c_revision": revision,
    }
    postgresql = _postgresql(session)
    statements = _claim_statements(postgresql)
    if abandoned_by:
        values["c_dead"] = list(abandoned_by)
        statements = (_abandoned_statement(postgresql), *statements)
    for statement in statements:
        if len(rows) >= limit:
            break
        rows.extend(session.execute(statement, {**values, "c_limit": limit - len(rows)}))
    return _with_subscribers(session, rows, now)


def claim_retries(
    session: Session,
    delivery_ids: Sequence[int],
    owner: str,
    now: datetime,
    *,
    lease: timedelta = LEASE,
    revision: int = 1,
) -> Claim:
    """Lease again deliveries this run deferred and still holds, for their next try."""
    if not delivery_ids:
        return Claim([])
    values = {
        "c_revision": revision,
        "c_ids": list(delivery_ids),
        "c_owner": owner,
        "c_now": now,
        "c_until": now + lease,
        "c_limit": len(delivery_ids),
    }
    rows = list(session.execute(_retry_statement(_postgresql(session)), values))
    return _with_subscribers(session, rows, now)


def _with_subscribers(session: Session, rows: list[Any], now: datetime) -> Claim:
    """Attach subscribers; skip (in this transaction) those no longer active."""
    if not rows:
        return Claim([])
    subscribers = {
        s.id: s
        for s in session.scalars(
            select(Subscriber).where(Subscriber.id.in_([row.subscriber_id for row in rows]))
        )
    }
    claimed: list[Claimed] = []
    gone: list[dict[str, Any]] = []
    for row in sorted(rows, key=lambda r: r.id):
        subscriber = subscribers.get(row.subscriber_id)
        if subscriber is None or subscriber.status != Status.ACTIVE:
            status = subscriber.status if subscriber is not None else "removed"
            gone.append(
                row_values(
                    row.id,
                    DeliveryStatus.SKIPPED,
                    row.attempts,
                    now,
                    error=f"subscriber {status} before the message was sent",
                )
            )
        else:
            claimed.append(Claimed(row.id, row.attempts, subscriber, message_id=row.message_id))
    if gone:
        session.execute(RECORD, gone)
    session.expunge_all()
    return Claim(claimed, skipped=len(gone))


def inactive_subscribers(session: Session, subscriber_ids: Iterable[int]) -> set[int]:
    """Which of these subscribers may no longer be mailed (left, bounced, removed)."""
    ids = set(subscriber_ids)
    if not ids:
        return set()
    active = session.scalars(
        select(Subscriber.id).where(Subscriber.id.in_(ids), Subscriber.status == Status.ACTIVE)
    )
    return ids - set(active)


def due_count(
    session: Session,
    edition_id: int,
    owner: str,
    now: datetime,
    abandoned_by: Sequence[str] = (),
) -> int:
    """How many deliveries this run could claim right now (the progress bar's total)."""
    c = _deliveries.c
    conditions = _due_conditions(owner, now)
    if abandoned_by:
        conditions.append(and_(c.status.in_(_LEASED), c.lease_owner.in_(list(abandoned_by))))
    return (
        session.scalar(select(func.count(c.id)).where(c.edition_id == edition_id, or_(*conditions)))
        or 0
    )
