"""Sending without the outbox: a rehearsal (`--dry-run`) and test copies (`--to`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from digest.db import Database
from digest.delivery.clock import Clock
from digest.delivery.pacing import envelope_for, run_coroutine
from digest.delivery.results import FAILURES_LISTED, DrainResult, ProgressCallback
from digest.delivery.worker import RecipientFactory
from digest.errors import SendError
from digest.message import MessageSkeleton, Recipient
from digest.models import Delivery, DeliveryStatus
from digest.transport import DeliveryError, Transport
from subscribers.models import Status, Subscriber


def iter_would_send(
    session: Session, edition_id: int | None, language: str, batch_size: int = 1000
) -> Iterator[Subscriber]:
    """Active subscribers of `language` the edition has not yet reached, streamed."""
    last_id = 0
    while True:
        query = select(Subscriber).where(
            Subscriber.id > last_id,
            Subscriber.status == Status.ACTIVE,
            Subscriber.language == language,
        )
        if edition_id is not None:
            done = exists().where(
                Delivery.edition_id == edition_id,
                Delivery.subscriber_id == Subscriber.id,
                Delivery.status.in_(
                    [
                        DeliveryStatus.SENT,
                        DeliveryStatus.FAILED,
                        DeliveryStatus.SKIPPED,
                        DeliveryStatus.UNCERTAIN,
                    ]
                ),
            )
            query = query.where(~done)
        page = list(session.scalars(query.order_by(Subscriber.id).limit(batch_size)))
        if not page:
            return
        yield from page
        last_id = page[-1].id
        session.expunge_all()


def rehearse(
    db: Database,
    edition_id: int | None,
    language: str,
    *,
    skeleton: MessageSkeleton,
    recipient_for: RecipientFactory,
    clock: Clock,
    message_id_for: Callable[[int], str],
    on_progress: ProgressCallback | None = None,
) -> DrainResult:
    """Build every message a send would, to the end; write nothing, contact nobody."""
    result = DrainResult()
    started = clock.monotonic()
    with db.session() as session:
        for subscriber in iter_would_send(session, edition_id, language):
            try:
                recipient = recipient_for(subscriber)
                skeleton.build(
                    recipient, message_id=message_id_for(subscriber.id), date=clock.now()
                )
            except SendError as e:
                result.failed += 1
                if len(result.failures) < FAILURES_LISTED:
                    result.failures.append((subscriber.email, str(e)))
            else:
                result.sent += 1
            if on_progress is not None and (result.sent + result.failed) % 500 == 0:
                on_progress(result)
        session.rollback()
    result.total = result.sent + result.failed
    result.elapsed = clock.monotonic() - started
    return result


async def _send_copies(
    transport: Transport, sender: str, messages: list[tuple[str, bytes]]
) -> list[tuple[str, str | None]]:
    results: list[tuple[str, str | None]] = []
    connection = await transport.connect()
    try:
        for email, message in messages:
            try:
                await connection.send(envelope_for(sender, email), message)
            except DeliveryError as e:
                results.append((email, str(e)))
            else:
                results.append((email, None))
    finally:
        await connection.close()
    return results


def send_copies(
    transport: Transport,
    sender: str,
    skeleton: MessageSkeleton,
    recipients: list[Recipient],
    *,
    clock: Clock,
) -> list[tuple[str, str | None]]:
    """Send one test copy to each recipient, outside the outbox: (email, error or None)."""
    messages = [
        (
            recipient.email,
            skeleton.build(recipient, message_id=skeleton.message_id("test"), date=clock.now()),
        )
        for recipient in recipients
    ]
    return run_coroutine(_send_copies(transport, sender, messages))
