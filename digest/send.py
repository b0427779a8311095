"""Draining an edition's outbox with a pool of connections: claim, send, record, repeat.

`mail.concurrency` workers each own one connection, reused for many messages. Rows are
claimed in small batches with a lease, outcomes are written in batches by one recorder
(group commit), and every worker waits for its previous message to be committed before
it hands the next one to the server (just before DATA). So after a crash at any moment,
at most one message per worker was accepted but not recorded: a rerun sends nobody a
second copy except those few.

Transient failures go back to the outbox as deferred and come round again after an
exponential backoff with jitter, up to `mail.max_attempts` tries in this run; permanent
ones are recorded as failed and count towards the subscriber's bounce status.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import random
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from digest import outbox
from digest.db import Database
from digest.errors import SendError
from digest.message import MessageSkeleton, Recipient, ascii_address
from digest.models import Delivery, DeliveryStatus
from digest.transport import (
    Connection,
    DeliveryError,
    Envelope,
    RelayUnavailable,
    Transport,
)
from subscribers.models import Status, Subscriber

RecipientFactory = Callable[[Subscriber], Recipient]
Clock = Callable[[], datetime]
T = TypeVar("T")

#: Failures listed one by one in a summary; beyond that they are only counted.
FAILURES_LISTED = 1000
#: How often a run renews its leases (well within `outbox.LEASE`).
HEARTBEAT = 20.0
#: How often an idle run looks again (retries coming due, other runs' deliveries).
POLL = 0.5
#: How often claimed deliveries are checked again for subscribers who left meanwhile.
SWEEP = 0.2
#: Longest an outcome waits for its commit when no worker needs it sooner.
COMMIT_DELAY = 0.05
#: Deliveries waiting for a retry in this run, at most (memory stays bounded).
RETRY_QUEUE_MAX = 50_000


@dataclass(frozen=True)
class SendOptions:
    concurrency: int = 8
    rate: float = 0.0
    max_attempts: int = 5
    retry_backoff: float = 1.0
    retry_backoff_max: float = 60.0
    bounce_threshold: int = 3
    lease: timedelta = outbox.LEASE
    #: The edition revision the skeleton was built from; claims stop when it changes.
    revision: int = 1


@dataclass
class DrainResult:
    """What one run did; `deferred` counts deliveries it left for the next run."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0
    retried: int = 0
    bounced: int = 0
    #: Deliveries due when the run started (the progress bar's length).
    total: int = 0
    elapsed: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    #: Why the run stopped before the outbox was drained, if it did.
    stopped: str | None = None

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.deferred + self.skipped

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0


ProgressCallback = Callable[[DrainResult], None]


class TokenBucket:
    """At most `rate` acquisitions per second on average, bursts of `capacity`.

    Each caller reserves the next slot, so sleeping late never loses throughput.
    """

    def __init__(
        self,
        rate: float,
        *,
        capacity: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.capacity = max(capacity, 1.0)
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock()

    def reserve(self) -> float:
        """Take one token; the seconds to wait before using it (0 when there is one)."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    async def acquire(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)


def backoff_delay(tries: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds before try `tries + 1`: base·2^(tries-1), capped, half of it random."""
    delay = min(cap, base * 2 ** max(tries - 1, 0))
    return delay / 2 + rng.uniform(0, delay / 2)


def message_id_factory(
    edition_id: int, edition_key: str, frozen_at: datetime | None, domain: str
) -> Callable[[int], str]:
    """Stable Message-IDs per delivery: a resent copy carries the same id, so mail
    systems that deduplicate by Message-ID drop it."""
    seed = f"{edition_id}|{edition_key}|{frozen_at.isoformat() if frozen_at else ''}"
    tag = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:12]
    prefix = f"<{edition_key.replace('/', '.')}.{tag}."
    suffix = f"@{domain}>"
    return lambda delivery_id: f"{prefix}{delivery_id}{suffix}"


def envelope_for(sender: str, email: str) -> Envelope:
    plain = ascii_address(email)
    return Envelope(sender, plain or email, smtputf8=plain is None)


