"""The deliveries outbox: one row per (edition, subscriber), claimed with a lease.

The unique key makes creating deliveries idempotent; the lease makes draining
resumable and safe for several workers: a row is only ever claimed by one of them.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session

from digest.models import Delivery, DeliveryStatus, Edition
from subscribers.models import Status, Subscriber

LEASE = timedelta(minutes=10)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


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
    result = session.execute(
        Delivery.__table__.insert().from_select(
            ["edition_id", "subscriber_id", "status", "attempts", "created_at", "updated_at"],
            rows,
        )
    )
    return max(result.rowcount or 0, 0)


def claim(
    session: Session, edition_id: int, owner: str, now: datetime, limit: int
) -> list[Delivery]:
    """Lease up to `limit` deliveries that are due: pending, deferred and due, or abandoned."""
    due = or_(
        Delivery.status == DeliveryStatus.PENDING,
        and_(
            Delivery.status == DeliveryStatus.DEFERRED,
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        ),
        and_(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_expires_at < now),
    )
    query = (
        select(Delivery)
        .where(Delivery.edition_id == edition_id, due)
        .order_by(Delivery.id)
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    deliveries = list(session.scalars(query))
    for delivery in deliveries:
        delivery.status = DeliveryStatus.SENDING
        delivery.lease_owner = owner
        delivery.lease_expires_at = now + LEASE
        delivery.updated_at = now
    session.flush()
    return deliveries


def counts(session: Session, edition_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Delivery.status, func.count(Delivery.id))
        .where(Delivery.edition_id == edition_id)
        .group_by(Delivery.status)
    )
    return {status: number for status, number in rows}


def remaining(session: Session, edition_id: int) -> int:
    """Deliveries not yet in a final state."""
    return (
        session.scalar(
            select(func.count(Delivery.id)).where(
                Delivery.edition_id == edition_id,
                Delivery.status.in_(
                    [DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.DEFERRED]
                ),
            )
        )
        or 0
    )


def release(session: Session, deliveries: Sequence[Delivery], now: datetime) -> None:
    """Give back leases not used (e.g. on shutdown) so another run takes them at once."""
    ids = [d.id for d in deliveries if d.status == DeliveryStatus.SENDING]
    if ids:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.SENDING)
            .values(
                status=DeliveryStatus.PENDING,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=now,
            )
        )
