"""Pacing and naming helpers: rate limit, retry backoff, stable Message-IDs, envelopes."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TypeVar

from digest.message import ascii_address
from digest.transport import Envelope

T = TypeVar("T")


class TokenBucket:
    """At most `rate` acquisitions per second on average, bursts of `capacity`.

    Each caller reserves the next slot (`reserve`) and waits the seconds it returns, so
    sleeping late never loses throughput. The caller waits, so that a stop can end the
    wait; and the clock is injected, so tests drive it (which is why this is not a
    library limiter: those read the event loop's own clock).
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


def backoff_delay(tries: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds before try `tries + 1`: base·2^(tries-1), capped, half of it random."""
    delay = min(cap, base * 2 ** max(tries - 1, 0))
    return delay / 2 + rng.uniform(0, delay / 2)


def message_id_factory(
    edition_id: int, edition_key: str, frozen_at: datetime | None, domain: str, secret_key: str
) -> Callable[[int], str]:
    """Stable Message-IDs per delivery: a resent copy carries the same id, so mail
    systems that deduplicate by Message-ID drop it.

    Each ends in an HMAC of the delivery id with the site's secret: the ids are
    sequential and the edition's tag is in every reader's copy, and a returned
    Message-ID is what matches a bounce without VERP, so nobody may guess another's."""
    seed = f"{edition_id}|{edition_key}|{frozen_at.isoformat() if frozen_at else ''}"
    tag = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:12]
    prefix = f"<{edition_key.replace('/', '.')}.{tag}."
    suffix = f"@{domain}>"

    def message_id(delivery_id: int) -> str:
        return f"{prefix}{signed_part(delivery_id, secret_key)}{suffix}"

    return message_id


def signed_part(delivery_id: int, secret_key: str) -> str:
    """ "ID.MAC", the end of a delivery's Message-ID before its domain: the delivery id
    and an HMAC of it with the site's secret."""
    data = b"message-id\0" + str(delivery_id).encode("ascii")
    mac = hmac.new(secret_key.encode("utf-8"), data, hashlib.sha256).hexdigest()[:16]
    return f"{delivery_id}.{mac}"


def envelope_for(sender: str, email: str) -> Envelope:
    """MAIL FROM / RCPT TO for one recipient; a non-ASCII local part needs SMTPUTF8."""
    plain = ascii_address(email)
    return Envelope(sender, plain or email, smtputf8=plain is None)


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
