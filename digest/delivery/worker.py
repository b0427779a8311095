"""A worker per connection: take a claimed delivery, build its message, send, report.

The worker opens its connection lazily and reopens it after a failure that broke it.
Outcomes go to the recorder; the transport awaits the "before DATA" step, which waits
for the recorder's commit, so this worker's previous outcome is durable before it hands
the server the next message.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from digest import outbox
from digest.delivery.before_data import BeforeData, LeaseLost
from digest.delivery.claims import Feeder
from digest.delivery.control import RunControl
from digest.delivery.options import MailIdentity
from digest.delivery.pacing import TokenBucket, backoff_delay, envelope_for
from digest.delivery.recorder import Recorder
from digest.errors import SendError
from digest.message import MessageSkeleton, Recipient
from digest.models import DeliveryStatus, FailureKind
from digest.transport import (
    Connection,
    DeliveryError,
    Interrupted,
    RelayUnavailable,
    Transport,
    UncertainDelivery,
)
from subscribers.models import Subscriber

RecipientFactory = Callable[[Subscriber], Recipient]


class Connections:
    """The pool's shared view: how many connections are open, the rate limit, jitter."""

    def __init__(self, run: RunControl, transport: Transport) -> None:
        self.run = run
        self.transport = transport
        self.live = 0
        self.opened: set[Connection] = set()
        self.bucket = TokenBucket(run.options.rate, clock=run.clock.monotonic)
        self.rng = random.Random()

    def backoff(self, tries: int) -> float:
        options = self.run.options
        return backoff_delay(tries, options.retry_backoff, options.retry_backoff_max, self.rng)

    async def open(self) -> Connection | None:
        """A fresh connection; None when this worker should give up its slot."""
        failures, run = 0, self.run
        while not run.should_stop():
            try:
                connection = await self._connect()
            except RelayUnavailable as e:
                failures += 1
                if failures >= run.options.max_attempts:
                    if self.live == 0:
                        run.halt(str(e))
                    return None
                await self._pause(self.backoff(failures))
                continue
            if connection is None:
                return None  # stopped while connecting
            self.live += 1
            self.opened.add(connection)
            if run.interrupted:  # the stop came as the connection opened: send nothing
                connection.interrupt(0.0)
            return connection
        return None

    async def _pause(self, seconds: float) -> None:
        """Wait before the next connection attempt; a stop request ends the wait (the
        backoff reaches `mail.retry_backoff_max`, longer than the 15 s a stop may take)."""
        await self.run.unless_interrupted(self.run.clock.sleep(seconds))

    async def _connect(self) -> Connection | None:
        """`transport.connect()`, abandoned when a stop is requested meanwhile (a relay
        silent at its greeting or EHLO would otherwise hold the stop for `mail.timeout`;
        the transport closes what it opened)."""
        _, connection = await self.run.unless_interrupted(self.transport.connect())
        return connection

    async def pace(self) -> None:
        """The rate limit's wait (`mail.rate`), ended by a stop request: at a low rate it
        can be longer than a stop may take. After a stop the send is `Interrupted`."""
        delay = self.bucket.reserve()
        if delay > 0:
            await self.run.unless_interrupted(self.run.clock.sleep(delay))

    def interrupt(self, grace: float) -> None:
        """The run stops: abandon every transaction not yet handed over; give a
        message handed over `grace` seconds for its reply (see `Connection.interrupt`)."""
        for connection in self.opened:
            connection.interrupt(grace)

    async def drop(self, connection: Connection) -> None:
        self.live -= 1
        self.opened.discard(connection)
        await connection.close()


class Worker:
    """Sends claimed deliveries over one connection until the feeder has no more."""

    def __init__(
        self,
        run: RunControl,
        feeder: Feeder,
        recorder: Recorder,
        connections: Connections,
        *,
        skeleton: MessageSkeleton,
        recipient_for: RecipientFactory,
        identity: MailIdentity,
        message_id_for: Callable[[int], str],
    ) -> None:
        self.run = run
        self.feeder = feeder
        self.recorder = recorder
        self.connections = connections
        self.skeleton = skeleton
        self.recipient_for = recipient_for
        self.identity = identity
        self.message_id_for = message_id_for
        self.connection: Connection | None = None

    async def work(self) -> None:
        try:
            while (item := await self.feeder.next()) is not None:
                if self.connection is None:
                    self.connection = await self.connections.open()
                    if self.connection is None:
                        self.feeder.put_back(item)
                        return
                await self._deliver(item, self.connection)
        except BaseException as e:
            self.run.halt(error=e)
            raise
        finally:
            if self.connection is not None:
                await self.connections.drop(self.connection)

    async def _deliver(self, item: outbox.Claimed, connection: Connection) -> None:
        """Send one message and submit its outcome (or nothing, when the lease was lost)."""
        subscriber, run = item.subscriber, self.run
        item.tries += 1
        now = run.clock.now()
        message_id = item.message_id or self.message_id_for(item.delivery_id)
        base = outbox.Outcome(
            item.delivery_id, subscriber.id, DeliveryStatus.SENT, item.attempts + 1, now
        )
        try:
            recipient = self.recipient_for(subscriber)
            message = self.skeleton.build(recipient, message_id=message_id, date=now)
        except SendError as e:
            failed = replace(base, status=DeliveryStatus.FAILED, error=str(e))
            self.recorder.submit(failed, subscriber.email, item.tries)
            return
        await self.connections.pace()
        envelope = envelope_for(
            self.identity.envelope_sender_for(subscriber.email, item.delivery_id),
            subscriber.email,
        )
        # No await between this and MAIL FROM going out: the circuit breaker lets this
        # outcome break only the refusals that came back before it (see `CircuitBreaker`).
        started = self.recorder.begin()
        try:
            await connection.send(envelope, message, BeforeData(self.recorder, item.delivery_id))
        except (LeaseLost, Interrupted):
            # Not handed over: the run's release gives the lease back (Interrupted), or
            # another run owns it now (LeaseLost). Either way, no outcome from here.
            self.recorder.in_flight -= 1
            await self._reset()
            return
        except DeliveryError as e:
            outcome = self._failed(replace(base, message_id=message_id), item, e)
            self.recorder.submit(outcome, subscriber.email, item.tries, e.reply, started)
            if e.broken:
                await self._reset()
            return
        sent = replace(base, message_id=message_id, at=run.clock.now())
        self.recorder.submit(sent, subscriber.email, item.tries, started=started)

    async def _reset(self) -> None:
        if self.connection is not None:
            connection, self.connection = self.connection, None
            await self.connections.drop(connection)

    def _failed(
        self, base: outbox.Outcome, item: outbox.Claimed, error: DeliveryError
    ) -> outbox.Outcome:
        reason = str(error)
        if isinstance(error, UncertainDelivery):
            return replace(base, status=DeliveryStatus.UNCERTAIN, error=reason)
        if error.permanent:
            return replace(
                base, status=DeliveryStatus.FAILED, error=reason, kind=error.kind, message_id=None
            )
        retry_at = None
        if (
            error.retry_in_run
            and item.tries < self.run.options.max_attempts
            and self.feeder.retry_room
            and not self.run.should_stop()
        ):
            delay = self.connections.backoff(item.tries)
            retry_at = base.at + timedelta(seconds=delay)
        return replace(
            base,
            status=DeliveryStatus.DEFERRED,
            error=reason,
            retry_at=retry_at,
            kind=FailureKind.TRANSIENT,
            message_id=None,
        )
