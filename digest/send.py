"""Draining an edition's outbox: claim a batch, deliver, record, commit, repeat.

Every recipient's outcome is a row. A crash loses nothing: rows claimed by a dead run
are reclaimed when their lease expires, and sent rows are never sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from digest import outbox
from digest.db import Database
from digest.errors import SendError
from digest.message import MessageSkeleton, Recipient
from digest.models import Delivery, DeliveryStatus, Edition
from digest.transport import Transport
from subscribers.models import Status, Subscriber


@dataclass
class DrainResult:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


RecipientFactory = Callable[[Subscriber], Recipient]


def drain(
    db: Database,
    edition: Edition,
    *,
    skeleton: MessageSkeleton,
    recipient_for: RecipientFactory,
    transport: Transport,
    sender: str,
    clock: Callable[[], datetime],
    batch_size: int = 100,
    on_progress: Callable[[DrainResult], None] | None = None,
) -> DrainResult:
    result = DrainResult()
    owner = outbox.worker_id()
    while True:
        with db.session() as session:
            claimed = outbox.claim(session, edition.id, owner, clock(), batch_size)
        if not claimed:
            return result
        with db.session() as session:
            subscribers = {
                s.id: s
                for s in session.scalars(
                    select(Subscriber).where(Subscriber.id.in_([d.subscriber_id for d in claimed]))
                )
            }
            for delivery in claimed:
                session.add(delivery)
                _deliver_one(
                    delivery,
                    subscribers.get(delivery.subscriber_id),
                    skeleton,
                    recipient_for,
                    transport,
                    sender,
                    clock(),
                    result,
                )
        if on_progress:
            on_progress(result)


def _deliver_one(
    delivery: Delivery,
    subscriber: Subscriber | None,
    skeleton: MessageSkeleton,
    recipient_for: RecipientFactory,
    transport: Transport,
    sender: str,
    now: datetime,
    result: DrainResult,
) -> None:
    delivery.updated_at = now
    delivery.lease_owner = None
    delivery.lease_expires_at = None
    if subscriber is None or subscriber.status != Status.ACTIVE:
        # Unsubscribed (or removed) after the delivery was created: honour it.
        delivery.status = DeliveryStatus.SKIPPED
        delivery.last_error = "subscriber no longer active"
        result.skipped += 1
        return
    delivery.attempts += 1
    message_id = skeleton.message_id(f"{delivery.edition_id}.{delivery.id}")
    try:
        message = skeleton.build(recipient_for(subscriber), message_id=message_id, date=now)
        transport.deliver(sender, subscriber.email, message)
    except SendError as e:
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = str(e)
        result.failed += 1
        result.failures.append((subscriber.email, str(e)))
        return
    delivery.status = DeliveryStatus.SENT
    delivery.message_id = message_id
    delivery.sent_at = now
    delivery.last_error = None
    result.sent += 1
