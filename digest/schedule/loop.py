"""`digest schedule`: the daily loop, in the foreground, over an injected clock.

At each language's send time it ingests the registered feeds, then freezes and sends that
language's edition; between runs it retries deferred deliveries every
`schedule.retry_every` until the edition is complete or the next one is due, and (local-
time delivery) sends each zone's deliveries when they fall due. A failing feed, an SMTP
outage or a relay refusing everything is logged and never stops the loop.

Missed runs: on start (or after the host slept), an edition whose send time passed less
than `schedule.grace` ago is sent under its own date; an older one is skipped and logged,
never sent as a later day's, and its news goes into the next window (`digest.editions`).

A plain loop rather than APScheduler or croniter: the next run is "the next send time
whose edition is not done", which depends on the database (frozen editions, readers'
zones, due deliveries); a cron expression cannot say that, and a loop over an injected
clock and `sleep` makes every test run in milliseconds with no real waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from digest import editions
from digest.config import Settings
from digest.db import Database
from digest.errors import DigestError
from digest.ingest.sources import IngestReport
from digest.models import Delivery, DeliveryStatus, Edition
from digest.outbox import worker_id
from digest.publish import SendReport
from digest.schedule import state
from digest.selection.window import edition_date_for

Log = Callable[[str], None]
#: How many days back a starting loop looks for an edition some reader may still get.
_LOOK_BACK_DAYS = 3
#: Waits up to the seconds given; True when the loop was asked to stop meanwhile.
Sleep = Callable[[float], bool]


@dataclass(frozen=True)
class Steps:
    """What the loop does; `digest.pipeline.schedule` wires the real ingest and send."""

    ingest: Callable[[datetime, threading.Event], IngestReport]
    send: Callable[[date, str, threading.Event], SendReport]


class Scheduler:
    """One `digest schedule` process: `run()` returns when `stop` is set."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        steps: Steps,
        *,
        clock: Callable[[], datetime],
        sleep: Sleep,
        stop: threading.Event,
        log: Log,
    ) -> None:
        self.db = db
        self.settings = settings
        self.steps = steps
        self.clock = clock
        self.sleep = sleep
        self.stop = stop
        self.log = log
        self.languages = list(settings.site.languages)
        self.grace = settings.schedule.grace_period
        self.retry_every = settings.schedule.retry_interval
        self.next_day: dict[str, date] = {}
        self.last_retry: datetime | None = None
        self.gave_up: set[int] = set()
        #: When this loop last sent each edition (a zone's due time after it is news).
        self.attempted: dict[int, datetime] = {}
        self.row_id = 0

    # -- the loop ---------------------------------------------------------------------

    def run(self) -> None:
        """Catch up on a missed run, then loop until stopped; the heartbeat runs beside."""
        now = self.clock()
        schedule = self.settings.schedule
        self.row_id = state.started(
            self.db, worker_id(), now, at=schedule.at, timezone=schedule.timezone
        )
        heart = state.Heartbeat(self.db, self.row_id, self.clock, self.log)
        heart.start()
        try:
            self.next_day = {lang: self._first_day(lang, now) for lang in self.languages}
            while not self.stop.is_set():
                wake = self.step(self.clock())
                now = self.clock()
                state.beat(self.db, self.row_id, now, next_run_at=self.next_run())
                if self.stop.is_set() or self.sleep(max((wake - now).total_seconds(), 0.0)):
                    break
        finally:
            heart.stop()
            state.beat(self.db, self.row_id, self.clock(), stopped=True)
            self.log("scheduler stopped")

    def step(self, now: datetime) -> datetime:
        """Do what is due at `now`; returns when the loop should look again."""
        done = self._run_due(now)
        self._retry_open(now, skip=done)
        wake = self.next_run()
        if self._has_open_work():
            wake = min(wake, now + self.retry_every)
        pending = self._next_pending_due(now)
        return min(wake, pending) if pending is not None else wake

    def next_run(self) -> datetime:
        """The next send time of any language's next edition."""
        return min(self.due(day, lang) for lang, day in self.next_day.items())

    def due(self, day: date, language: str) -> datetime:
        with self.db.session() as session:
            return editions.scheduled_at(session, self.settings, day, language)

    # -- daily runs -------------------------------------------------------------------

    def _latest_day(self, language: str, now: datetime) -> date:
        """The newest edition date whose send time is at or before `now`."""
        day = edition_date_for(now, self.settings.schedule.timezone) + timedelta(days=2)
        while self.due(day, language) > now:
            day -= timedelta(days=1)
        return day

    def _first_day(self, language: str, now: datetime) -> date:
        """Where a starting loop begins: the newest edition already due, or an older one
        not yet frozen that some reader may still get (local-time delivery: its last
        zone's time plus the grace has not passed), but never one before the line's
        newest frozen edition (its window would repeat that one's news)."""
        day = self._latest_day(language, now)
        with self.db.session() as session:
            newest = session.scalar(
                select(func.max(Edition.date)).where(
                    Edition.language == language,
                    Edition.variant == "",
                    Edition.frozen_at.is_not(None),
                )
            )
        for _ in range(_LOOK_BACK_DAYS):
            before = day - timedelta(days=1)
            if newest is not None and before <= newest:
                break
            if now - self._last_due(before, language) > self.grace:
                break
            day = before
        return day

    def _last_due(self, day: date, language: str) -> datetime:
        with self.db.session() as session:
            return editions.last_send_time(session, self.settings, day, language)

    def _run_due(self, now: datetime) -> set[int]:
        """Send each language's edition whose time has come; skip those missed too long."""
        ingested = False
        sent: set[int] = set()
        for language in self.languages:
            while not self.stop.is_set():
                day = self.next_day[language]
                due = self.due(day, language)
                if due > now:
                    break
                self.next_day[language] = day + timedelta(days=1)
                last = self._last_due(day, language)  # local time: the last zone's
                if now - last > self.grace and editions.frozen(self.db, day, language) is None:
                    self.log(
                        f"{day.isoformat()}/{language}: skipped: its send time passed "
                        f"{_duration(now - last)} ago, more than schedule.grace "
                        f"({self.settings.schedule.grace}); its news goes into the next edition"
                    )
                    continue
                if not ingested:
                    self._ingest(now)
                    ingested = True
                if self.stop.is_set():
                    break  # stopped while ingesting: a restart runs this edition
                self._send(day, language)
                frozen = editions.frozen(self.db, day, language)
                if frozen is not None:
                    sent.add(frozen.id)
                    self.attempted[frozen.id] = now
        return sent

    def _ingest(self, now: datetime) -> None:
        try:
            report = self.steps.ingest(now, self.stop)
        except DigestError as e:
            self.log(f"ingest: {e}")
            return
        for line in describe_ingest(report):
            self.log(line)

    def _send(self, day: date, language: str) -> SendReport | None:
        key = f"{day.isoformat()}/{language}"
        try:
            report = self.steps.send(day, language, self.stop)
        except DigestError as e:
            self._error(f"{key}: {e}")
            return None
        except Exception as e:  # an outage must not end the loop: logged and stored
            self._error(f"{key}: {type(e).__name__}: {e}")
            return None
        for due, number in report.missed:
            self.log(
                f"{key}: skipped {number} delivery(ies) due at {_iso(due)}: that zone's send "
                f"time passed more than schedule.grace ({self.settings.schedule.grace}) ago"
            )
        self.log(describe(report))
        if report.result.breaker:  # nothing bounced, nothing failed: remember why for status
            state.beat(self.db, self.row_id, self.clock(), error=f"{key}: {report.result.breaker}")
        return report

    def _error(self, line: str) -> None:
        self.log(f"error: {line}")
        state.beat(self.db, self.row_id, self.clock(), error=line)

    # -- retries and local-time deliveries ----------------------------------------------

    def _retry_open(self, now: datetime, *, skip: set[int]) -> None:
        """Send what is due of editions not yet complete: deliveries whose (local) time
        has come at once; deferred ones every `retry_every`, until the next edition of
        their language is due."""
        retry_now = self.last_retry is None or now - self.last_retry >= self.retry_every
        with self.db.session() as session:
            opened = [
                (edition.id, edition.date, edition.language)
                for edition in editions.open_editions(session, self.languages)
            ]
            due = _due_work(session, now)
            deferred_ids = _with_deferred(session)
        if retry_now:
            self.last_retry = now
        for edition_id, day, language in opened:
            if edition_id in skip or self.stop.is_set():
                continue
            attempted = self.attempted.get(edition_id)
            if edition_id in due and (attempted is None or due[edition_id] > attempted):
                self._send(day, language)  # newly due (a zone's time came): at once
                self.attempted[edition_id] = now
            elif edition_id not in deferred_ids | set(due) or not retry_now:
                continue
            elif now < self.due(day + timedelta(days=1), language):
                self._send(day, language)
                self.attempted[edition_id] = now
            elif edition_id not in self.gave_up:
                self.gave_up.add(edition_id)
                self.log(
                    f"{day.isoformat()}/{language}: the next edition is due; no more retries "
                    f"of this one ('digest send --date {day.isoformat()}' retries what remains)"
                )

    def _has_open_work(self) -> bool:
        """Deliveries wait for a retry (of an edition not yet given up on): deferred, or
        due but not sent (the last attempt failed as a whole, e.g. the relay was down)."""
        with self.db.session() as session:
            waiting = _with_deferred(session) | set(_due_work(session, self.clock()))
        return bool(waiting - self.gave_up)

    def _next_pending_due(self, now: datetime) -> datetime | None:
        with self.db.session() as session:
            return session.scalar(
                select(func.min(Delivery.due_at))
                .join(Edition, Edition.id == Delivery.edition_id)
                .where(Delivery.status == DeliveryStatus.PENDING, Delivery.due_at > now)
            )


