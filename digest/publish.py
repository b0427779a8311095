"""Publishing one edition: freeze it (under the edition lock), create its deliveries, drain
the due ones, and carry on with a new revision when a hold changes it mid-run."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from digest import editions, mailing, outbox, readers
from digest.compose import check_language, composer
from digest.config import Settings
from digest.db import Database
from digest.delivery.identity import stored_list_id
from digest.delivery.reports import settle_edition
from digest.editions import EditionWindow, FrozenEdition
from digest.errors import DigestError
from digest.identity import check_ready_to_send
from digest.mailing import recipient_factory
from digest.models import DeliveryStatus, Edition, EditionStatus
from digest.previews import edition_content, rehearse_send
from digest.schedule.localtime import assign_due_times, next_due, skip_missed
from digest.send import DrainResult, drain, message_id_factory
from digest.stopping import StopRequest
from digest.transport import Transport
from digest.variants import stored_variants

Clock = Callable[[], datetime]
#: Seconds between looks at the edition's revision while it is being sent.
REVISION_POLL = 0.1


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SendReport:
    edition: str
    language: str
    created: int = 0
    result: DrainResult = field(default_factory=DrainResult)
    #: Deliveries not yet final after this run (deferred, or held by a stopped run).
    remaining: int = 0
    already_sent: bool = False
    nothing_to_send: bool = False
    dry_run: bool = False
    subject: str = ""
    transport: str = ""
    #: Edition status after the run: frozen, sending or sent.
    status: str = ""
    #: (last error, deliveries) of what is still deferred, commonest first.
    deferred_reasons: list[tuple[str, int]] = field(default_factory=list)
    #: The edition's window (as frozen, or as it would be), and whether this run froze it.
    window: EditionWindow | None = None
    froze: bool = False
    revision: int = 1
    #: Local-time delivery: deliveries whose zone's time has not come, and the next one.
    not_due: int = 0
    #: Of the remaining, held by other live senders (they finish them): not this run's.
    held_elsewhere: int = 0
    next_due_at: datetime | None = None
    #: Uncertain deliveries put back to be sent again (`--resend-uncertain`).
    resent_uncertain: int = 0
    #: Deliveries of the edition still uncertain after the run.
    uncertain: int = 0
    #: Local-time delivery, `missed_after`: (due time, deliveries) skipped by this run
    #: because their zone's send time passed too long ago.
    missed: list[tuple[datetime, int]] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return self.remaining > self.not_due + self.held_elsewhere and not self.dry_run


def send(
    db: Database,
    settings: Settings,
    day: date,
    language: str,
    *,
    clock: Clock = utc_now,
    transport: Transport | None = None,
    on_progress: Callable[[DrainResult], None] | None = None,
    dry_run: bool = False,
    stop: threading.Event | None = None,
    resend_uncertain: bool = False,
    missed_after: timedelta | None = None,
) -> SendReport:
    """Freeze (if needed, under the edition lock), create deliveries, drain the due ones;
    safe to rerun at any point. A hold during the run makes it carry on with the new
    revision. With `dry_run`, build every message that would go out; write nothing.
    With `resend_uncertain`, deliveries left `uncertain` (no reply after the message was
    handed over) are sent again: the operator's decision, never automatic. With
    `missed_after` (`digest schedule`: `schedule.grace`) and `schedule.local_time`,
    never-tried deliveries due longer ago than that are skipped, not sent late."""
    check_language(settings, language)
    options = mailing.send_options(settings)
    transport = transport or mailing.open_mail_transport(settings)
    if dry_run:
        return _rehearse(db, settings, day, language, clock=clock, on_progress=on_progress)
    check_ready_to_send(settings)
    now = clock()
    frozen = editions.freeze(
        db, settings, day, language, now, composer(settings, day, language),
        extras=readers.freeze_extras(settings, now),
    )  # fmt: skip
    report = SendReport(f"{day.isoformat()}/{language}", language, window=frozen.window)
    report.froze, edition = frozen.created, frozen.edition
    if edition is None:
        report.nothing_to_send = True
        return report
    report.edition, report.subject, report.transport = (
        edition.key,
        edition.subject,
        transport.description,
    )
    with db.session() as session:
        identifier = stored_list_id(session, settings.mail_identity, clock())
        if resend_uncertain:
            report.resent_uncertain = outbox.requeue_uncertain(session, edition.id, clock())
    complete = edition.status == EditionStatus.SENT
    if complete and not report.resent_uncertain:
        report.already_sent, report.status = True, EditionStatus.SENT
        return report
    # Under the edition lock: two senders creating the same rows at once would collide
    # on the unique (edition, subscriber) key on PostgreSQL.
    with editions.locked(db, language) as session:
        # Reader groups that appeared since the freeze get their variant now (composed
        # from what the edition froze); existing variants never change but for holds.
        stored = session.get(Edition, edition.id)
        assert stored is not None
        readers.ensure_variants(session, settings, stored, clock())
        if not complete:
            # A complete edition reopened by `resend_uncertain` resends what it left
            # uncertain, nothing more: a reader who joined after it was sent is not its
            # audience, and a plain rerun would not have sent them anything either.
            report.created = outbox.create_deliveries(session, edition, clock())  # type: ignore[arg-type]
        if settings.schedule.local_time:
            assign_due_times(session, edition.id, edition.date, settings)
            if missed_after is not None:
                reason = (
                    "skipped: this reader's send time passed more than schedule.grace "
                    f"({settings.schedule.grace}) before the edition could be sent"
                )
                report.missed = skip_missed(
                    session, edition.id, clock(), missed_after, reason,
                    last_run=stored.last_send_at,
                )  # fmt: skip
    editions.set_status(db, edition.id, EditionStatus.SENDING)
    try:
        while True:
            revised = replace(options, revision=edition.revision)
            with _watch_revision(db, edition, stop) as halt:
                part = _drain(db, settings, edition, transport, identifier, revised,
                              clock=clock, on_progress=on_progress, stop=halt)  # fmt: skip
            current = editions.reload(db, edition.id)
            if current.revision == edition.revision or (stop is not None and stop.is_set()):
                _add(report.result, part)
                break
            part.stopped = None  # stopped for the new revision, not for good
            _add(report.result, part)
            edition = current  # a hold made a new revision: send that to everyone left
    except DigestError as e:  # the relay rejected our login, TLS, ...: the run failed
        editions.note_send_run(db, edition.id, clock(), str(e))
        raise
    _finish(db, report, edition, clock())
    editions.note_send_run(db, edition.id, clock(), _run_failure(report.result, stop))
    return report


def _run_failure(result: DrainResult, stop: threading.Event | None) -> str | None:
    """Why the run failed as a whole, if it did: the circuit breaker tripped (a relay-
    wide refusal), or the run ended early for another reason than being asked to."""
    if result.breaker:
        return result.stopped or f"the relay refused every recipient: {result.breaker}"
    if result.stopped and not (stop is not None and stop.is_set()):
        return result.stopped
    return None


@contextmanager
def _watch_revision(
    db: Database, edition: FrozenEdition, stop: threading.Event | None
) -> Iterator[threading.Event]:
    """An event that stops the run when the caller stops it or a hold revises the edition,
    so no claimed message is built from the old revision once the new one is committed
    (those in flight finish; the claims the run held go back to the outbox)."""
    halt = StopRequest(stop) if isinstance(stop, StopRequest) else threading.Event()
    done = threading.Event()

    def watch() -> None:
        while not done.wait(REVISION_POLL):
            if (stop is not None and stop.is_set()) or editions.revision_of(
                db, edition.id
            ) != edition.revision:
                halt.set()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield halt
    finally:
        done.set()
        watcher.join(5)


def _drain(
    db: Database, settings: Settings, edition: FrozenEdition, transport: Transport,
    identifier: str, options: Any, *, clock: Clock,
    on_progress: Callable[[DrainResult], None] | None, stop: threading.Event | None,
) -> DrainResult:  # fmt: skip
    with db.session() as session:
        variants = stored_variants(session, edition.id)
    skeleton, variant_of = mailing.edition_skeleton(
        settings, edition.language, (edition.subject, edition.html, edition.text),
        variants, identifier,
    )  # fmt: skip
    message_ids = message_id_factory(
        edition.id, edition.key, edition.frozen_at, skeleton.domain, settings.secret_key()
    )
    recipient_for = recipient_factory(settings, edition.language, identifier, variant_of=variant_of)
    return drain(
        db, edition.id, skeleton=skeleton, recipient_for=recipient_for, transport=transport,
        identity=mailing.with_verp(settings, settings.mail_identity),
        clock=mailing.delivery_clock(clock), options=options,
        message_id_for=message_ids, on_progress=on_progress, stop=stop,
    )  # fmt: skip


def _add(total: DrainResult, part: DrainResult) -> None:
    for name in ("sent", "failed", "deferred", "skipped", "retried", "bounced", "uncertain",
                 "requeued", "total", "elapsed"):  # fmt: skip
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.failures.extend(part.failures)
    total.stopped = total.stopped or part.stopped
    total.breaker = total.breaker or part.breaker


def _finish(db: Database, report: SendReport, edition: FrozenEdition, now: datetime) -> None:
    with db.session() as session:
        # This run's own leases are released or cleared by now: a live lease is another's.
        report.remaining, report.held_elsewhere = outbox.remaining_and_held(
            session, edition.id, now
        )
        report.not_due, report.next_due_at = next_due(session, edition.id, now)
        report.deferred_reasons = outbox.deferred_reasons(session, edition.id)
        report.uncertain = outbox.counts(session, edition.id)[DeliveryStatus.UNCERTAIN]
    report.revision = edition.revision
    with db.session() as session:  # decided from the deliveries as the statement finds them
        report.status = settle_edition(session, edition.id, now)


def _rehearse(
    db: Database, settings: Settings, day: date, language: str, *, clock: Clock,
    on_progress: Callable[[DrainResult], None] | None,
) -> SendReport:  # fmt: skip
    content = edition_content(db, settings, day, language, now=clock())
    if content is None:
        key = f"{day.isoformat()}/{language}"
        return SendReport(key, language, nothing_to_send=True, dry_run=True)
    edition = content.edition
    report = SendReport(content.key, language, subject=content.subject, dry_run=True)
    report.status = edition.status if edition is not None else "not frozen"
    if edition is not None and edition.status == EditionStatus.SENT:
        report.already_sent = True
        return report
    report.result = rehearse_send(
        db, settings, content, language, clock=clock, on_progress=on_progress
    )
    return report
