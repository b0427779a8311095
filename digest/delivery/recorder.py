"""The recorder: commits outcomes in batches and keeps the leases alive.

Group commit: everything finished since the last commit goes in one transaction, at the
latest when a worker waits for its "before DATA" step (which rides in the same commit).
So a worker's previous outcome is always durable before its next message is handed over.
A worker's mark waits for the others' (see `Marks`) at most `MARK_DELAY`, while its
MAIL and RCPT travel; a commit then starts unless one is running, and when that one
ends the next starts with every mark and outcome that arrived meanwhile. So at most one
commit is in flight, and under load each carries the waits of many connections.
Outcomes nobody waits for are committed at the latest `COMMIT_DELAY` seconds later.
The recorder also applies the circuit breaker's verdicts (a bounce the breaker holds is
counted in the commit after it was found final) and renews this run's leases every
`SendOptions.heartbeat` seconds of the injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from digest import outbox
from digest.delivery.breaker import CircuitBreaker, address_threshold, breaker_threshold
from digest.delivery.classify import Reply
from digest.delivery.clock import Timer
from digest.delivery.control import RunControl
from digest.delivery.leases import HandedOver
from digest.delivery.results import Entry
from digest.errors import SendError
from digest.models import DeliveryStatus
from subscribers import store

#: Longest an outcome waits for its commit when no worker needs it sooner (seconds).
COMMIT_DELAY = 0.05
#: Longest a "before DATA" mark waits for other connections' to share its commit
#: (seconds): well under a relay's reply to MAIL and RCPT, which it overlaps.
MARK_DELAY = 0.004
#: Longest the recorder sleeps between two looks at the heartbeat (real seconds).
POLL = 0.5

#: Called for a delivery deferred for a retry in this run: (delivery id, tries, delay).
RetryScheduler = Callable[[int, int, float], None]


def _write(
    connection: Connection,
    outcomes: list[outbox.Outcome],
    bounces: list[outbox.Outcome],
    requeued: list[int],
    marked: list[int],
    *,
    owner: str,
    lease: timedelta,
    bounce_threshold: int,
    now: datetime,
    renew: int | None = None,
) -> tuple[int, set[int]]:
    """One group commit: the heartbeat when due (`renew`: the edition id), outcomes, the
    bounces to count (`bounces`, chosen by the caller), breaker requeues, then "before
    DATA" marks."""
    if renew is not None:
        outbox.renew(connection, renew, owner, now, lease)
    bounced = 0
    outbox.record_rows(connection, outcomes, owner, lease=lease)
    if bounces:  # the subscriber's bounce count, in the same transaction
        with Session(bind=connection) as session:
            for outcome in bounces:
                bounced += store.record_permanent_failure(
                    session, outcome.subscriber_id, threshold=bounce_threshold, now=outcome.at
                )
            session.flush()
    outbox.requeue(connection, requeued, now)
    return bounced, outbox.mark_sending(connection, marked, owner, now)


def _handed_over(entries: Sequence[Entry]) -> list[HandedOver]:
    """The entries whose message the relay took or may have (sent, uncertain)."""
    return [
        HandedOver(o.delivery_id, o.status, o.at, o.attempts, o.message_id, o.error)
        for o in (entry.outcome for entry in entries)
        if o.status in (DeliveryStatus.SENT, DeliveryStatus.UNCERTAIN)
    ]


class LeaseLost(SendError):
    """Another run took this delivery over (our lease expired): it must not be sent here."""


class CommitChain:
    """Commits back to back, at most one in flight: `start` begins one unless one is
    running; each, as it ends, begins the next while `due(timed)` says so. `on_error`
    gets what made a commit fail, after which nothing starts again."""

    def __init__(
        self,
        commit: Callable[[], Awaitable[None]],
        due: Callable[[bool], bool],
        on_error: Callable[[BaseException], None],
    ) -> None:
        self._commit, self._due, self._on_error = commit, due, on_error
        self._task: asyncio.Task[None] | None = None
        self.failed = False

    def start(self, timed: bool = False) -> None:
        if self.failed or (self._task is not None and not self._task.done()):
            return
        self._task = asyncio.get_running_loop().create_task(self._run(timed))

    async def _run(self, timed: bool) -> None:
        try:
            while self._due(timed):
                await self._commit()
        except BaseException as e:
            self.failed = True
            self._on_error(e)
            if not isinstance(e, Exception):
                raise

    async def settled(self) -> None:
        """Until no commit is running."""
        while self._task is not None and not self._task.done():
            await asyncio.wait({self._task})


