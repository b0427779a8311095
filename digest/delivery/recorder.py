"""The recorder: one task that commits outcomes in batches and keeps the leases alive.

Group commit: everything finished since the last commit goes in one transaction, at the
latest when a worker waits for its "before DATA" step (which rides in the same commit).
So a worker's previous outcome is always durable before its next message is handed over.
The recorder also applies the circuit breaker's verdicts and renews this run's leases
every `SendOptions.heartbeat` seconds of the injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from digest import outbox
from digest.delivery.breaker import CircuitBreaker
from digest.delivery.classify import Reply
from digest.delivery.clock import Timer
from digest.delivery.control import RunControl
from digest.delivery.results import Entry
from digest.errors import SendError

#: Longest an outcome waits for its commit when no worker needs it sooner (seconds).
COMMIT_DELAY = 0.05
#: Longest the recorder sleeps between two looks at the heartbeat (real seconds).
POLL = 0.5

#: Called for a delivery deferred for a retry in this run: (delivery id, tries, delay).
RetryScheduler = Callable[[int, int, float], None]


def _write(
    session: Session,
    outcomes: list[outbox.Outcome],
    requeued: list[int],
    marked: list[int],
    *,
    owner: str,
    lease: timedelta,
    bounce_threshold: int,
    now: datetime,
) -> tuple[int, set[int]]:
    """One group commit: outcomes, breaker requeues, then "before DATA" marks."""
    bounced = outbox.record(
        session, outcomes, owner, lease=lease, bounce_threshold=bounce_threshold
    )
    outbox.requeue(session, requeued, now)
    return bounced, outbox.mark_sending(session, marked, owner, now)


class Recorder:
    """Commits outcomes and "before DATA" marks for one run; see the module docstring."""

    def __init__(self, run: RunControl, schedule_retry: RetryScheduler) -> None:
        self.run = run
        self.schedule_retry = schedule_retry
        self.breaker = CircuitBreaker(run.options.circuit_breaker)
        self.heartbeat = Timer(run.clock, run.options.heartbeat)
        self.entries: list[Entry] = []
        self.marks: dict[int, asyncio.Future[bool]] = {}
        self.requeued: list[int] = []
        self.in_flight = 0
        self.closing = False
        self._oldest = 0.0
        self._wake = asyncio.Event()

    # -- what workers call ----------------------------------------------------------

    def submit(
        self, outcome: outbox.Outcome, email: str, tries: int, reply: Reply | None = None
    ) -> None:
        """Queue one outcome for the next commit (the breaker may turn it into a requeue)."""
        loop = asyncio.get_running_loop()
        entry = Entry(outcome, email, tries, loop.create_future())
        if self.run.fatal is not None:
            return  # nothing more can be recorded; the run is ending
        if self.breaker.judge(entry, reply):
            self.requeued.extend(self.breaker.requeue_streak(self.run.result))
            self.run.result.breaker = str(reply)
            count = len(self.breaker.streak)
            self.run.halt(f"the relay refused {count} recipients in a row: {reply}")
        if not self.entries:
            self._oldest = self.run.clock.monotonic()
        self.entries.append(entry)
        self._wake.set()

    async def mark_sending(self, delivery_id: int) -> bool:
        """The "before DATA" step: True once the delivery is durably `sending` (and every
        earlier outcome committed); False when the lease was lost meanwhile."""
        if self.run.fatal is not None:
            raise SendError("sending stopped: the outcomes can no longer be recorded")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.marks[delivery_id] = future
        self._wake.set()
        return await future

    def close(self) -> None:
        self.closing = True
        self._wake.set()

    # -- the loop ---------------------------------------------------------------------

    def _commit_due(self) -> bool:
        if self.marks or self.requeued:
            return True
        if not self.entries:
            return False
        return (
            self.closing
            or len(self.entries) >= self.run.options.concurrency
            or self.run.clock.monotonic() - self._oldest >= COMMIT_DELAY
        )

    async def run_loop(self) -> None:
        """Until closed and everything is committed; a failed commit halts the run."""
        try:
            while True:
                if self._commit_due():
                    await self._commit()
                elif self.closing:
                    return
                if self.heartbeat.due() and not self.closing:
                    await self._renew()
                if not self._commit_due() and not self.closing:
                    timeout = COMMIT_DELAY if self.entries else POLL
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout)
                    self._wake.clear()
        except BaseException as e:
            self._fail(e)
            self.run.halt(error=e)
            if not isinstance(e, Exception):
                raise

    async def _renew(self) -> None:
        """The heartbeat: this run's leases last another `lease` from now."""
        run = self.run
        self.heartbeat.reset()
        await run.db(outbox.renew, run.edition_id, run.owner, run.clock.now(), run.options.lease)

    async def _commit(self) -> None:
        entries, self.entries = self.entries, []
        marks, self.marks = self.marks, {}
        requeued = self.requeued + [e.outcome.delivery_id for e in entries if e.requeue]
        self.requeued = []
        run = self.run
        try:
            bounced, marked = await run.db(
                _write,
                [e.outcome for e in entries if not e.requeue],
                requeued,
                list(marks),
                owner=run.owner,
                lease=run.options.lease,
                bounce_threshold=run.options.bounce_threshold,
                now=run.clock.now(),
            )
        except BaseException:
            self.entries, self.marks = entries + self.entries, {**marks, **self.marks}
            raise
        run.result.bounced += bounced
        for entry in entries:
            self._count(entry)
            entry.future.set_result(None)
        for delivery_id, future in marks.items():
            if not future.done():
                future.set_result(delivery_id in marked)
        if entries:
            run.progress()
        run.notify()

    def _count(self, entry: Entry) -> None:
        self.in_flight -= 1
        retry_in = self.run.result.count(entry)
        if retry_in is not None:
            self.schedule_retry(entry.outcome.delivery_id, entry.tries, retry_in)

    def _fail(self, error: BaseException) -> None:
        for entry in self.entries:
            if not entry.future.done():
                entry.future.set_exception(error)
                entry.future.exception()
        for future in self.marks.values():
            if not future.done():
                future.set_exception(error)
                future.exception()
        self.entries, self.marks = [], {}

    @property
    def idle(self) -> bool:
        """Nothing submitted and not yet committed, nothing in flight."""
        return not self.entries and not self.marks and self.in_flight == 0

    def track(self, count: Sequence[object] | int = 1) -> None:
        """Count deliveries handed to workers (each ends with one `submit`)."""
        self.in_flight += count if isinstance(count, int) else len(count)
