"""An edition's life: its window, its freeze under an edition-level lock, and what it is.

An edition is keyed (date, language, variant); a *line* is (language, variant). Windows of
one line tile (`digest.selection.window`): each starts where the line's previous frozen
edition ended. Freezing takes the line's lock, so two schedulers, or a scheduler and a
manual `digest send`, never freeze twice nor freeze overlapping windows: an immediate
transaction (`BEGIN IMMEDIATE`) on SQLite, a row lock (`SELECT ... FOR UPDATE` on the
line's `edition_locks` row) on PostgreSQL. Holds and revisions are in `digest.holds`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.characters import storable_text
from digest.config import Settings
from digest.db import Database
from digest.errors import EditionError
from digest.models import Edition, EditionItem, EditionLock, EditionStatus
from digest.selection.plan import EditionPlan, Window
from digest.selection.window import send_time, tiled_window
from subscribers.models import Status, Subscriber

if TYPE_CHECKING:
    from digest.render import RenderedEdition

#: What a freeze needs from selection and rendering: the plan over a window, rendered;
#: None when the window holds nothing to send.
Composer = Callable[[Session, Window], "tuple[EditionPlan, RenderedEdition] | None"]
#: What else is frozen with a new edition, in the same transaction: the wider pool of ranked
#: stories and each reader group's variant (`digest.readers.freeze_variants`).
Extras = Callable[[Session, EditionPlan, Edition], None]


@dataclass(frozen=True)
class FrozenEdition:
    """A frozen edition as a value: what every delivery of its current revision gets."""

    id: int
    key: str
    date: date
    language: str
    variant: str
    status: str
    revision: int
    subject: str
    preheader: str
    html: str
    text: str
    window: Window
    scheduled_at: datetime | None
    frozen_at: datetime

    @classmethod
    def of(cls, edition: Edition) -> FrozenEdition:
        return cls(
            edition.id, edition.key, edition.date, edition.language, edition.variant,
            edition.status, edition.revision, edition.subject, edition.preheader,
            edition.html_template, edition.text_template,
            Window(edition.window_start, edition.window_end), edition.scheduled_at,
            edition.frozen_at or edition.created_at,
        )  # fmt: skip


@dataclass(frozen=True)
class EditionWindow:
    """The window an edition had (frozen) or would have if frozen at `now`.

    `early`: frozen (or freezing) before its scheduled time, so its window ends then and
    the next edition's window starts there. `previous`: key of the edition whose end
    this window starts at, None for the line's first edition.
    """

    date: date
    language: str
    window: Window
    scheduled_at: datetime
    early: bool
    frozen: bool
    previous: str | None


def find(session: Session, day: date, language: str, variant: str = "") -> Edition | None:
    return session.scalars(
        select(Edition).where(
            Edition.date == day, Edition.language == language, Edition.variant == variant
        )
    ).first()


def _frozen_of_line(language: str, variant: str) -> object:
    return (
        (Edition.language == language)
        & (Edition.variant == variant)
        & Edition.frozen_at.is_not(None)
    )


def previous_frozen(
    session: Session, day: date, language: str, variant: str = ""
) -> Edition | None:
    """The line's newest frozen edition dated before `day`."""
    return session.scalars(
        select(Edition)
        .where(_frozen_of_line(language, variant), Edition.date < day)  # type: ignore[arg-type]
        .order_by(Edition.date.desc())
        .limit(1)
    ).first()


def later_frozen(session: Session, day: date, language: str, variant: str = "") -> Edition | None:
    """The line's oldest frozen edition dated after `day` (freezing `day` would then
    repeat news that edition already covered)."""
    return session.scalars(
        select(Edition)
        .where(_frozen_of_line(language, variant), Edition.date > day)  # type: ignore[arg-type]
        .order_by(Edition.date)
        .limit(1)
    ).first()


def subscriber_zones(session: Session, language: str, site_zone: str) -> list[str]:
    """Time zones of the language's active subscribers (the site's for those with none)."""
    zones = session.scalars(
        select(Subscriber.timezone)
        .where(Subscriber.status == Status.ACTIVE, Subscriber.language == language)
        .distinct()
    )
    return sorted({zone or site_zone for zone in zones} or {site_zone})


