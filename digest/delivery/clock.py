"""Injected time: the sender's logic never reads `time.monotonic()` or `datetime.now()`.

`Clock.now()` stamps rows (leases, attempts); `Clock.monotonic()` measures intervals
(heartbeat, retry due times, commit delay); `Clock.sleep()` waits. Tests hand in a
`ManualClock` and move time themselves, so a lease expiry is a line of test code, not
two minutes of waiting.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Wall-clock time, timezone-aware UTC."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""


class SystemClock:
    """The real clocks; `now` may be replaced (the CLI's `--now`, tests' fixed dates)."""

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self._now()

    def __call__(self) -> datetime:
        return self._now()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock:
    """Time that moves only when told to (`advance`), from any thread."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._elapsed = 0.0
        self._lock = threading.Lock()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._elapsed += seconds

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=self._elapsed)

    def __call__(self) -> datetime:
        return self.now()

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed

    async def sleep(self, seconds: float) -> None:
        """Waiting moves this clock: nothing else would."""
        self.advance(max(seconds, 0.0))
        await asyncio.sleep(0)


class Timer:
    """Due once every `interval` seconds of `clock` (e.g. the lease heartbeat)."""

    def __init__(self, clock: Clock, interval: float) -> None:
        self.clock = clock
        self.interval = interval
        self._last = clock.monotonic()

    def due(self) -> bool:
        return self.clock.monotonic() - self._last >= self.interval

    def remaining(self) -> float:
        return max(0.0, self.interval - (self.clock.monotonic() - self._last))

    def reset(self) -> None:
        self._last = self.clock.monotonic()
