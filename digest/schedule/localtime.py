"""Local-time delivery: each reader gets the day's edition at `schedule.at` in their zone.

The edition is frozen once (at the first zone's send time, `digest.editions.scheduled_at`)
and is the same for everyone; only when each delivery becomes due differs. A delivery's
due time is `schedule.at` on the edition's date in the subscriber's `timezone` (the site's
when they have none, or name a zone this machine does not know). One edition per date and
one delivery per (edition, subscriber) means a daylight-saving change neither skips nor
doubles a reader's day; a wall time that does not exist that day is read as PEP 495 says
(just after the gap).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from digest.config import Settings
from digest.models import Delivery, DeliveryStatus
from digest.selection.window import send_time
from subscribers.models import Subscriber

_deliveries = cast(Table, Delivery.__table__)


def zone_or_site(zone: str | None, site_zone: str) -> str:
    """The subscriber's zone when this machine knows it, else the site's."""
    if not zone:
        return site_zone
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return site_zone
    return zone


def assign_due_times(session: Session, edition_id: int, day: date, settings: Settings) -> int:
    """Give the edition's not-yet-timed pending deliveries their zone's due time.

    Run in the transaction that created them, so no sender claims one before it has its
    time. Returns how many deliveries got one.
    """
    schedule = settings.schedule
    c = _deliveries.c
    zones = session.scalars(
        select(Subscriber.timezone)
        .join(Delivery, Delivery.subscriber_id == Subscriber.id)
        .where(Delivery.edition_id == edition_id, Delivery.due_at.is_(None))
        .distinct()
    ).all()
    timed = 0
    for zone in zones:
        due = send_time(day, schedule.at, zone_or_site(zone, schedule.timezone))
        of_zone = select(Subscriber.id).where(Subscriber.timezone == zone)
        result: Any = session.execute(
            update(_deliveries)
            .where(
                c.edition_id == edition_id,
                c.due_at.is_(None),
                c.status == DeliveryStatus.PENDING,
                c.subscriber_id.in_(of_zone.scalar_subquery()),
            )
            .values(due_at=due)
        )
        timed += max(result.rowcount or 0, 0)
    return timed


def skip_missed(
    session: Session,
    edition_id: int,
    now: datetime,
    grace: timedelta,
    reason: str,
    *,
    last_run: datetime | None,
) -> list[tuple[datetime, int]]:
    """Mark `skipped` the edition's never-tried pending deliveries whose due time passed
    more than `grace` before `now` with no send run of the edition since (`last_run`,
    when its last run ended): a reader whose own send time went by while the scheduler
    was down does not get the day's edition hours late (nor as the next day's). Those a
    run met at or after their time (the relay was down, refused everyone, the run was
    stopped) keep being retried, as deferred ones are. Returns (due time, deliveries
    skipped) per due time, earliest first."""
    c = _deliveries.c
    missed = (
        (c.edition_id == edition_id)
        & (c.status == DeliveryStatus.PENDING)
        & (c.attempts == 0)
        & (c.due_at < now - grace)
    )
    if last_run is not None:
        missed = missed & (c.due_at > last_run)
    rows = session.execute(
        select(c.due_at, func.count(c.id)).where(missed).group_by(c.due_at).order_by(c.due_at)
    ).all()
    if rows:
        session.execute(
            update(_deliveries)
            .where(missed)
            .values(status=DeliveryStatus.SKIPPED, last_error=reason, updated_at=now)
        )
    return [(due, int(number)) for due, number in rows]


def next_due(session: Session, edition_id: int, now: datetime) -> tuple[int, datetime | None]:
    """(deliveries whose due time is still to come, the earliest of those times)."""
    c = _deliveries.c
    count, first = session.execute(
        select(func.count(c.id), func.min(c.due_at)).where(
            c.edition_id == edition_id,
            c.status == DeliveryStatus.PENDING,
            c.due_at > now,
        )
    ).one()
    return int(count or 0), first


def due_times(session: Session, edition_id: int) -> list[tuple[datetime | None, str, int]]:
    """(due time, status, deliveries) of the edition, earliest first: `editions show`."""
    c = _deliveries.c
    rows = session.execute(
        select(c.due_at, c.status, func.count(c.id))
        .where(c.edition_id == edition_id)
        .group_by(c.due_at, c.status)
        .order_by(c.due_at, c.status)
    )
    return [(due, str(status), int(number)) for due, status, number in rows]
