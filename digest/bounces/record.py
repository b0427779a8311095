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
from typing import cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from digest.bounces.match import Match
from digest.bounces.report import Report, ReportKind
from digest.models import BounceEvent, Delivery, DeliveryStatus, FailureKind
from subscribers import store
from subscribers.models import Status


class EventKind(StrEnum):
    """What a recorded event was: a hard or soft bounce, a complaint, a request."""

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


_EVENTS = cast(Table, BounceEvent.__table__)
#: Built once (thousands of executions a run).
_INSERT = insert(_EVENTS)
_COUNTED = (
    select(_EVENTS.c.id)
    .where(_EVENTS.c.delivery_id == bindparam("delivery_id"), _EVENTS.c.counted.is_(True))
    .limit(1)
)

_BOUNCED = select(_EVENTS.c.id).where(_EVENTS.c.delivery_id == bindparam("delivery_id")).limit(1)
_DELIVERIES = cast(Table, Delivery.__table__)
_RECENT = (
    select(_DELIVERIES.c.id)
    .where(
        _DELIVERIES.c.subscriber_id == bindparam("subscriber_id"),
        _DELIVERIES.c.id < bindparam("delivery_id"),
        _DELIVERIES.c.status == DeliveryStatus.SENT,
    )
    .order_by(_DELIVERIES.c.id.desc())
    .limit(bindparam("depth"))
)
_DELIVERY_STATUS = select(_DELIVERIES.c.status).where(_DELIVERIES.c.id == bindparam("delivery_id"))
_SOFT = select(_EVENTS.c.delivery_id).where(
    _EVENTS.c.delivery_id.in_(bindparam("ids", expanding=True)),
    _EVENTS.c.kind == EventKind.SOFT,
)


def seen(session: Session, digests: list[str]) -> set[str]:
    """Which of these inbound digests were processed before."""
    if not digests:
        return set()
    query = select(BounceEvent.digest).where(BounceEvent.digest.in_(digests))
    return set(session.scalars(query))


@dataclass
class _Event:
    """The row being written (Core insert: one statement, no unit of work per message)."""

    kind: EventKind
    recipient: str = ""
    status: str = ""
    diagnostic: str = ""
    failure_kind: str | None = None


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
    """Apply `report` (already matched) and record it once under `digest`."""
    applied, event = _apply(session, report, match, thresholds, now)
    session.connection().execute(
        _INSERT,
        {
            "digest": digest,
            "origin": origin,
            "inbound_message_id": (report.message_id or "")[:998] or None,
            "kind": event.kind.value,
            "failure_kind": event.failure_kind,
            "delivery_id": match.delivery_id,
            "subscriber_id": match.subscriber_id,
            "recipient": event.recipient[:320],
            "status": event.status[:16],
            "diagnostic": event.diagnostic,
            "matched_by": match.matched_by,
            "counted": applied.counted,
            "created_at": now,
        },
    )
    return applied


def _apply(
    session: Session,
    report: Report,
    match: Match,
    thresholds: Thresholds,
    now: datetime,
) -> tuple[Applied, _Event]:
    if report.kind in (ReportKind.COMPLAINT, ReportKind.UNSUBSCRIBE):
        complaint = report.kind == ReportKind.COMPLAINT
        status = Status.COMPLAINED if complaint else Status.UNSUBSCRIBED
        kind = EventKind.COMPLAINT if complaint else EventKind.UNSUBSCRIBE
        moved = store.move_by_id(session, match.subscriber_id, status, now)
        address = report.complainant if complaint else report.requester
        return Applied(kind, new_status=status if moved else None), _Event(kind, address)
    failure = report.worst
    if failure is None:
        raise ValueError("a bounce report without failures")
    event = _Event(
        EventKind.HARD,
        failure.recipient,
        failure.status,
        failure.diagnostic,
        failure.kind.value,
    )
    if failure.kind == FailureKind.TRANSIENT:
        event.kind = EventKind.SOFT
        counts = _soft_streak_complete(session, match, thresholds.soft)
    else:
        counts = failure.kind == FailureKind.ADDRESS and not _counted_before(session, match)
    return _count(session, match, event.kind, counts, thresholds, now), event


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
    bounced = store.count_address_failure(
        session, match.subscriber_id, threshold=thresholds.bounce, now=now
    )
    return Applied(kind, counted=True, new_status=Status.BOUNCED if bounced else None)


def _counted_before(session: Session, match: Match) -> bool:
    """A hard bounce for this delivery already counted: a second copy of the report, or
    the relay refused it during the send (then the sender's classification stands)."""
    if match.delivery_id is None:
        return False
    connection = session.connection()
    found = connection.execute(_COUNTED, {"delivery_id": match.delivery_id})
    if found.first() is not None:
        return True
    # Refused during the send already: the sender judged (and counted) that failure.
    status = connection.execute(_DELIVERY_STATUS, {"delivery_id": match.delivery_id}).scalar()
    return status == DeliveryStatus.FAILED


def _soft_streak_complete(session: Session, match: Match, limit: int) -> bool:
    """True when this soft bounce makes `limit` consecutive deliveries soft-bounced.

    Consecutive: the subscriber's sent deliveries up to this one, newest first; a
    delivery with no bounce event in between (it arrived) ends the streak. A delivery
    that soft-bounced before adds nothing new, and a streak counts at limit, 2·limit...
    """
    if limit <= 0 or match.delivery_id is None:
        return False
    connection = session.connection()
    if connection.execute(_BOUNCED, {"delivery_id": match.delivery_id}).first() is not None:
        return False
    params = {"subscriber_id": match.subscriber_id, "delivery_id": match.delivery_id}
    recent = list(connection.execute(_RECENT, {**params, "depth": limit * 20}).scalars())
    soft = set(connection.execute(_SOFT, {"ids": recent}).scalars()) if recent else set()
    streak = 1
    for delivery_id in recent:
        if delivery_id not in soft:
            break
        streak += 1
    return streak % limit == 0