def _with_deferred(session: Session) -> set[int]:
    """Editions with deferred deliveries."""
    return set(
        session.scalars(
            select(Delivery.edition_id).where(Delivery.status == DeliveryStatus.DEFERRED).distinct()
        )
    )


def _due_work(session: Session, now: datetime) -> dict[int, datetime]:
    """Editions with deliveries due now (pending whose time has come, or leased by a run
    whose lease ran out), each with the latest due time among them."""
    c = Delivery
    where = or_(
        and_(c.status == DeliveryStatus.PENDING, or_(c.due_at.is_(None), c.due_at <= now)),
        and_(c.status == DeliveryStatus.SENDING, c.lease_expires_at < now),
    )
    rows = session.execute(
        select(c.edition_id, func.max(func.coalesce(c.due_at, c.created_at)))
        .where(where)
        .group_by(c.edition_id)
    )
    return {edition_id: latest for edition_id, latest in rows}


def describe_ingest(report: IngestReport) -> list[str]:
    """Log lines for one ingest: each failing feed, then the totals."""
    totals = report.totals()
    lines = [f"ingest: {failed.source}: {failed.error}" for failed in report.failed]
    lines.append(
        f"ingest: {len(report.results)} feed(s): {totals.new} new, {totals.updated} "
        f"updated, {len(report.failed)} failed"
    )
    if report.abandoned:
        lines[-1] += (
            f"; stopped: {len(report.abandoned)} feed(s) left for the next run "
            f"({', '.join(report.abandoned[:3])}{', ...' if len(report.abandoned) > 3 else ''})"
        )
    return lines


def describe(report: SendReport) -> str:
    """One log line for one send."""
    r = report.result
    if report.nothing_to_send:
        return f"{report.edition}: nothing to send (no articles in the window)"
    if report.already_sent:
        return f"{report.edition}: already sent"
    line = (
        f"{report.edition}: {r.sent} sent, {r.failed} failed, {r.deferred} deferred, "
        f"{r.skipped} skipped; {report.remaining - report.not_due} to retry"
    )
    if report.not_due:
        line += f", {report.not_due} due later in their zones"
    if report.froze and report.window is not None:
        line += f"; frozen (window {_iso(report.window.window.start)} .. "
        line += f"{_iso(report.window.window.end)}, revision {report.revision})"
    if r.stopped:
        line += f"; stopped: {r.stopped}"
    return line


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m"
