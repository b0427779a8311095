"""`digest status`: the operator's view, with an exit code monitors understand.

Per language: the last edition and its outcome, the next scheduled run, deliveries
pending, deferred, uncertain and failed (of the last edition and any not yet complete),
and the last error. The exit code follows the Nagios plugin convention of "0 ok, else a
problem" with the project's codes: 0 all is well; 1 the last scheduled edition failed
(its last send run ended on a relay-wide refusal, or the relay could not be reached or
used), is overdue past `schedule.grace` (not frozen, or deliveries left whose send time
passed more than the grace ago), or the scheduler's heartbeat stopped; 3 deliveries
remain (pending, deferred or uncertain) and none of that is true.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digest import editions
from digest.config import Settings
from digest.db import Database
from digest.errors import ExitCode
from digest.models import Article, Delivery, DeliveryStatus, Edition, EditionStatus
from digest.schedule import state
from digest.selection.window import edition_date_for, wall_clock_back

#: Delivery states an operator is shown (`uncertain`: the reply to the final "." was lost).
SHOWN = ("pending", "deferred", "uncertain", "failed")


@dataclass
class LanguageStatus:
    language: str
    #: Key and status of the newest frozen edition, None before the first.
    last_edition: str | None
    last_status: str | None
    #: ok | sending | failed | overdue | waiting (nothing due yet) | none (nothing to send)
    outcome: str
    last_due: datetime
    next_run: datetime
    deliveries: dict[str, int] = field(default_factory=dict)
    last_error: str | None = None
    #: Of the deliveries left, those whose send time passed more than the grace ago.
    late: int = 0


@dataclass
class Status:
    languages: list[LanguageStatus]
    scheduler: state.SchedulerView | None
    scheduler_alive: bool
    problems: list[str] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK


def status(db: Database, settings: Settings, now: datetime) -> Status:
    """Everything `digest status` shows, and its exit code."""
    scheduler = state.latest(db)
    alive = scheduler is not None and scheduler.alive(now)
    report = Status([], scheduler, alive)
    if scheduler is not None and scheduler.at and scheduler.timezone:
        # `digest schedule --at/--tz` runs the day by its own send time: judge by that.
        schedule = replace(settings.schedule, at=scheduler.at, timezone=scheduler.timezone)
        settings = replace(settings, schedule=schedule)
    with db.session() as session:
        for language in settings.site.languages:
            report.languages.append(_language(session, settings, language, now))
    if scheduler is not None and scheduler.stopped_at is None and not alive:
        report.problems.append(
            f"scheduler {scheduler.owner} has not written a heartbeat since "
            f"{scheduler.heartbeat_at:%Y-%m-%dT%H:%M:%SZ}: it is no longer running"
        )
    grace = settings.schedule.grace
    for entry in report.languages:
        if entry.outcome in ("failed", "overdue"):
            report.problems.append(f"{entry.language}: last scheduled edition {entry.outcome}")
        if entry.late:
            report.problems.append(
                f"{entry.language}: {entry.late} delivery(ies) still not sent more than "
                f"schedule.grace ({grace}) after their send time"
            )
        if alive and scheduler is not None and scheduler.next_run_at is not None:
            entry.next_run = min(entry.next_run, scheduler.next_run_at)
        error = scheduler.last_error if scheduler is not None else None
        if entry.last_error is None and error and f"/{entry.language}:" in error:
            entry.last_error = error
    remaining = sum(
        entry.deliveries.get(kind, 0)
        for entry in report.languages
        for kind in ("pending", "deferred", "uncertain")
    )
    if report.problems:
        report.exit_code = ExitCode.ERROR
    elif remaining:
        report.exit_code = ExitCode.PARTIAL
    return report


def _language(session: Session, settings: Settings, language: str, now: datetime) -> LanguageStatus:
    last_day, last_due = _latest_due(session, settings, language, now)
    next_due = editions.scheduled_at(session, settings, last_day + timedelta(days=1), language)
    last = session.scalars(
        select(Edition)
        .where(Edition.language == language, Edition.frozen_at.is_not(None))
        .order_by(Edition.date.desc())
        .limit(1)
    ).first()
    entry = LanguageStatus(
        language,
        last.key if last else None,
        last.status if last else None,
        "ok",
        last_due,
        next_due,
    )
    ids = [last.id] if last else []
    ids += [e.id for e in editions.open_editions(session, [language]) if e.id not in ids]
    entry.deliveries = _counts(session, ids)
    entry.late = _late(session, ids, now - settings.schedule.grace_period)
    failed_run = _failed_run(session, ids)
    entry.last_error = failed_run or _last_error(session, ids)
    entry.outcome = _outcome(session, settings, language, last, last_day, last_due, now)
    if failed_run is not None and entry.outcome in ("ok", "sending"):
        entry.outcome = "failed"  # its last send run ended on a relay-wide refusal
    elif entry.late and entry.outcome in ("ok", "sending"):
        entry.outcome = "overdue"  # deliveries left past the grace
    return entry


def _latest_due(
    session: Session, settings: Settings, language: str, now: datetime
) -> tuple[date, datetime]:
    day = edition_date_for(now, settings.schedule.timezone) + timedelta(days=2)
    while (due := editions.scheduled_at(session, settings, day, language)) > now:
        day -= timedelta(days=1)
    return day, due


def _outcome(
    session: Session,
    settings: Settings,
    language: str,
    last: Edition | None,
    last_day: date,
    last_due: datetime,
    now: datetime,
) -> str:
    if last is not None and last.date >= last_day:
        return "ok" if last.status == EditionStatus.SENT else "sending"
    if last is not None:
        since = last.window_end
    else:  # the first edition looks back `window_hours` (`selection.window`), no further
        since = wall_clock_back(
            last_due, settings.selection.window_hours, settings.schedule.timezone
        )
    if not _articles_waiting(session, language, since, last_due):
        return "none"  # nothing was published to send
    if now - last_due > settings.schedule.grace_period:
        return "overdue"
    return "waiting"


def _articles_waiting(session: Session, language: str, since: datetime, until: datetime) -> bool:
    """Whether an article of `language` published in [since, until) waits for an edition.
    A fresh install's backlog older than the first edition's window is not: counting it
    called the edition overdue for ever, though `digest send` had nothing to send (a
    breaker pass)."""
    query = select(func.count(Article.id)).where(
        Article.language == language,
        Article.published_at >= since,
        Article.published_at < until,
        Article.held_at.is_(None),
    )
    return bool(session.scalar(query))


def _counts(session: Session, edition_ids: list[int]) -> dict[str, int]:
    found = {kind: 0 for kind in SHOWN}
    if not edition_ids:
        return found
    rows = session.execute(
        select(Delivery.status, func.count(Delivery.id))
        .where(Delivery.edition_id.in_(edition_ids))
        .group_by(Delivery.status)
    )
    for status_value, number in rows:
        kind = "pending" if status_value == DeliveryStatus.SENDING else str(status_value)
        if kind in found:
            found[kind] += int(number)
    return found


def _failed_run(session: Session, edition_ids: list[int]) -> str | None:
    """The error of the newest send run that failed as a whole (and is the edition's
    last run): a relay-wide refusal, the relay unreachable. None: no such edition."""
    if not edition_ids:
        return None
    row = session.execute(
        select(Edition.date, Edition.language, Edition.last_send_error)
        .where(Edition.id.in_(edition_ids), Edition.last_send_error.is_not(None))
        .order_by(Edition.last_send_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    day, language, error = row
    return f"last send run of {day.isoformat()}/{language} failed: {error}"


def _late(session: Session, edition_ids: list[int], due_before: datetime) -> int:
    """Deliveries not yet sent (pending, sending, deferred) whose send time (their zone's,
    else the edition's) was before `due_before`: past `schedule.grace`."""
    if not edition_ids:
        return 0
    due = func.coalesce(Delivery.due_at, Edition.scheduled_at, Edition.frozen_at)
    open_states = [DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.DEFERRED]
    return (
        session.scalar(
            select(func.count(Delivery.id))
            .join(Edition, Edition.id == Delivery.edition_id)
            .where(
                Delivery.edition_id.in_(edition_ids),
                Delivery.status.in_(open_states),
                due < due_before,
            )
        )
        or 0
    )


def _last_error(session: Session, edition_ids: list[int]) -> str | None:
    if not edition_ids:
        return None
    return session.scalar(
        select(Delivery.last_error)
        .where(
            Delivery.edition_id.in_(edition_ids),
            Delivery.last_error.is_not(None),
            Delivery.status.in_(["failed", "deferred", "uncertain", "pending"]),
        )
        .order_by(Delivery.updated_at.desc())
        .limit(1)
    )
