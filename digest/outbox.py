"""The deliveries outbox: one row per (edition, subscriber), claimed with a lease.

The unique key makes creating deliveries idempotent; the lease makes draining resumable
and safe for several workers. A claim is one `UPDATE ... WHERE id IN (SELECT ... LIMIT n
[FOR UPDATE SKIP LOCKED]) RETURNING`, so two processes can never take the same row, on
SQLite (the statement holds the write lock) or PostgreSQL (skipped locks).

A lease owner is `host:pid:start:run`; a lease held by a process that no longer runs on this
host is taken back at once, others when they expire. A deferred row keeps its owner while
that run still means to retry it (lease set), and after it gave up (lease cleared), so the
same run does not take it again but the next run does.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from itertools import islice
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
from sqlalchemy.orm import Session, selectinload

from digest.errors import DigestError
from digest.models import Delivery, DeliveryStatus, Edition, EditionItem
from subscribers import store
from subscribers.models import Status, Subscriber, UTCDateTime

LEASE = timedelta(minutes=2)

_deliveries = cast(Table, Delivery.__table__)
_FINAL = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)
_OPEN = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.DEFERRED)


@cache
def _process_start(pid: int) -> str | None:
    """The process start time in clock ticks since boot (Linux), to tell a reused pid."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[19] if len(fields) > 19 else None


def worker_id() -> str:
    """A run as a lease owner: host, pid, process start time, and a nonce for the run
    (one process may run several sends, e.g. the scheduler)."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_start(pid) or '-'}:{secrets.token_hex(4)}"


def owner_is_dead(owner: str, *, host: str | None = None) -> bool:
    """True only when `owner` ran on this host and that process is gone."""
    try:
        owner_host, pid_text, start, _run = owner.rsplit(":", 3)
        pid = int(pid_text)
    except ValueError:
        return False
    if owner_host != (host or socket.gethostname()) or pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return True
    except OSError:
        fields = []
    if fields:
        if fields[0] in ("Z", "X"):  # exited, not yet reaped
            return True
        return start != "-" and len(fields) > 19 and fields[19] != start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def create_deliveries(session: Session, edition: Edition, now: datetime) -> int:
    """Add a pending delivery for each active subscriber of the edition's language."""
    already = exists().where(
        Delivery.edition_id == edition.id, Delivery.subscriber_id == Subscriber.id
    )
    rows = select(
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
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        _deliveries.insert().from_select(
            ["edition_id", "subscriber_id", "status", "attempts", "created_at", "updated_at"],
            rows,
        )
    )
    return max(result.rowcount or 0, 0)


@dataclass(slots=True)
class Claimed:
    """A leased delivery and its subscriber (detached), ready to be sent."""

    delivery_id: int
    attempts: int
    subscriber: Subscriber
    #: Tries in the current run (the sender counts them).
    tries: int = 0


@dataclass
class Claim:
    deliveries: list[Claimed]
    #: Deliveries whose subscriber left meanwhile: recorded as skipped in the same commit.
    skipped: int = 0


def _due_conditions(owner: Any, now: Any) -> list[Any]:
    """Claimable rows, in the order they are taken: pending, deferred and due, abandoned."""
    c = _deliveries.c
    return [
        and_(c.status == DeliveryStatus.PENDING, or_(c.due_at.is_(None), c.due_at <= now)),
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
            status=DeliveryStatus.SENDING,
            lease_owner=bindparam("c_owner"),
            lease_expires_at=bindparam("c_until", type_=UTCDateTime()),
            updated_at=bindparam("c_now", type_=UTCDateTime()),
            revision=bindparam("c_revision"),
        )
        .returning(c.id, c.subscriber_id, c.attempts)
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
) -> Claim:
    """Lease up to `limit` due deliveries: pending first, then deferred, then abandoned;
    none unless the edition is still at `revision`, which each claimed row records."""
    rows: list[Any] = []
    values = {
        "c_edition": edition_id,
        "c_owner": owner,
        "c_now": now,
        "c_until": now + lease,
        "c_revision": revision,
    }
    for statement in _claim_statements(_postgresql(session)):
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
                _row_values(
                    row.id,
                    DeliveryStatus.SKIPPED,
                    row.attempts,
                    now,
                    error=f"subscriber {status} before the message was sent",
                )
            )
        else:
            claimed.append(Claimed(row.id, row.attempts, subscriber))
    if gone:
        session.execute(_RECORD, gone)
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