def send_times(session: Session, settings: Settings, day: date, language: str) -> list[datetime]:
    """Every moment some reader is due `day`'s edition, earliest first: `schedule.at` in
    `schedule.timezone`; with `schedule.local_time`, `schedule.at` in each readers' zone
    (they span up to 26 hours, UTC-12 to UTC+14)."""
    schedule = settings.schedule
    if not schedule.local_time:
        return [send_time(day, schedule.at, schedule.timezone)]
    zones = subscriber_zones(session, language, schedule.timezone)
    return sorted({send_time(day, schedule.at, zone) for zone in zones})


def scheduled_at(session: Session, settings: Settings, day: date, language: str) -> datetime:
    """When `day`'s edition is due (frozen): `schedule.at` in `schedule.timezone`; with
    `schedule.local_time`, at `schedule.at` in the first of the readers' zones."""
    return send_times(session, settings, day, language)[0]


def last_send_time(session: Session, settings: Settings, day: date, language: str) -> datetime:
    """When the last reader is due `day`'s edition: after this plus `schedule.grace`
    nobody may get it any more (see `digest.schedule.loop`)."""
    return send_times(session, settings, day, language)[-1]


def window_for(
    session: Session, settings: Settings, day: date, language: str, now: datetime
) -> EditionWindow:
    """The window `day`'s edition had, or would have if frozen at `now`."""
    edition = find(session, day, language)
    if edition is not None and edition.frozen_at is not None:
        window = Window(edition.window_start, edition.window_end)
        due = edition.scheduled_at or window.end
        before = previous_frozen(session, day, language)
        return EditionWindow(
            day, language, window, due, window.end < due, True, before.key if before else None
        )
    due = scheduled_at(session, settings, day, language)
    previous = previous_frozen(session, day, language)
    window = tiled_window(
        due,
        now,
        previous.window_end if previous is not None else None,
        window_hours=settings.selection.window_hours,
        timezone=settings.schedule.timezone,
    )
    return EditionWindow(
        day, language, window, due, now < due, False, previous.key if previous else None
    )


@contextmanager
def locked(db: Database, language: str, variant: str = "") -> Iterator[Session]:
    """A transaction holding the line's lock until it commits or rolls back.

    SQLite: `BEGIN IMMEDIATE` takes the database's write lock at once (other writers wait
    up to the busy timeout). PostgreSQL: the line's `edition_locks` row, created if
    missing, is locked `FOR UPDATE`; other lines and the outbox are not blocked.
    """
    with db.session() as session:
        connection = session.connection()
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            from sqlalchemy.dialects.postgresql import insert

            session.execute(
                insert(EditionLock)
                .values(language=language, variant=variant)
                .on_conflict_do_nothing()
            )
            session.execute(
                select(EditionLock)
                .where(EditionLock.language == language, EditionLock.variant == variant)
                .with_for_update()
            )
        yield session


@dataclass(frozen=True)
class Freeze:
    """What `freeze` did: the edition (None: nothing to send), its window, whether this
    call froze it (False: it was frozen already, by this or another process)."""

    edition: FrozenEdition | None
    window: EditionWindow
    created: bool


def freeze(
    db: Database,
    settings: Settings,
    day: date,
    language: str,
    now: datetime,
    compose: Composer,
    *,
    extras: Extras | None = None,
) -> Freeze:
    """The frozen edition for (day, language), freezing it now under the line's lock.

    Raises EditionError (field `date`) when a later edition of the line is frozen already
    (its window began where the last frozen one ended, so this one would repeat its news),
    or when `day` is not the next edition due (a mistyped date would otherwise freeze a
    far-future edition and lock out every date before it).
    """
    with locked(db, language) as session:
        existing = find(session, day, language)
        if existing is not None and existing.frozen_at is not None:
            choice = window_for(session, settings, day, language, now)
            return Freeze(FrozenEdition.of(existing), choice, created=False)
        later = later_frozen(session, day, language)
        if later is not None:
            raise EditionError(
                f"edition {day.isoformat()}/{language} comes before {later.key}, which is "
                "frozen already and covers its news",
                field="date",
                hint="send a later date",
            )
        before = scheduled_at(session, settings, day - timedelta(days=1), language)
        if now < before:
            raise EditionError(
                f"edition {day.isoformat()}/{language} is not the next one: the edition "
                f"before it is due at {before:%Y-%m-%dT%H:%M:%SZ}, and only the next edition "
                "may be frozen early",
                field="date",
            )
        choice = window_for(session, settings, day, language, now)
        composed = compose(session, choice.window)
        if composed is None:
            return Freeze(None, choice, created=False)
        plan, rendered = composed
        edition = insert_frozen(session, plan, rendered, now, scheduled=choice.scheduled_at)
        if extras is not None:
            extras(session, plan, edition)
        return Freeze(FrozenEdition.of(edition), choice, created=True)


