"""What a run did, for the summary, the progress bar and `--json`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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


ProgressCallback = Callable[[DrainResult], None]
