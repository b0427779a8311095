"""What every part of a run shares: the database (off the event loop), stop, and wake-ups."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
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
        if not self.stopping and self.stop_event is not None and self.stop_event.is_set():
            self.halt("interrupted")
        return self.stopping

    async def wait_for_change(self, timeout: float) -> None:
        """Until something changes or `timeout` real seconds pass."""
        changed = self.changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), max(timeout, 0.0))

    def progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.result)
