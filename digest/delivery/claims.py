"""Claiming: leased batches of due deliveries for the workers, and this run's retries.

The feeder keeps a small buffer of claimed deliveries, refills it in the background,
claims this run's due retries before new rows, and every `SWEEP` seconds skips buffered
deliveries whose subscriber left since the claim. Deliveries of processes on this host
that died holding them are taken over with the claim that leases them to this run.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections import deque
from collections.abc import Sequence

from digest import outbox
from digest.delivery.clock import Timer
from digest.delivery.control import RunControl
from digest.delivery.recorder import Recorder
from digest.models import DeliveryStatus

#: How often claimed deliveries are checked again for subscribers who left meanwhile.
SWEEP = 0.2
#: How often an idle run looks again (retries coming due, other runs' deliveries).
POLL = 0.5
#: Deliveries waiting for a retry in this run, at most (memory stays bounded).
RETRY_QUEUE_MAX = 50_000


class Feeder:
    """Hands claimed deliveries to workers; `None` from `next()` means the run is done."""

    def __init__(self, run: RunControl, recorder: Recorder, dead: Sequence[str] = ()) -> None:
        self.run = run
        self.recorder = recorder
        self.batch = max(32, 4 * run.options.concurrency)
        self.buffer: deque[outbox.Claimed] = deque()
        self.retries: list[tuple[float, int, int]] = []  # (due, delivery id, tries)
        self.sweep = Timer(run.clock, SWEEP)
        #: Lease owners on this host known dead: their deliveries are claimed first.
        self.dead = list(dead)
        #: The dead owners the last claim that finished looked for (`_idle_wait`).
        self.searched: frozenset[str] = frozenset()
        self._refill: asyncio.Task[int] | None = None

    @property
    def retry_room(self) -> bool:
        return len(self.retries) < RETRY_QUEUE_MAX

    def schedule_retry(self, delivery_id: int, tries: int, delay: float) -> None:
        due = self.run.clock.monotonic() + delay
        heapq.heappush(self.retries, (due, delivery_id, tries))

    def put_back(self, item: outbox.Claimed) -> None:
        """A worker could not use this delivery (no connection): someone else may."""
        self.buffer.appendleft(item)
        self.recorder.in_flight -= 1
        self.run.notify()

    async def next(self) -> outbox.Claimed | None:
        run = self.run
        while not run.should_stop():
            if self.buffer and self.sweep.due():
                await self._sweep()
                continue
            if self.buffer:
                item = self.buffer.popleft()
                self.recorder.track()
                if len(self.buffer) < run.options.concurrency:
                    self._start_refill()
                return item
            changed = run.changed
            added = await asyncio.shield(self._start_refill())
            if added or self.buffer:
                continue
            wait = await self._idle_wait()
            if wait is None:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), wait)
        return None

    def cancel(self) -> None:
        if self._refill is not None and not self._refill.done():
            self._refill.cancel()

    async def _sweep(self) -> None:
        """Skip claimed deliveries whose subscriber has left since the claim."""
        self.sweep.reset()
        ids = {item.subscriber.id for item in self.buffer}
        gone = await self.run.db(outbox.inactive_subscribers, ids)
        if not gone:
            return
        now = self.run.clock.now()
        for item in [item for item in self.buffer if item.subscriber.id in gone]:
            self.buffer.remove(item)
            self.recorder.track()
            outcome = outbox.Outcome(
                item.delivery_id,
                item.subscriber.id,
                DeliveryStatus.SKIPPED,
                item.attempts,
                now,
                error="subscriber left before the message was sent",
            )
            self.recorder.submit(outcome, item.subscriber.email, item.tries)

    def _start_refill(self) -> asyncio.Task[int]:
        if self._refill is not None and self._refill.done() and not self._refill.cancelled():
            error = self._refill.exception()
            if error is not None:
                raise error
        if self._refill is None or self._refill.done():
            self._refill = asyncio.create_task(self._claim())
        return self._refill

    async def _claim(self) -> int:
        """Claim due retries of this run first, then new deliveries from the outbox."""
        run = self.run
        now, moment = run.clock.now(), run.clock.monotonic()
        due: dict[int, int] = {}
        while self.retries and self.retries[0][0] <= moment and len(due) < self.batch:
            _when, delivery_id, tries = heapq.heappop(self.retries)
            due[delivery_id] = tries
        claimed: list[outbox.Claimed] = []
        skipped = 0
        lease, revision = run.options.lease, run.options.revision
        if due:
            retry = await run.db(
                outbox.claim_retries, list(due), run.owner, now, lease=lease, revision=revision
            )
            for item in retry.deliveries:
                item.tries = due[item.delivery_id]
            claimed.extend(retry.deliveries)
            skipped += retry.skipped
        room = self.batch - len(claimed)
        if room > 0 and not run.should_stop():
            dead = tuple(self.dead)
            fresh = await run.db(
                outbox.claim,
                run.edition_id,
                run.owner,
                now,
                room,
                lease=lease,
                revision=revision,
                abandoned_by=dead,
            )
            self.searched = frozenset(dead)
            claimed.extend(fresh.deliveries)
            skipped += fresh.skipped
        if skipped:
            run.result.skipped += skipped
            run.progress()
        self.buffer.extend(claimed)
        if claimed:
            run.notify()
        return len(claimed)

    async def _idle_wait(self) -> float | None:
        """Nothing to claim now: how long to wait for more, or None when the run is done."""
        run = self.run
        if self.retries:
            return max(0.0, min(POLL, self.retries[0][0] - run.clock.monotonic()))
        if not self.recorder.idle:
            return POLL
        # About to leave: first look for processes on this host that died holding
        # deliveries, and claim those now. What other live runs hold is theirs to finish
        # (or to give back when they stop, or to be claimed when their lease expires):
        # this run is done, whoever still holds leases. The run stays until a claim
        # that looked for every dead owner has finished: another worker's claim in
        # flight may have started before the owner was known dead. Rows of dead owners
        # that such a claim left (an edition revised since) do not keep it here.
        dead = await run.db(outbox.dead_owners, run.edition_id, run.owner)
        if set(dead) - self.searched:
            self.dead = dead
            return 0.0
        return None