def drain(
    db: Database,
    edition_id: int,
    *,
    skeleton: MessageSkeleton,
    recipient_for: RecipientFactory,
    transport: Transport,
    sender: str,
    clock: Clock,
    options: SendOptions,
    message_id_for: Callable[[int], str],
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> DrainResult:
    """Send every due delivery of the edition; returns when none is left to this run."""
    run = _Drain(
        db,
        edition_id,
        skeleton=skeleton,
        recipient_for=recipient_for,
        transport=transport,
        sender=sender,
        clock=clock,
        options=options,
        message_id_for=message_id_for,
        on_progress=on_progress,
        stop=stop,
    )
    return run_coroutine(run.run())


def run_coroutine(coroutine: Awaitable[T]) -> T:
    """asyncio.run, also from a thread that already runs an event loop."""

    async def main() -> T:
        return await coroutine

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


@dataclass(slots=True)
class _Pending:
    outcome: outbox.Outcome
    item: outbox.Claimed
    email: str
    future: asyncio.Future[None]


class _Ready:
    """Awaitable "my previous message is recorded"; nothing runs unless it is awaited."""

    __slots__ = ("future", "run")

    def __init__(self, run: _Drain, future: asyncio.Future[None]) -> None:
        self.run = run
        self.future = future

    def __await__(self) -> Generator[Any, None, None]:
        return self.run._durable(self.future).__await__()


class _Drain:
    """One run: workers, a feeder of claimed deliveries, a recorder, a retry queue."""

    def __init__(
        self,
        db: Database,
        edition_id: int,
        *,
        skeleton: MessageSkeleton,
        recipient_for: RecipientFactory,
        transport: Transport,
        sender: str,
        clock: Clock,
        options: SendOptions,
        message_id_for: Callable[[int], str],
        on_progress: ProgressCallback | None,
        stop: threading.Event | None,
    ) -> None:
        self.database = db
        self.edition_id = edition_id
        self.skeleton = skeleton
        self.recipient_for = recipient_for
        self.transport = transport
        self.sender = sender
        self.clock = clock
        self.options = options
        self.message_id_for = message_id_for
        self.on_progress = on_progress
        self.stop_event = stop
        self.owner = outbox.worker_id()
        self.result = DrainResult()
        self.batch = max(32, 4 * options.concurrency)
        self.last_sweep = time.monotonic()
        self.rng = random.Random()
        self.bucket = TokenBucket(options.rate)
        self.buffer: deque[outbox.Claimed] = deque()
        self.retries: list[tuple[float, int, int]] = []  # (due, delivery id, tries)
        self.in_flight = 0
        self.live_connections = 0
        self.pending: list[_Pending] = []
        self.pending_since = 0.0
        self.waiting = 0  # workers blocked until their previous outcome is committed
        self.pending_event = asyncio.Event()
        self.changed = asyncio.Event()
        self.refill: asyncio.Task[int] | None = None
        self.stopping = False
        self.closing = False
        self.fatal: BaseException | None = None
        self.last_heartbeat = 0.0
        self.last_reclaim = 0.0

    # -- plumbing -------------------------------------------------------------------

    async def db(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `work(session, ...)` in one short transaction.

        In the event loop's own thread: a batch is a millisecond of mostly Python work,
        and handing it to another thread costs more in interpreter-lock hand-offs than
        the network time it would overlap (measured).
        """
        with self.database.session() as session:
            return work(session, *args, **kwargs)

    def notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    def halt(self, reason: str | None = None, error: BaseException | None = None) -> None:
        if error is not None and self.fatal is None:
            self.fatal = error
        if reason and not self.result.stopped:
            self.result.stopped = reason
        self.stopping = True
        self.notify()

    def should_stop(self) -> bool:
        if not self.stopping and self.stop_event is not None and self.stop_event.is_set():
            self.halt("interrupted")
        return self.stopping

    # -- the run --------------------------------------------------------------------

    async def run(self) -> DrainResult:
        started = time.monotonic()
        try:
            now = self.clock()
            await self.db(outbox.reclaim_abandoned, self.edition_id, self.owner, now)
            self.result.total = await self.db(outbox.due_count, self.edition_id, self.owner, now)
            recorder = asyncio.create_task(self._recorder())
            workers = [asyncio.create_task(self._worker()) for _ in range(self.options.concurrency)]
            outcomes = await asyncio.gather(*workers, return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, BaseException) and self.fatal is None:
                    self.fatal = outcome
            self.closing = True
            self.pending_event.set()
            await recorder
            if self.fatal is not None or self.stopping:
                await self._release()
        finally:
            if self.refill is not None and not self.refill.done():
                self.refill.cancel()
            self.result.elapsed = time.monotonic() - started
        if self.fatal is not None:
            raise self.fatal
        return self.result

    async def _release(self) -> None:
        try:
            await self.db(outbox.release, self.edition_id, self.owner, self.clock())
        except Exception as e:
            if self.fatal is None:
                raise
            self.fatal.add_note(f"and releasing the leases failed too: {e}")

    async def _worker(self) -> None:
        connection: Connection | None = None
        previous: asyncio.Future[None] | None = None
        try:
            while True:
                item = await self._next_item()
                if item is None:
                    return
                if connection is None:
                    connection = await self._connect()
                    if connection is None:
                        self._put_back(item)
                        return
                outcome, broken = await self._deliver(item, connection, previous)
                if broken:
                    await self._drop(connection)
                    connection = None
                previous = self._submit(outcome, item)
        except BaseException as e:
            self.halt(error=e)
            raise
        finally:
            if connection is not None:
                await self._drop(connection)

    async def _connect(self) -> Connection | None:
        """A fresh connection; None when this worker should give up its slot."""
        failures = 0
        while not self.should_stop():
            try:
                connection = await self.transport.connect()
            except RelayUnavailable as e:
                failures += 1
                if failures >= self.options.max_attempts:
                    if self.live_connections == 0:
                        self.halt(str(e))
                    return None
                await self._sleep(self._backoff(failures))
                continue
            self.live_connections += 1
            return connection
        return None

    async def _drop(self, connection: Connection) -> None:
        self.live_connections -= 1
        await connection.close()

    def _put_back(self, item: outbox.Claimed) -> None:
        self.buffer.appendleft(item)
        self.in_flight -= 1
        self.notify()

    async def _sleep(self, seconds: float) -> None:
        changed = self.changed
        deadline = time.monotonic() + seconds
        while not self.should_stop() and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(POLL, deadline - time.monotonic()))
            changed = self.changed

    def _backoff(self, tries: int) -> float:
        return backoff_delay(
            tries, self.options.retry_backoff, self.options.retry_backoff_max, self.rng
        )

    async def _deliver(
        self,
        item: outbox.Claimed,
        connection: Connection,
        previous: asyncio.Future[None] | None,
    ) -> tuple[outbox.Outcome, bool]:
        """Send one message; the outcome to record and whether the connection broke."""
        subscriber = item.subscriber
        item.tries += 1
        now = self.clock()
        attempts = item.attempts + 1
        message_id = self.message_id_for(item.delivery_id)
        base = outbox.Outcome(item.delivery_id, subscriber.id, DeliveryStatus.SENT, attempts, now)
        try:
            recipient = self.recipient_for(subscriber)
            message = self.skeleton.build(recipient, message_id=message_id, date=now)
        except SendError as e:
            return replace(base, status=DeliveryStatus.FAILED, error=str(e)), False
        await self.bucket.acquire()
        try:
            ready = _Ready(self, previous) if previous is not None else None
            await connection.send(envelope_for(self.sender, subscriber.email), message, ready)
        except DeliveryError as e:
            return self._failed(base, item, e), e.broken
        return replace(base, message_id=message_id, at=self.clock()), False

    def _failed(
        self, base: outbox.Outcome, item: outbox.Claimed, error: DeliveryError
    ) -> outbox.Outcome:
        reason = str(error)
        if error.permanent:  # only the server's own 5xx counts towards a bounce
            bounce = error.code is not None
            return replace(base, status=DeliveryStatus.FAILED, error=reason, bounce=bounce)
        retry_at = None
        if (
            error.retry_in_run
            and item.tries < self.options.max_attempts
            and len(self.retries) < RETRY_QUEUE_MAX
            and not self.should_stop()
        ):
            retry_at = base.at + timedelta(seconds=self._backoff(item.tries))
        return replace(base, status=DeliveryStatus.DEFERRED, error=reason, retry_at=retry_at)

    # -- feeding workers --------------------------------------------------------------

    async def _next_item(self) -> outbox.Claimed | None:
        while not self.should_stop():
            if self.buffer and time.monotonic() - self.last_sweep >= SWEEP:
                await self._sweep()
                continue
            if self.buffer:
                item = self.buffer.popleft()
                self.in_flight += 1
                if len(self.buffer) < self.options.concurrency:
                    self._start_refill()
                return item
            changed = self.changed
            added = await asyncio.shield(self._start_refill())
            if added or self.buffer:
                continue
            wait = await self._idle_wait()
            if wait is None:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), wait)
        return None

    async def _sweep(self) -> None:
        """Skip claimed deliveries whose subscriber has left since the claim."""
        self.last_sweep = time.monotonic()
        ids = {item.subscriber.id for item in self.buffer}
        gone = await self.db(outbox.inactive_subscribers, ids)
        if not gone:
            return
        now = self.clock()
        for item in [item for item in self.buffer if item.subscriber.id in gone]:
            self.buffer.remove(item)
            self.in_flight += 1
            self._submit(
                outbox.Outcome(
                    item.delivery_id,
                    item.subscriber.id,
                    DeliveryStatus.SKIPPED,
                    item.attempts,
                    now,
                    error="subscriber left before the message was sent",
                ),
                item,
            )

    def _start_refill(self) -> asyncio.Task[int]:
        if self.refill is not None and self.refill.done() and not self.refill.cancelled():
            error = self.refill.exception()
            if error is not None:
                raise error
        if self.refill is None or self.refill.done():
            self.refill = asyncio.create_task(self._refill())
        return self.refill

    async def _refill(self) -> int:
        """Claim due retries of this run first, then new deliveries from the outbox."""
        now = self.clock()
        moment = time.monotonic()
        due: dict[int, int] = {}
        while self.retries and self.retries[0][0] <= moment and len(due) < self.batch:
            _when, delivery_id, tries = heapq.heappop(self.retries)
            due[delivery_id] = tries
        claimed: list[outbox.Claimed] = []
        skipped = 0
        if due:
            retry = await self.db(
                outbox.claim_retries,
                list(due),
                self.owner,
                now,
                lease=self.options.lease,
                revision=self.options.revision,
            )
            for item in retry.deliveries:
                item.tries = due[item.delivery_id]
            claimed.extend(retry.deliveries)
            skipped += retry.skipped
        room = self.batch - len(claimed)
        if room > 0 and not self.should_stop():
            fresh = await self.db(
                outbox.claim,
                self.edition_id,
                self.owner,
                now,
                room,
                lease=self.options.lease,
                revision=self.options.revision,
            )
            claimed.extend(fresh.deliveries)
            skipped += fresh.skipped
        if skipped:
            self.result.skipped += skipped
            self._progress()
        self.buffer.extend(claimed)
        if claimed:
            self.notify()
        return len(claimed)

    async def _idle_wait(self) -> float | None:
        """Nothing to claim now: how long to wait for more, or None when the run is done."""
        if self.retries:
            return max(0.0, min(POLL, self.retries[0][0] - time.monotonic()))
        if self.in_flight or self.pending:
            return POLL
        now = self.clock()
        if time.monotonic() - self.last_reclaim >= 1.0:
            self.last_reclaim = time.monotonic()
            if await self.db(outbox.reclaim_abandoned, self.edition_id, self.owner, now):
                return 0.0
        held = await self.db(outbox.held_elsewhere, self.edition_id, self.owner, now)
        if held.count:
            return POLL
        return None

    # -- recording --------------------------------------------------------------------

    def _submit(self, outcome: outbox.Outcome, item: outbox.Claimed) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.fatal is not None:
            # The recorder has stopped: nothing more can be recorded, so nothing more sent.
            future.set_exception(SendError("sending stopped"))
            future.exception()
            return future
        if not self.pending:
            self.pending_since = time.monotonic()
            self.pending_event.set()  # the recorder now waits COMMIT_DELAY at most
        self.pending.append(_Pending(outcome, item, item.subscriber.email, future))
        if len(self.pending) >= self.options.concurrency:
            self.pending_event.set()
        return future

    def _commit_due(self) -> bool:
        """Commit when a worker waits for it, a batch is full, or results grow old."""
        if not self.pending:
            return False
        return (
            self.waiting > 0
            or self.closing
            or len(self.pending) >= self.options.concurrency
            or time.monotonic() - self.pending_since >= COMMIT_DELAY
        )

    async def _recorder(self) -> None:
        """Group commit: everything finished since the last commit goes in one transaction,
        at the latest when a worker needs it before handing the server its next message."""
        while True:
            while not self._commit_due() and not (self.closing and not self.pending):
                timeout = COMMIT_DELAY if self.pending else HEARTBEAT
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.pending_event.wait(), timeout)
                self.pending_event.clear()
                if not self.pending and self._heartbeat_due():
                    break
            if self.pending:
                batch, self.pending = self.pending, []
                if not await self._commit(batch):
                    return
            elif self.closing:
                return
            if self._heartbeat_due():
                self.last_heartbeat = time.monotonic()
                await self.db(outbox.renew, self.edition_id, self.owner, self.clock())

    def _heartbeat_due(self) -> bool:
        return not self.closing and time.monotonic() - self.last_heartbeat >= HEARTBEAT

    async def _durable(self, future: asyncio.Future[None]) -> None:
        """Wait until a previous outcome is committed, asking the recorder for it."""
        if not future.done():
            self.waiting += 1
            self.pending_event.set()
            try:
                await future
            finally:
                self.waiting -= 1
        future.result()

    async def _commit(self, batch: list[_Pending]) -> bool:
        try:
            bounced = await self.db(
                outbox.record,
                [entry.outcome for entry in batch],
                self.owner,
                lease=self.options.lease,
                bounce_threshold=self.options.bounce_threshold,
            )
        except BaseException as e:
            self.halt(error=e)
            for entry in [*batch, *self.pending]:
                entry.future.set_exception(e)
                entry.future.exception()  # retrieved: workers that wait see it anyway
            self.pending = []
            return False
        self.result.bounced += bounced
        moment = time.monotonic()
        for entry in batch:
            entry.future.set_result(None)
            self._count(entry, moment)
            self.in_flight -= 1
        self._progress()
        self.notify()
        return True

    def _count(self, entry: _Pending, moment: float) -> None:
        outcome, result = entry.outcome, self.result
        if outcome.status == DeliveryStatus.SENT:
            result.sent += 1
        elif outcome.status == DeliveryStatus.FAILED:
            result.failed += 1
            if len(result.failures) < FAILURES_LISTED:
                result.failures.append((entry.email, outcome.error or "failed"))
        elif outcome.status == DeliveryStatus.SKIPPED:
            result.skipped += 1
        elif outcome.retry_at is not None:
            result.retried += 1
            delay = (outcome.retry_at - outcome.at).total_seconds()
            heapq.heappush(self.retries, (moment + delay, outcome.delivery_id, entry.item.tries))
        else:
            result.deferred += 1

    def _progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.result)


# -- without the outbox: rehearsal and test copies -------------------------------------


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
                    [DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED]
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
    started = time.monotonic()
    with db.session() as session:
        for subscriber in iter_would_send(session, edition_id, language):
            try:
                recipient = recipient_for(subscriber)
                skeleton.build(recipient, message_id=message_id_for(subscriber.id), date=clock())
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
    result.elapsed = time.monotonic() - started
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
            skeleton.build(recipient, message_id=skeleton.message_id("test"), date=clock()),
        )
        for recipient in recipients
    ]
    return run_coroutine(_send_copies(transport, sender, messages))
