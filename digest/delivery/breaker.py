"""The circuit breaker: the same relay-wide refusal for N recipients in a row stops the run.

A quota answer (`554 5.4.5`) or `554 5.7.1 relay access denied` is about our account or
relay, not about the recipients: sending on would fail the whole list. The refusals that
tripped the breaker go back to pending, so a later run resumes with them; a single
refusal that trips nothing is final (RFC 3463 class 5 is permanent for that message).
Two refusals are "the same" when code and enhanced code match (texts often name the
recipient). A delivered message or a bad address in between breaks the streak. A run
with fewer deliveries than the threshold trips when every one of them is refused alike
(`breaker_threshold`): a relay that refuses a small list whole refuses the list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from digest.delivery.classify import Reply
from digest.delivery.results import DrainResult, Entry
from digest.models import DeliveryStatus, FailureKind


def breaker_threshold(configured: int, deliveries: int) -> int:
    """The streak that trips the breaker in a run of `deliveries` due deliveries:
    `mail.circuit_breaker` (0: never), or all of them when there are fewer."""
    if not configured:
        return 0
    return min(configured, deliveries) if deliveries > 0 else configured


@dataclass
class CircuitBreaker:
    """`threshold` identical refusals in a row trip it (0: never)."""

    threshold: int
    #: The refusals of the current streak, in the order they came.
    streak: list[Entry] = field(default_factory=list)
    key: str | None = None
    #: The reply that tripped it.
    tripped: Reply | None = None

    def judge(self, entry: Entry, reply: Reply | None) -> bool:
        """Look at one outcome as it is submitted; True when it trips the breaker.

        After a trip, every refusal of the streak, and each later one, is marked
        `requeue` (back to pending, not failed).
        """
        outcome = entry.outcome
        if outcome.status == DeliveryStatus.SENT or outcome.bounce:
            self.key, self.streak = None, []  # the relay works
            return False
        if reply is None or outcome.kind != FailureKind.REFUSED:
            return False
        if self.tripped is not None:
            entry.requeue = True
            return False
        if reply.refusal != self.key:
            self.key, self.streak = reply.refusal, []
        self.streak.append(entry)
        if not self.threshold or len(self.streak) < self.threshold:
            return False
        self.tripped = reply
        return True

    def requeue_streak(self, result: DrainResult) -> list[int]:
        """The streak's deliveries, to go back to pending; counts already made are undone."""
        for entry in self.streak:
            if entry.counted:
                result.uncount(entry)
            entry.requeue = True
        return [entry.outcome.delivery_id for entry in self.streak]
