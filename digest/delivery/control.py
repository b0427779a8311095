"""What every part of a run shares: the database (off the event loop), stop, and wake-ups."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from digest.db import Database
from digest.delivery.clock import Clock
from digest.delivery.options import SendOptions
from digest.delivery.results import DrainResult, ProgressCallback

T = TypeVar("T")


class RunControl:
    """One run's shared context.

    Database work runs in one dedicated thread (`db`), so a slow round trip never stalls
    the connections, and SQLite sees its writes in order from one thread.
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

    async def db(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `work(session, *args, **kwargs)` in one transaction, off the event loop."""

        def transaction() -> T:
            with self.database.session() as session:
                return work(session, *args, **kwargs)

        return await asyncio.get_running_loop().run_in_executor(self._executor, transaction)

    def close(self) -> None:
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
