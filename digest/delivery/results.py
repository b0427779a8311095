"""What a run did, for the summary, the progress bar and `--json`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from digest.models import DeliveryStatus
from digest.outbox import Outcome

#: Failures listed one by one in a summary; beyond that they are only counted.
FAILURES_LISTED = 1000


@dataclass
class DrainResult:
    """Counts of one run; `deferred` counts deliveries it left for the next run."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0
    retried: int = 0
    bounced: int = 0
    #: Handed over without a reply: perhaps delivered, not resent on their own.
    uncertain: int = 0
    #: Put back to pending because they tripped the circuit breaker.
    requeued: int = 0
    #: Deliveries due when the run started (the progress bar's length).
    total: int = 0
    elapsed: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    #: Why the run stopped before the outbox was drained, if it did.
    stopped: str | None = None
    #: The relay's reply that tripped the circuit breaker, if one did.
    breaker: str | None = None

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.deferred + self.skipped + self.uncertain

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0

    def count(self, entry: Entry) -> float | None:
        """Count a committed outcome; the seconds until its retry when it has one."""
        outcome = entry.outcome
        entry.counted = True
        if entry.requeue:
            self.requeued += 1
        elif outcome.status == DeliveryStatus.SENT:
            self.sent += 1
        elif outcome.status == DeliveryStatus.UNCERTAIN:
            self.uncertain += 1
        elif outcome.status == DeliveryStatus.FAILED:
            self.failed += 1
            if len(self.failures) < FAILURES_LISTED:
                self.failures.append((entry.email, outcome.error or "failed"))
        elif outcome.status == DeliveryStatus.SKIPPED:
            self.skipped += 1
        elif outcome.retry_at is not None:
            self.retried += 1
            return (outcome.retry_at - outcome.at).total_seconds()
        else:
            self.deferred += 1
        return None

    def uncount(self, entry: Entry) -> None:
        """A counted failure goes back to pending after all (the circuit breaker)."""
        self.failed -= 1
        self.requeued += 1
        listed = (entry.email, entry.outcome.error or "failed")
        if listed in self.failures:
            self.failures.remove(listed)


@dataclass(slots=True)
class Entry:
    """One outcome on its way to the database, and what became of it."""

    outcome: Outcome
    email: str
    tries: int
    #: Back to pending instead of recorded (the circuit breaker tripped).
    requeue: bool = False
    #: Already counted in the run's `DrainResult` (and so committed).
    counted: bool = False
    #: An address reply whose bounce waits for the circuit breaker's verdict (`breaker`).
    held: bool = False


ProgressCallback = Callable[[DrainResult], None]