def _row_values(
    delivery_id: int,
    status: str,
    attempts: int,
    now: datetime,
    *,
    error: str | None = None,
    message_id: str | None = None,
    sent_at: datetime | None = None,
    next_attempt_at: datetime | None = None,
    lease_owner: str | None = None,
    lease_expires_at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "b_id": delivery_id,
        "b_status": status,
        "b_attempts": attempts,
        "b_error": error[:2000] if error else error,
        "b_message_id": message_id,
        "b_sent_at": sent_at,
        "b_next": next_attempt_at,
        "b_owner": lease_owner,
        "b_lease": lease_expires_at,
        "b_now": now,
    }


_RECORD = (
    update(_deliveries)
    .where(_deliveries.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        last_error=bindparam("b_error"),
        message_id=bindparam("b_message_id"),
        sent_at=bindparam("b_sent_at"),
        next_attempt_at=bindparam("b_next"),
        lease_owner=bindparam("b_owner"),
        lease_expires_at=bindparam("b_lease"),
        updated_at=bindparam("b_now"),
    )
)


@dataclass(slots=True)
class Outcome:
    """What one try of one delivery came to, as it will be written."""

    delivery_id: int
    subscriber_id: int
    status: DeliveryStatus
    attempts: int
    at: datetime
    error: str | None = None
    message_id: str | None = None
    #: DEFERRED only: when this run tries again (the lease is kept until then), or None
    #: when this run gave up and leaves it to the next run.
    retry_at: datetime | None = None
    #: FAILED only: a 5xx reply, which counts towards the subscriber's bounce status.
    bounce: bool = False


def record(
    session: Session,
    outcomes: Iterable[Outcome],
    owner: str,
    *,
    lease: timedelta = LEASE,
    bounce_threshold: int = 0,
) -> int:
    """Write a batch of outcomes in the caller's transaction; returns subscribers bounced."""
    values = []
    bounces: list[Outcome] = []
    for outcome in outcomes:
        sent = outcome.status == DeliveryStatus.SENT
        deferred = outcome.status == DeliveryStatus.DEFERRED
        values.append(
            _row_values(
                outcome.delivery_id,
                outcome.status,
                outcome.attempts,
                outcome.at,
                error=outcome.error,
                message_id=outcome.message_id,
                sent_at=outcome.at if sent else None,
                next_attempt_at=outcome.retry_at if deferred else None,
                lease_owner=owner if deferred else None,
                lease_expires_at=(outcome.retry_at + lease)
                if deferred and outcome.retry_at
                else None,
            )
        )
        if outcome.bounce:
            bounces.append(outcome)
    if values:
        session.execute(_RECORD, values)
    bounced = 0
    for outcome in bounces:
        bounced += store.record_permanent_failure(
            session, outcome.subscriber_id, threshold=bounce_threshold, now=outcome.at
        )
    return bounced


def renew(
    session: Session, edition_id: int, owner: str, now: datetime, lease: timedelta = LEASE
) -> None:
    """Extend this run's leases (a live run's rows are never taken over)."""
    c = _deliveries.c
    session.execute(
        update(_deliveries)
        .where(
            c.edition_id == edition_id,
            c.lease_owner == owner,
            c.lease_expires_at.is_not(None),
            c.status.in_([DeliveryStatus.SENDING, DeliveryStatus.DEFERRED]),
        )
        .values(lease_expires_at=now + lease)
    )


def _back_to_queue(c: Any) -> Any:
    """A leased row nobody sent goes back to where it was: pending, or deferred."""
    return case(
        (c.status == DeliveryStatus.SENDING, case((c.attempts == 0, "pending"), else_="deferred")),
        else_=c.status,
    )


