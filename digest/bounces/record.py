"""Applying a matched report: bounce counts, complained, unsubscribed, and the event row.

The same rules as a synchronous failure during the send (issue #10's classifier): only
an address failure (5.1.x, 5.2.1) counts towards `mail.bounce_threshold`, once per
delivery however many copies of the report arrive. A refusal of the relay or sender
(5.3/5.4/5.5/5.7.x) is recorded and never counts. Soft bounces count as one address
failure when `mail.soft_bounce_threshold` consecutive deliveries to the subscriber have
all soft-bounced. The caller's session holds the transaction; nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.bounces.match import Match
from digest.bounces.report import FailureKind, Report, ReportKind
from digest.models import BounceEvent, Delivery, DeliveryStatus, InboundMessage
from subscribers import status as transitions
from subscribers import store
from subscribers.models import Status, Subscriber


class EventKind(StrEnum):
    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"


@dataclass(frozen=True)
class Thresholds:
    """`mail.bounce_threshold` and `mail.soft_bounce_threshold` (0 = never)."""

    bounce: int = 3
    soft: int = 3


@dataclass(frozen=True)
class Applied:
    """What one report did to its subscriber."""

    event: EventKind
    counted: bool = False
    #: The subscriber's status changed: bounced, complained or unsubscribed.
    new_status: str | None = None


def seen(session: Session, digests: list[str]) -> set[str]:
    """Which of these inbound digests were processed before."""
    if not digests:
        return set()
    query = select(InboundMessage.digest).where(InboundMessage.digest.in_(digests))
    return set(session.scalars(query))


def apply_report(
    session: Session,
    report: Report,
    match: Match,
    *,
    digest: str,
    origin: str,
    thresholds: Thresholds,
    now: datetime,
) -> Applied:
    """Record `report` (already matched) once under `digest` and apply it."""
    inbound = InboundMessage(
        digest=digest,
        origin=origin,
        message_id=(report.message_id or None) and report.message_id[:998],
        kind=report.kind.value,
        processed_at=now,
    )
    session.add(inbound)
    session.flush()
    subscriber = session.get(Subscriber, match.subscriber_id)
    event = BounceEvent(
        inbound_id=inbound.id,
        delivery_id=match.delivery_id,
        subscriber_id=match.subscriber_id,
        matched_by=match.matched_by,
        recipient=subscriber.email if subscriber is not None else "",
        status="",
        diagnostic="",
        counted=False,
        created_at=now,
    )
    applied = _apply(session, report, match, event, subscriber, thresholds, now)
    event.kind = applied.event.value
    event.counted = applied.counted
    session.add(event)
    session.flush()
    return applied


def _apply(
    session: Session,
    report: Report,
    match: Match,
    event: BounceEvent,
    subscriber: Subscriber | None,
    thresholds: Thresholds,
    now: datetime,
) -> Applied:
    if report.kind == ReportKind.COMPLAINT:
        event.recipient = report.complainant or event.recipient
        moved = subscriber is not None and transitions.move(subscriber, Status.COMPLAINED, now)
        return Applied(EventKind.COMPLAINT, new_status=Status.COMPLAINED if moved else None)
    if report.kind == ReportKind.UNSUBSCRIBE:
        event.recipient = report.requester
        moved = subscriber is not None and transitions.move(subscriber, Status.UNSUBSCRIBED, now)
        return Applied(EventKind.UNSUBSCRIBE, new_status=Status.UNSUBSCRIBED if moved else None)
    failure = report.worst
    if failure is None:
        raise ValueError("a bounce report without failures")
    event.recipient = failure.recipient[:320]
    event.status = failure.status
    event.diagnostic = failure.diagnostic
    event.failure_kind = failure.kind.value
    if failure.kind == FailureKind.TRANSIENT:
        counts = _soft_streak_complete(session, match, thresholds.soft)
        return _count(session, match, EventKind.SOFT, counts, thresholds, now)
    counts = failure.kind == FailureKind.ADDRESS and not _counted_before(session, match)
    return _count(session, match, EventKind.HARD, counts, thresholds, now)


def _count(
    session: Session,
    match: Match,
    kind: EventKind,
    counts: bool,
    thresholds: Thresholds,
    now: datetime,
) -> Applied:
    if not counts:
        return Applied(kind)
    bounced = store.record_permanent_failure(
        session, match.subscriber_id, threshold=thresholds.bounce, now=now
    )
    return Applied(kind, counted=True, new_status=Status.BOUNCED if bounced else None)


def _counted_before(session: Session, match: Match) -> bool:
    """A hard bounce for this delivery already counted (a second copy of the report)."""
    if match.delivery_id is None:
        return False
    query = select(BounceEvent.id).where(
        BounceEvent.delivery_id == match.delivery_id,
        BounceEvent.counted.is_(True),
    )
    return session.scalar(query.limit(1)) is not None


def _soft_streak_complete(session: Session, match: Match, limit: int) -> bool:
    """True when this soft bounce makes `limit` consecutive deliveries soft-bounced.

    Consecutive: the subscriber's sent deliveries up to this one, newest first; a
    delivery with no bounce event in between (it arrived) ends the streak. A delivery
    that soft-bounced before adds nothing new, and a streak counts at limit, 2·limit...
    """
    if limit <= 0 or match.delivery_id is None:
        return False
    bounced_before = select(BounceEvent.id).where(BounceEvent.delivery_id == match.delivery_id)
    if session.scalar(bounced_before.limit(1)) is not None:
        return False
    recent = list(
        session.scalars(
            select(Delivery.id)
            .where(
                Delivery.subscriber_id == match.subscriber_id,
                Delivery.id < match.delivery_id,
                Delivery.status == DeliveryStatus.SENT,
            )
            .order_by(Delivery.id.desc())
            .limit(limit * 20)
        )
    )
    soft = set(
        session.scalars(
            select(BounceEvent.delivery_id).where(
                BounceEvent.delivery_id.in_(recent), BounceEvent.kind == EventKind.SOFT
            )
        )
    )
    streak = 1
    for delivery_id in recent:
        if delivery_id not in soft:
            break
        streak += 1
    return streak % limit == 0
