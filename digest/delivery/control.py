"""What every part of a run shares: the database (off the event loop), stop, and wake-ups."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection

from digest.db import Database
from digest.delivery.clock import Clock
from digest.delivery.options import SendOptions
from digest.delivery.results import DrainResult, ProgressCallback

T = TypeVar("T")

#: Seconds the recorder's connection may sit idle and still be used without a new checkout.
REUSE_FOR = 5.0

#: After a stop request, seconds a message already handed over (final "." written) may
#: still wait for its reply before it is recorded `uncertain`. Short, so a stop stays
#: well inside the 15 s a supervisor gives (issue #11); a few seconds, so a relay that is
#: merely slow still confirms most such messages.
STOP_GRACE = 5.0

#: Seconds between looks at the stop request: a signal handler sets a `threading.Event`,
#: which cannot wake the event loop by itself.
STOP_POLL = 0.2


class RunControl:
    """One run's shared context.

    Database work runs in one dedicated thread (`db`), so a slow round trip never stalls
    the connections, and SQLite sees its writes in order from one thread. The recorder's
    commits, one every few messages, go over one connection held for the run (`write`):
    a session and a pool checkout per commit cost more than the commit itself.
    """

    def __init__(
        self,
        database: Database,
        edition_id: int,
        owner: str,
        *,
        clock: Clock,
        options: SendOptions,
        on_progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.database = database
        self.edition_id = edition_id
        self.owner = owner
        self.clock = clock
        self.options = options
        self.result = DrainResult()
        self.on_progress = on_progress
        self.stop_event = stop
        self.stopping = False
        #: Stopped by the operator (the `stop` event), not by an error or the breaker.
        self.interrupted = False
        #: Set with `interrupted`, for a part that waits on something else meanwhile.
        self.interrupt_requested = asyncio.Event()
        self.fatal: BaseException | None = None
        self.changed = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="digest-db")
        #: The recorder's connection; opened, used and closed in the database thread only.
        self._connection: Connection | None = None
        self._last_write = 0.0

    async def db(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `work(session, *args, **kwargs)` in one transaction, off the event loop."""

        def transaction() -> T:
            with self.database.session() as session:
                return work(session, *args, **kwargs)

        return await asyncio.get_running_loop().run_in_executor(self._executor, transaction)

    async def write(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `work(connection, *args, **kwargs)` in one transaction on the run's own
        connection, off the event loop. A failed transaction closes that connection (the
        next call opens another)."""

        def transaction() -> T:
            moment = self.clock.monotonic()
            if moment - self._last_write > REUSE_FOR:
                self._drop_connection()  # idle a while: check out afresh (the pool pings it)
            self._last_write = moment
            if self._connection is None:
                self._connection = self.database.engine.connect()
            try:
                with self._connection.begin():
                    return work(self._connection, *args, **kwargs)
            except BaseException:
                self._drop_connection()
                raise

        return await asyncio.get_running_loop().run_in_executor(self._executor, transaction)

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()

    def close(self) -> None:
        self._executor.submit(self._drop_connection)
        self._executor.shutdown(wait=True)

    def notify(self) -> None:
        """Wake every part waiting for a change (new work, a commit, a stop)."""
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
        if not self.interrupted and self.stop_event is not None and self.stop_event.is_set():
            self.interrupted = True
            self.interrupt_requested.set()
            self.halt("interrupted")
        return self.stopping

    async def watch_stop(self, on_interrupt: Callable[[float], None]) -> None:
        """Until the run ends: call `on_interrupt(STOP_GRACE)` as soon as a stop is
        requested (the workers may be waiting on a stalled relay and never look
        themselves), and `on_interrupt(0.0)` if the stop is hurried (a second signal,
        `digest.stopping.StopRequest`)."""
        if self.stop_event is None:
            return
        while not (self.should_stop() and self.interrupted):
            await asyncio.sleep(STOP_POLL)
        on_interrupt(STOP_GRACE)
        hurried = getattr(self.stop_event, "hurried", None)
        if hurried is None:
            return
        while not hurried.is_set():
            await asyncio.sleep(STOP_POLL)
        on_interrupt(0.0)

    async def unless_interrupted(self, work: Awaitable[T]) -> tuple[bool, T | None]:
        """(True, `work`'s result), or (False, None) when a stop is requested first: then
        `work` is cancelled and awaited, so what it opened is closed. A wait on the relay,
        the backoff or the rate limit must not hold a stop past the 15 s it may take."""
        doing = asyncio.ensure_future(work)
        stopping = asyncio.ensure_future(self.interrupt_requested.wait())
        try:
            await asyncio.wait({doing, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if doing.done():
            return True, doing.result()
        doing.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await doing
        return False, None

    async def wait_for_change(self, timeout: float) -> None:
        """Until something changes or `timeout` real seconds pass."""
        changed = self.changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), max(timeout, 0.0))

    def progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.result)