class Marks:
    """The "before DATA" marks waiting for a commit, and when they go: at once when
    every open connection has one pending (`peers()`; no other can join), else
    `MARK_DELAY` after the first arrived (then `start` is called), or with a commit
    started for another reason.

    Group commit with a wait, as PostgreSQL's `commit_delay` and `commit_siblings` do:
    a commit costs the database thread about as much for one row as for eight, and
    committing each mark as it came spent most of the sender's CPU on commits of two
    or three rows. The wait runs while the relay answers MAIL and RCPT.
    """

    def __init__(self, peers: Callable[[], int], start: Callable[[], None]) -> None:
        self._peers, self._start = peers, start
        self._pending: dict[int, asyncio.Future[None]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._overdue = False

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, delivery_id: int) -> asyncio.Future[None]:
        """A future for this delivery's mark; starts a commit when the wait is over."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending[delivery_id] = future
        if self.ready():
            self._start()
        return future

    def ready(self) -> bool:
        """Whether the pending marks should be committed now; if not, arms the deadline."""
        if not self._pending:
            return False
        if self._overdue or len(self._pending) >= self._peers():
            return True
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(MARK_DELAY, self._expire)
        return False

    def take(self) -> dict[int, asyncio.Future[None]]:
        """The pending marks, for a commit: the next ones wait afresh."""
        taken, self._pending = self._pending, {}
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._overdue = False
        return taken

    def put_back(self, taken: dict[int, asyncio.Future[None]]) -> None:
        """Marks whose commit failed, ahead of those that came since."""
        self._pending = {**taken, **self._pending}

    @staticmethod
    def settle(taken: dict[int, asyncio.Future[None]], marked: set[int]) -> None:
        """After the commit: done for each delivery `marked`, `LeaseLost` for the others."""
        for delivery_id, future in taken.items():
            if future.done():
                continue
            if delivery_id in marked:
                future.set_result(None)
            else:
                future.set_exception(
                    LeaseLost(f"delivery {delivery_id} was taken over by another run")
                )

    def fail(self, error: BaseException) -> None:
        """Nothing can be committed any more: every waiting mark raises `error`."""
        for future in self.take().values():
            if not future.done():
                future.set_exception(error)
                future.exception()

    def _expire(self) -> None:
        self._timer = None
        self._overdue = True
        self._start()


class Recorder:
    """Commits outcomes and "before DATA" marks for one run; see the module docstring."""

    def __init__(
        self, run: RunControl, schedule_retry: RetryScheduler, peers: Callable[[], int]
    ) -> None:
        """`peers()`: how many connections are open (each may add a mark)."""
        self.run = run
        self.schedule_retry = schedule_retry
        configured, total = run.options.circuit_breaker, run.result.total
        self.breaker = CircuitBreaker(
            breaker_threshold(configured, total), address_threshold(configured, total)
        )
        self.heartbeat = Timer(run.clock, run.options.heartbeat)
        self.entries: list[Entry] = []
        self.requeued: list[int] = []
        #: Handed over, but the commit of their outcome failed (see `leases.release`).
        self.unrecorded: list[HandedOver] = []
        self.in_flight = 0
        self.closing = False
        self._oldest = 0.0
        self._wake = asyncio.Event()
        self._chain = CommitChain(self._commit, self._due, self._chain_failed)
        self.marks = Marks(peers, self._chain.start)

    # -- what workers call ----------------------------------------------------------

    def begin(self) -> int:
        """Called just before a transaction's MAIL FROM: pass it to `submit` as `started`."""
        return self.breaker.begin()

    def submit(
        self,
        outcome: outbox.Outcome,
        email: str,
        tries: int,
        reply: Reply | None = None,
        started: int | None = None,
    ) -> None:
        """Queue one outcome for the next commit (the breaker may turn it into a requeue).
        `started`: what `begin` said as its transaction began (None: there was none)."""
        entry = Entry(outcome, email, tries)
        if self.run.fatal is not None:
            return  # nothing more can be recorded; the run is ending
        if self.breaker.judge(entry, reply, started):
            self.requeued.extend(self.breaker.requeue_streak(self.run.result))
            self.run.result.breaker = str(reply)
            count = len(self.breaker.streak)
            if reply is not None and reply.about_sender:
                self.run.halt(f"the relay refused our sender's address: {reply}")
            else:
                self.run.halt(f"the relay refused {count} recipients in a row: {reply}")
        if not self.entries:
            self._oldest = self.run.clock.monotonic()
        self.entries.append(entry)
        if self._due(False):
            self._chain.start()
        else:
            self._wake.set()

    def mark_sending(self, delivery_id: int) -> asyncio.Future[None]:
        """The "before DATA" step: a future done once the delivery is durably `sending`,
        in the commit of every outcome submitted before. It raises `LeaseLost` when the
        lease was lost meanwhile, and `SendError` when outcomes can no longer be
        recorded."""
        if self.run.fatal is not None:
            raise SendError("sending stopped: the outcomes can no longer be recorded")
        return self.marks.add(delivery_id)

    def close(self) -> None:
        self.closing = True
        self.breaker.settle()  # no streak grows any more: held bounces are final
        self._wake.set()

    # -- committing ---------------------------------------------------------------------

    def _due(self, timed: bool) -> bool:
        """Whether to commit now: the marks' wait is over (see `Marks`), a breaker
        requeue, enough outcomes piled up, or (`timed`) the oldest waited `COMMIT_DELAY`."""
        if self.requeued or self.breaker.confirmed or self.marks.ready():
            return True
        if not self.entries:
            return False
        return (
            self.closing
            or len(self.entries) >= self.run.options.concurrency
            or (timed and self.run.clock.monotonic() - self._oldest >= COMMIT_DELAY)
        )

    def _chain_failed(self, error: BaseException) -> None:
        self._fail(error)
        self.run.halt(error=error)
        self._wake.set()

    async def run_loop(self) -> None:
        """Until closed and everything is committed: the commits nobody waits for, and
        the heartbeat. A failed commit or renewal halts the run."""
        try:
            while not self._chain.failed:
                await self._chain.settled()
                if self._chain.failed:
                    return
                if self.heartbeat.due() and not self.closing:
                    await self._renew()
                if self._due(True):
                    self._chain.start(timed=True)
                    continue
                if self.closing:
                    return
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
        marks = self.marks.take()
        requeued = self.requeued + [e.outcome.delivery_id for e in entries if e.requeue]
        self.requeued = []
        confirmed = self.breaker.take_confirmed()
        counted_now = [e for e in entries if e.outcome.bounce and not (e.requeue or e.held)]
        bounces = [e.outcome for e in counted_now + confirmed if not e.requeue]
        held = [e for e in entries if e.held]
        run = self.run
        renew = self.heartbeat.due()
        if renew:
            self.heartbeat.reset()  # the heartbeat rides on this commit
        try:
            bounced, marked = await run.write(
                _write,
                [e.outcome for e in entries if not e.requeue],
                bounces,
                requeued,
                list(marks),
                owner=run.owner,
                lease=run.options.lease,
                bounce_threshold=run.options.bounce_threshold,
                now=run.clock.now(),
                renew=run.edition_id if renew else None,
            )
        except BaseException as e:
            self.entries = entries + self.entries
            self.breaker.confirmed[:0] = confirmed
            self.marks.put_back(marks)
            if isinstance(e, Exception) and not isinstance(e, SQLAlchemyError | SendError):
                raise SendError(f"recording the outcomes failed: {e}") from e
            raise
        run.result.bounced += bounced
        for entry in entries:
            self._count(entry)
        # found final while this commit ran: their bounces go with the next one
        self.breaker.confirmed += [e for e in held if not (e.held or e.requeue)]
        Marks.settle(marks, marked)
        if entries:
            run.progress()
        run.notify()

    def _count(self, entry: Entry) -> None:
        self.in_flight -= 1
        retry_in = self.run.result.count(entry)
        if retry_in is not None:
            self.schedule_retry(entry.outcome.delivery_id, entry.tries, retry_in)

    def _fail(self, error: BaseException) -> None:
        self.marks.fail(error)
        self.unrecorded += _handed_over(self.entries)
        self.entries = []

    @property
    def idle(self) -> bool:
        """Nothing submitted and not yet committed, nothing in flight."""
        return not self.entries and not self.marks and self.in_flight == 0

    def track(self, count: Sequence[object] | int = 1) -> None:
        """Count deliveries handed to workers (each ends with one `submit`)."""
        self.in_flight += count if isinstance(count, int) else len(count)
