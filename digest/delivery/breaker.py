"""The circuit breaker: the same relay-wide refusal for N recipients in a row stops the run.

A quota answer (`554 5.4.5`) or `554 5.7.1 relay access denied` is about our account or
relay, not about the recipients: sending on would fail the whole list. The refusals that
tripped the breaker go back to pending, so a later run resumes with them; a single
refusal that trips nothing is final (RFC 3463 class 5 is permanent for that message).
Two refusals are "the same" when code and enhanced code match (texts often name the
recipient). A delivered message, a bad address or another refusal breaks the streak,
but only when its transaction began after the refusals it breaks came back (see
`CircuitBreaker`): messages already under way cannot tell whether the relay still works. A run
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
    """`threshold` identical refusals in a row trip it (0: never).

    "In a row" is the relay's order as far as it can be known: over several connections
    replies come back in any order, and a message the relay accepted at RCPT just before
    its quota ran out may finish DATA after the first refusals (RFC 5321 §3.3 orders
    replies only within one connection). So an outcome breaks only the refusals judged
    before its transaction began (`begin`): the relay took that transaction on after
    refusing them. Outcomes of transactions already under way break nothing, and the
    decision does not depend on how concurrent completions interleave.
    """

    threshold: int
    #: Outcomes judged so far; `begin` hands this count to a transaction as it starts.
    judged: int = 0
    #: Per refusal (`Reply.refusal`): the refusals no later transaction went past, in
    #: the order they came, each with the count at which it was judged.
    streaks: dict[str, list[tuple[int, Entry]]] = field(default_factory=dict)
    #: The refusals that tripped it.
    streak: list[Entry] = field(default_factory=list)
    #: The reply that tripped it.
    tripped: Reply | None = None

    def begin(self) -> int:
        """Called as a transaction's MAIL FROM goes out: what its outcome may break."""
        return self.judged

    def judge(self, entry: Entry, reply: Reply | None, started: int | None = None) -> bool:
        """Look at one outcome as it is submitted; True when it trips the breaker.

        `started`: `begin()` of its transaction (None: no transaction; breaks nothing).
        After a trip, every refusal of the streak, and each later one, is marked
        `requeue` (back to pending, not failed).
        """
        self.judged += 1
        outcome = entry.outcome
        if outcome.status == DeliveryStatus.SENT or outcome.bounce:
            self._went_past(started, None)  # the relay works
            return False
        if reply is None or outcome.kind != FailureKind.REFUSED:
            return False
        if self.tripped is not None:
            entry.requeue = True
            return False
        key = reply.refusal
        self._went_past(started, key)
        streak = self.streaks.setdefault(key, [])
        streak.append((self.judged, entry))
        if not self.threshold or len(streak) < self.threshold:
            return False
        self.tripped = reply
        self.streak = [refused for _judged, refused in streak]
        return True

    def _went_past(self, started: int | None, key: str | None) -> None:
        """A transaction begun after `started` outcomes ended otherwise than with refusal
        `key`: the refusals of other kinds judged before it began are single ones (final)."""
        if started is None:
            return
        for other, streak in list(self.streaks.items()):
            if other == key:
                continue
            streak[:] = [(judged, entry) for judged, entry in streak if judged > started]
            if not streak:
                del self.streaks[other]

    def requeue_streak(self, result: DrainResult) -> list[int]:
        """The streak's deliveries, to go back to pending; counts already made are undone."""
        for entry in self.streak:
            if entry.counted:
                result.uncount(entry)
            entry.requeue = True
        return [entry.outcome.delivery_id for entry in self.streak]
