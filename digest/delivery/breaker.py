"""The circuit breaker: the same relay-wide refusal for N recipients in a row stops the run.

A quota answer (`554 5.4.5`) or `554 5.7.1 relay access denied` is about our account or
relay, not about the recipients: sending on would fail the whole list. The refusals that
tripped the breaker go back to pending, so a later run resumes with them; a single
refusal that trips nothing is final (RFC 3463 class 5 is permanent for that message).
Two refusals are "the same" when code and enhanced code match (texts often name the
recipient). A delivered message or a bad address in between breaks the streak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from digest.delivery.classify import Reply


class Verdict(Enum):
    FINAL = "final"  # record the refusal as a failure
    TRIP = "trip"  # this one trips the breaker: requeue the whole streak
    REQUEUE = "requeue"  # the breaker has tripped: this one goes back to pending too


@dataclass
class CircuitBreaker:
    """`threshold` identical refusals in a row trip it (0: never)."""

    threshold: int
    streak: list[int] = field(default_factory=list)
    key: str | None = None
    #: The reply that tripped it.
    tripped: Reply | None = None

    def refused(self, delivery_id: int, reply: Reply) -> Verdict:
        """A relay-wide refusal of one delivery: what to do with it."""
        if self.tripped is not None:
            return Verdict.REQUEUE
        if reply.refusal != self.key:
            self.key, self.streak = reply.refusal, []
        self.streak.append(delivery_id)
        if self.threshold and len(self.streak) >= self.threshold:
            self.tripped = reply
            return Verdict.TRIP
        return Verdict.FINAL

    def passed(self) -> None:
        """A message was accepted, or an address refused: the relay works; streak over."""
        self.key, self.streak = None, []