def insert_frozen(
    session: Session,
    plan: EditionPlan,
    rendered: RenderedEdition,
    now: datetime,
    *,
    scheduled: datetime | None = None,
    pool: str = "",
) -> Edition:
    """Store the plan and its rendering as revision 1; from here on only a hold changes it.

    `pool` is the wider selection reader variants draw on (`readers.encoded_pool`)."""
    edition = Edition(
        date=plan.date,
        language=plan.language,
        variant="",
        status=EditionStatus.FROZEN,
        subject=rendered.subject,
        preheader=rendered.preheader,
        window_start=plan.window.start,
        window_end=plan.window.end,
        scheduled_at=scheduled,
        revision=1,
        html_template=rendered.html,
        text_template=rendered.text,
        created_at=now,
        frozen_at=now,
        pool=pool,
    )
    session.add(edition)
    session.flush()
    position = 0
    for story in plan.stories:
        top = EditionItem(
            edition_id=edition.id,
            article_id=story.article.id,
            position=position,
            role="top",
            score=story.score,
        )
        session.add(top)
        session.flush()
        position += 1
        for item in story.related:
            session.add(
                EditionItem(
                    edition_id=edition.id,
                    article_id=item.article.id,
                    position=position,
                    role="related",
                    parent_id=top.id,
                    score=item.similarity,
                )
            )
            position += 1
    session.flush()
    return edition


def frozen(db: Database, day: date, language: str) -> FrozenEdition | None:
    """The frozen edition for (day, language), its current revision; None if not frozen."""
    with db.session() as session:
        edition = find(session, day, language)
        if edition is None or edition.frozen_at is None:
            return None
        return FrozenEdition.of(edition)


def reload(db: Database, edition_id: int) -> FrozenEdition:
    with db.session() as session:
        edition = session.get(Edition, edition_id)
        if edition is None:
            raise EditionError(f"edition {edition_id} no longer exists", field="edition")
        return FrozenEdition.of(edition)


def revision_of(db: Database, edition_id: int) -> int | None:
    """The edition's current revision (None if it was deleted)."""
    with db.session() as session:
        return session.scalar(select(Edition.revision).where(Edition.id == edition_id))


def set_status(db: Database, edition_id: int, status: str) -> None:
    """Mark a send run's start ("sending"); its end is `delivery.reports.settle_edition`."""
    with db.session() as session:
        edition = session.get(Edition, edition_id)
        if edition is not None:
            edition.status = status


def note_send_run(db: Database, edition_id: int, now: datetime, error: str | None) -> None:
    """Record how the edition's latest send run ended: `error` when it failed as a whole
    (the relay refused everyone, or could not be reached or used), None otherwise;
    `digest status` reports the edition as failed while the error stands."""
    with db.session() as session:
        edition = session.get(Edition, edition_id)
        if edition is not None:
            edition.last_send_at = now
            edition.last_send_error = storable_text(error[:2000]) if error else None


def open_editions(session: Session, languages: Sequence[str]) -> list[Edition]:
    """Frozen editions not yet fully sent, oldest first."""
    return list(
        session.scalars(
            select(Edition)
            .where(
                Edition.language.in_(list(languages)),
                Edition.frozen_at.is_not(None),
                Edition.status != EditionStatus.SENT,
            )
            .order_by(Edition.date, Edition.language)
        )
    )
