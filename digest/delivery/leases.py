"""Leases on claimed deliveries: who holds them, renewing, giving back, taking over.

A lease owner is `host:pid:start:run`; a lease held by a process that no longer runs on
this host is taken over at once (`dead_owners`), others when they expire. `mark_sending`
is the "before DATA" step's write; `requeue` puts deliveries back to pending (the circuit
breaker, and `--resend-uncertain`).
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Table, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session

from digest.characters import storable_text
from digest.delivery.options import LEASE as LEASE
from digest.models import Delivery, DeliveryStatus

_deliveries = cast(Table, Delivery.__table__)
#: Statuses a lease can be held on.
_LEASED = [DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.DEFERRED]


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


def renew(
    session: Session | Connection,
    edition_id: int,
    owner: str,
    now: datetime,
    lease: timedelta = LEASE,
) -> None:
    """Extend this run's leases (a live run's rows are never taken over)."""
    c = _deliveries.c
    session.execute(
        update(_deliveries)
        .where(
            c.edition_id == edition_id,
            c.lease_owner == owner,
            c.lease_expires_at.is_not(None),
            c.status.in_(_LEASED),
        )
        .values(lease_expires_at=now + lease)
    )


def mark_sending(
    session: Session | Connection, delivery_ids: Sequence[int], owner: str, now: datetime
) -> set[int]:
    """The "before DATA" step: make these claimed deliveries `sending`, in the caller's
    transaction. Returns the ids still leased to `owner` (a lost lease must not be sent)."""
    if not delivery_ids:
        return set()
    rows = session.execute(
        _mark_sending_statement(),
        {"m_ids": list(delivery_ids), "m_owner": owner, "m_now": now},
    )
    return {row.id for row in rows}


@cache
def _mark_sending_statement() -> Any:
    """Built once: it runs for nearly every message, and building the expression each
    time cost more than the database's own work."""
    c = _deliveries.c
    return (
        update(_deliveries)
        .where(
            c.id.in_(bindparam("m_ids", expanding=True)),
            c.lease_owner == bindparam("m_owner"),
            c.status.in_(_LEASED),
        )
        .values(status=DeliveryStatus.SENDING, updated_at=bindparam("m_now"))
        .returning(c.id)
    )


def requeue(session: Session | Connection, delivery_ids: Sequence[int], now: datetime) -> int:
    """Put deliveries back to pending, unleased (those that tripped the circuit breaker)."""
    if not delivery_ids:
        return 0
    c = _deliveries.c
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(_deliveries)
        .where(c.id.in_(list(delivery_ids)))
        .values(
            status=DeliveryStatus.PENDING,
            lease_owner=None,
            lease_expires_at=None,
            next_attempt_at=None,
            sent_at=None,
            failure_kind=None,
            updated_at=now,
        )
    )
    return max(result.rowcount or 0, 0)


def requeue_uncertain(session: Session, edition_id: int, now: datetime) -> int:
    """The operator decided: send the edition's uncertain deliveries again."""
    c = _deliveries.c
    ids = list(
        session.scalars(
            select(c.id).where(c.edition_id == edition_id, c.status == DeliveryStatus.UNCERTAIN)
        )
    )
    return requeue(session, ids, now)


def _back_to_queue(c: Any) -> Any:
    """A leased row nobody sent goes back to where it was: pending, or deferred."""
    return case(
        (c.status == DeliveryStatus.SENDING, case((c.attempts == 0, "pending"), else_="deferred")),
        else_=c.status,
    )


@dataclass(frozen=True)
class HandedOver:
    """A delivery whose message the relay took (`sent`) or may have (`uncertain`), but
    whose outcome the run could not commit."""

    delivery_id: int
    status: DeliveryStatus
    at: datetime
    attempts: int
    message_id: str | None = None
    error: str | None = None


def release(
    session: Session,
    edition_id: int,
    owner: str,
    now: datetime,
    handed_over: Sequence[HandedOver] = (),
) -> int:
    """Give back this run's leases (on stop or error) so another run takes them at once;
    returns how many went back to the queue.

    Deferred rows keep this owner, so this run does not pick them up again. Deliveries
    `handed_over` are recorded first, with their status only: put back in the queue,
    their row still `sending`, they would be sent again.
    """
    c = _deliveries.c
    for item in handed_over:
        session.execute(
            update(_deliveries)
            .where(
                c.id == item.delivery_id,
                c.lease_owner == owner,
                c.status == DeliveryStatus.SENDING,
            )
            .values(
                status=item.status,
                attempts=item.attempts,
                sent_at=item.at,
                message_id=item.message_id,
                last_error=storable_text(item.error[:2000]) if item.error else None,
                lease_owner=None,
                lease_expires_at=None,
                next_attempt_at=None,
                updated_at=now,
            )
        )
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(_deliveries)
        .where(
            c.edition_id == edition_id,
            c.lease_owner == owner,
            c.status.in_(_LEASED),
        )
        .values(
            status=_back_to_queue(c),
            lease_owner=case((c.status == DeliveryStatus.DEFERRED, c.lease_owner), else_=None),
            lease_expires_at=None,
            next_attempt_at=None,
            updated_at=now,
        )
    )
    return max(result.rowcount or 0, 0)


def dead_owners(
    session: Session, edition_id: int, owner: str, *, host: str | None = None
) -> list[str]:
    """Lease owners of this edition's open deliveries that ran on this host and no
    longer run (killed, crashed): their rows are taken over at once (`outbox.claim`'s
    `abandoned_by`), not after their leases expire."""
    c = _deliveries.c
    owners = session.scalars(
        select(c.lease_owner)
        .where(
            c.edition_id == edition_id,
            c.status.in_(_LEASED),
            c.lease_owner.is_not(None),
            c.lease_owner != owner,
        )
        .distinct()
    ).all()
    return sorted(o for o in owners if o and owner_is_dead(o, host=host))


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
            c.status.in_(_LEASED),
            c.lease_expires_at >= now,
            or_(c.lease_owner.is_(None), c.lease_owner != owner),
        )
    ).one()
    return HeldElsewhere(count or 0, until)
