"""Status transitions: pending → active → unsubscribed | bounced | complained.

A status only ever moves forward, and each move stamps its time. The one way back is an
explicit resubscribe (the reader asked to return), never a side effect of add or import:
an address that unsubscribed, bounced or complained is never mailed again by accident.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from subscribers.models import Status

#: Statuses that are never mailed and that only `resubscribe` undoes.
SUPPRESSED = frozenset({Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED})

_RANK = {Status.PENDING: 0, Status.ACTIVE: 1}

#: The timestamp column each status stamps when a subscriber moves into it.
STAMPS = {
    Status.ACTIVE: "confirmed_at",
    Status.UNSUBSCRIBED: "unsubscribed_at",
    Status.BOUNCED: "bounced_at",
    Status.COMPLAINED: "complained_at",
}


def moves_forward(current: str, new: str) -> bool:
    """True if `current` → `new` is an allowed transition (not a step back or sideways)."""
    return _RANK.get(Status(new), 2) > _RANK.get(Status(current), 2)


def move(record: Any, new: Status, now: datetime) -> bool:
    """Move an ORM subscriber forward to `new`, stamping the time. False if not allowed."""
    if record.status == new or not moves_forward(record.status, new):
        return False
    record.status = new
    if new in STAMPS:
        setattr(record, STAMPS[new], now)
    record.updated_at = now
    return True


def reactivate(record: Any, now: datetime) -> bool:
    """The explicit way back to active (the reader asked). False if already active."""
    if record.status == Status.ACTIVE:
        return False
    record.status = Status.ACTIVE
    record.confirmed_at = now
    record.bounce_count = 0
    record.updated_at = now
    return True


def movable_to(new: Status) -> frozenset[str]:
    """The statuses `move` may leave for `new` (for set-based UPDATEs with the same rule)."""
    return frozenset(
        current for current in Status if current != new and moves_forward(current, new)
    )
