"""The scheduler's heartbeat in the database, so `digest status` can tell it has died.

Each running `digest schedule` owns one `scheduler_state` row: when it started, its last
heartbeat, when it next runs, its last error, and when it stopped (None while it runs).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from digest.db import Database
from digest.errors import DigestError
from digest.models import SchedulerState

#: How often a running scheduler writes its heartbeat.
HEARTBEAT = timedelta(seconds=30)
#: A heartbeat older than this means the scheduler is gone (killed, host down, hung).
DEAD_AFTER = timedelta(minutes=5)


def started(
    db: Database, owner: str, now: datetime, *, at: str | None = None, timezone: str | None = None
) -> int:
    """Record a starting scheduler and the send time (`at` HH:MM in `timezone`) it runs
    with; returns its row id."""
    with db.session() as session:
        row = SchedulerState(
            owner=owner,
            started_at=now,
            heartbeat_at=now,
            schedule_at=at,
            schedule_timezone=timezone,
        )
        session.add(row)
        session.flush()
        return row.id


def beat(
    db: Database,
    row_id: int,
    now: datetime,
    *,
    next_run_at: datetime | None = None,
    error: str | None = None,
    stopped: bool = False,
) -> None:
    """Write the heartbeat (and the next run, last error, or the stop when given)."""
    with db.session() as session:
        row = session.get(SchedulerState, row_id)
        if row is None:
            return
        row.heartbeat_at = now
        if next_run_at is not None:
            row.next_run_at = next_run_at
        if error is not None:
            row.last_error = error[:2000]
        if stopped:
            row.stopped_at = now


class Heartbeat:
    """A thread that writes the scheduler's heartbeat every `HEARTBEAT`, so a long send
    does not look like a dead scheduler; a failed write is logged and retried."""

    def __init__(
        self, db: Database, row_id: int, clock: Callable[[], datetime], log: Callable[[str], None]
    ) -> None:
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.db, self.row_id, self.clock, self.log = db, row_id, clock, log

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._done.wait(HEARTBEAT.total_seconds()):
            try:
                beat(self.db, self.row_id, self.clock())
            except (DigestError, SQLAlchemyError) as e:  # locked or unreachable: next beat
                self.log(f"heartbeat: {e}")


@dataclass(frozen=True)
class SchedulerView:
    """The newest scheduler's state as `digest status` reports it."""

    owner: str
    heartbeat_at: datetime
    next_run_at: datetime | None
    stopped_at: datetime | None
    last_error: str | None
    #: The send time it ran with (None: rows from before it was recorded).
    at: str | None = None
    timezone: str | None = None

    def alive(self, now: datetime) -> bool:
        return self.stopped_at is None and now - self.heartbeat_at <= DEAD_AFTER


def latest(db: Database) -> SchedulerView | None:
    """The scheduler that beat last, or None if none ever ran on this database."""
    with db.session() as session:
        row = session.scalars(
            select(SchedulerState).order_by(SchedulerState.heartbeat_at.desc()).limit(1)
        ).first()
        if row is None:
            return None
        return SchedulerView(
            row.owner,
            row.heartbeat_at,
            row.next_run_at,
            row.stopped_at,
            row.last_error,
            row.schedule_at,
            row.schedule_timezone,
        )
