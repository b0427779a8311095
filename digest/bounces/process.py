"""`digest bounces process`: read a source, learn from each message, mark it processed.

Messages are handled in batches: each batch's events are committed in one transaction,
and only then are its messages moved or flagged, so a crash in between leaves messages
in place that the database already knows (by SHA-256): the next run only moves them.
Nothing is ever applied twice. With `dry_run` every decision is made and reported, then
rolled back, and no message is touched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from digest.bounces.errors import BounceError
from digest.bounces.mailboxes import Inbound, Source
from digest.bounces.match import DeliveryLookup, Identity, match_report
from digest.bounces.record import Applied, Thresholds, apply_report, seen
from digest.bounces.report import Report, ReportKind, read_report, unreadable_report
from digest.characters import one_line
from digest.db import Database

#: Messages per transaction.
BATCH = 200
#: Unrecognised and unmatched messages listed one by one; beyond that only counted.
LISTED = 200


@dataclass
class ProcessResult:
    """Counts of what one run did, and the messages it left in place."""

    source: str
    dry_run: bool = False
    read: int = 0
    hard: int = 0
    soft: int = 0
    complaints: int = 0
    unsubscribes: int = 0
    #: Events that moved a subscriber's bounce count.
    counted: int = 0
    #: Subscribers newly bounced / complained / unsubscribed.
    bounced: int = 0
    complained: int = 0
    unsubscribed: int = 0
    #: Processed by an earlier run (only moved or flagged now).
    already: int = 0
    unrecognised: int = 0
    unmatched: int = 0
    #: (key, what it looked like) for messages left in place.
    left: list[tuple[str, str]] = field(default_factory=list)

    @property
    def processed(self) -> int:
        """Messages applied (moved or flagged) by this run."""
        return self.hard + self.soft + self.complaints + self.unsubscribes

    def as_json(self) -> dict[str, object]:
        """The stable shape `--json` prints."""
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "read": self.read,
            "processed": self.processed,
            "hard_bounces": self.hard,
            "soft_bounces": self.soft,
            "complaints": self.complaints,
            "unsubscribes": self.unsubscribes,
            "counted": self.counted,
            "bounced": self.bounced,
            "complained": self.complained,
            "unsubscribed": self.unsubscribed,
            "already_processed": self.already,
            "unrecognised": self.unrecognised,
            "unmatched": self.unmatched,
            "left_in_place": [{"key": key, "reason": why} for key, why in self.left],
        }


@dataclass(frozen=True)
class ProcessOptions:
    """Everything processing needs from the settings, read once."""

    identity: Identity
    thresholds: Thresholds
    unsubscribe_mailto: str
    dry_run: bool = False


def process_source(
    db: Database,
    source: Source,
    options: ProcessOptions,
    *,
    clock: Callable[[], datetime],
    on_progress: Callable[[ProcessResult], None] | None = None,
) -> ProcessResult:
    """Process every unprocessed message of `source`; see the module docstring."""
    result = ProcessResult(source.description, dry_run=options.dry_run)
    session = db.sessions()
    try:
        batch: list[Inbound] = []
        for inbound in source.messages():
            batch.append(inbound)
            if len(batch) >= BATCH:
                _batch(session, source, batch, options, result, clock())
                batch = []
                if on_progress is not None:
                    on_progress(result)
        if batch:
            _batch(session, source, batch, options, result, clock())
        for key, why in source.unreadable:
            result.unrecognised += 1
            _leave(result, key, f"cannot be read: {why}")
        if options.dry_run:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    return result


def _batch(
    session: Session,
    source: Source,
    batch: list[Inbound],
    options: ProcessOptions,
    result: ProcessResult,
    now: datetime,
) -> None:
    digests = {inbound.key: hashlib.sha256(inbound.raw).hexdigest() for inbound in batch}
    known = seen(session, list(set(digests.values())))
    done: list[str] = []
    left: list[str] = []
    reports: list[tuple[Inbound, Report]] = []
    for inbound in batch:
        result.read += 1
        if inbound.too_large is not None:
            why = f"too large ({inbound.too_large:,} bytes), not read"
            result.unrecognised += 1
            _leave(
                result, inbound.key, f"unrecognised, {unreadable_report(inbound.raw, why).summary}"
            )
            left.append(inbound.key)
            continue
        if digests[inbound.key] in known:
            result.already += 1
            done.append(inbound.key)
            continue
        report = read_report(inbound.raw, unsubscribe_mailto=options.unsubscribe_mailto)
        if report.kind == ReportKind.UNRECOGNISED:
            result.unrecognised += 1
            _leave(result, inbound.key, f"unrecognised, {report.summary}")
            left.append(inbound.key)
            continue
        reports.append((inbound, report))
    lookup = DeliveryLookup(session, options.identity)
    lookup.prime([report for _inbound, report in reports])
    for inbound, report in reports:
        digest = digests[inbound.key]
        if digest in known:  # the same message twice in one source
            done.append(inbound.key)
            continue
        if _apply(
            session, inbound.key, report, digest, source.origin, options, result, now, lookup
        ):
            known.add(digest)
            done.append(inbound.key)
        else:
            left.append(inbound.key)
    if options.dry_run:
        session.flush()
        source.forget(done + left)
        return
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise BounceError(
            f"{source.description}: another process applied some of these messages at the "
            "same moment; nothing of this batch was kept, run the command again"
        ) from None
    source.mark_processed(done)
    source.forget(left)


def _apply(
    session: Session,
    key: str,
    report: Report,
    digest: str,
    origin: str,
    options: ProcessOptions,
    result: ProcessResult,
    now: datetime,
    lookup: DeliveryLookup,
) -> bool:
    """Learn from one recognised message; False when it is left in place."""
    applied = learn(
        session, report, digest=digest, origin=origin, options=options, now=now, lookup=lookup
    )
    if applied is None:
        result.unmatched += 1
        _leave(result, key, f"{report.kind} not about our mail, {report.summary}")
        return False
    counters = {"hard": "hard", "soft": "soft", "complaint": "complaints"}
    name = counters.get(applied.event.value, "unsubscribes")
    setattr(result, name, getattr(result, name) + 1)
    result.counted += applied.counted
    if applied.new_status is not None:
        status_counter = str(applied.new_status)
        setattr(result, status_counter, getattr(result, status_counter) + 1)
    return True


def learn(
    session: Session,
    report: Report,
    *,
    digest: str,
    origin: str,
    options: ProcessOptions,
    now: datetime,
    lookup: DeliveryLookup | None = None,
) -> Applied | None:
    """Match and apply one recognised report under the once-only key `digest`.

    None when it is about none of our deliveries or subscribers (nothing is written)."""
    lookup = lookup or DeliveryLookup(session, options.identity)
    match = match_report(session, report, lookup)
    if match is None:
        return None
    return apply_report(
        session,
        report,
        match,
        digest=digest,
        origin=origin,
        thresholds=options.thresholds,
        now=now,
    )


def _leave(result: ProcessResult, key: str, reason: str) -> None:
    """List a message left in place; what it shows comes from inbound mail (a Maildir
    file name, a Subject), so control characters never reach the terminal or --json."""
    if len(result.left) < LISTED:
        result.left.append((one_line(key), one_line(reason)))