def release(session: Session, edition_id: int, owner: str, now: datetime) -> int:
    """Give back this run's leases (on stop or error) so another run takes them at once.

    Deferred rows keep this owner, so this run does not pick them up again.
    """
    c = _deliveries.c
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(_deliveries)
        .where(
            c.edition_id == edition_id,
            c.lease_owner == owner,
            c.status.in_([DeliveryStatus.SENDING, DeliveryStatus.DEFERRED]),
        )
        .values(
            status=_back_to_queue(c),
            lease_owner=case((c.status == DeliveryStatus.SENDING, None), else_=c.lease_owner),
            lease_expires_at=None,
            next_attempt_at=None,
            updated_at=now,
        )
    )
    return max(result.rowcount or 0, 0)


def reclaim_abandoned(
    session: Session, edition_id: int, owner: str, now: datetime, *, host: str | None = None
) -> int:
    """Free the leases of processes on this host that no longer run (killed, crashed)."""
    c = _deliveries.c
    owners = session.scalars(
        select(c.lease_owner)
        .where(
            c.edition_id == edition_id,
            c.status.in_([DeliveryStatus.SENDING, DeliveryStatus.DEFERRED]),
            c.lease_owner.is_not(None),
            c.lease_owner != owner,
        )
        .distinct()
    ).all()
    dead = [o for o in owners if o and owner_is_dead(o, host=host)]
    if not dead:
        return 0
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(_deliveries)
        .where(
            c.edition_id == edition_id,
            c.lease_owner.in_(dead),
            c.status.in_([DeliveryStatus.SENDING, DeliveryStatus.DEFERRED]),
        )
        .values(
            status=_back_to_queue(c),
            lease_owner=None,
            lease_expires_at=None,
            next_attempt_at=None,
            updated_at=now,
        )
    )
    return max(result.rowcount or 0, 0)


@dataclass(frozen=True)
class HeldElsewhere:
    count: int
    until: datetime | None


def held_elsewhere(session: Session, edition_id: int, owner: str, now: datetime) -> HeldElsewhere:
    """Deliveries another live run holds (sending, or deferred for its own retry)."""
    c = _deliveries.c
    count, until = session.execute(
        select(func.count(c.id), func.min(c.lease_expires_at)).where(
            c.edition_id == edition_id,
            c.status.in_([DeliveryStatus.SENDING, DeliveryStatus.DEFERRED]),
            c.lease_expires_at >= now,
            or_(c.lease_owner.is_(None), c.lease_owner != owner),
        )
    ).one()
    return HeldElsewhere(count or 0, until)


def due_count(session: Session, edition_id: int, owner: str, now: datetime) -> int:
    """How many deliveries this run could claim right now (the progress bar's total)."""
    return (
        session.scalar(
            select(func.count(_deliveries.c.id)).where(
                _deliveries.c.edition_id == edition_id, or_(*_due_conditions(owner, now))
            )
        )
        or 0
    )


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


def iter_unsent(session: Session, edition_id: int, batch_size: int = 500) -> Iterator[Unsent]:
    """Failed and deferred deliveries in id order, streamed a page at a time."""
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
            )
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(
                Delivery.edition_id == edition_id,
                Delivery.id > last_id,
                Delivery.status.in_([DeliveryStatus.FAILED, DeliveryStatus.DEFERRED]),
            )
            .order_by(Delivery.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return
        for row in rows:
            yield Unsent(
                row.email, row.status, row.attempts, row.last_error or "", row.next_attempt_at
            )
        last_id = rows[-1].id


class UnknownEdition(DigestError):
    pass


def find_edition(session: Session, reference: str) -> Edition:
    """An edition by id (`12`) or key (`2025-06-04/en`)."""
    reference = reference.strip()
    edition: Edition | None = None
    if reference.isdigit():
        edition = session.get(Edition, int(reference))
    elif "/" in reference:
        day, _, rest = reference.partition("/")
        language, _, variant = rest.partition("/")
        try:
            from datetime import date

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
    unsent_total = by_status[DeliveryStatus.FAILED] + by_status[DeliveryStatus.DEFERRED]
    unsent = list(islice(iter_unsent(session, edition.id), unsent_limit))
    return EditionReport(edition, by_status, items, unsent, unsent_total)
