"""The subscriber store: add, change status, remove, look up, stream.

Sessions and the current time come from the caller; nothing here commits, prints or exits.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from subscribers import status as transitions
from subscribers.errors import SubscriberError, SuppressedSubscriber, UnknownSubscriber
from subscribers.models import Status, Subscriber
from subscribers.status import SUPPRESSED
from subscribers.tokens import read_token
from subscribers.validation import (
    check_language,
    check_sections,
    check_timezone,
    clean_name,
    normalise_email,
)

__all__ = [
    "SUPPRESSED",
    "Outcome",
    "Removed",
    "SubscriberFields",
    "add",
    "count",
    "count_address_failure",
    "find",
    "find_by_token",
    "get",
    "given_fields",
    "iter_records",
    "iter_subscribers",
    "mark",
    "move_by_id",
    "record_permanent_failure",
    "remove",
    "resubscribe",
    "unsubscribe",
]


@dataclass(frozen=True)
class SubscriberFields:
    """What a caller may set; None (or empty) leaves a stored value as it is."""

    email: str
    name: str | None = None
    language: str | None = None
    sections: str | list[str] | None = None
    timezone: str | None = None


class Outcome(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Removed:
    email: str
    status: str


def find(session: Session, email: str) -> Subscriber | None:
    address = normalise_email(email)
    return session.scalars(select(Subscriber).where(Subscriber.email == address.email)).first()


def get(session: Session, email: str) -> Subscriber:
    subscriber = find(session, email)
    if subscriber is None:
        raise UnknownSubscriber(f"no subscriber {normalise_email(email).email}")
    return subscriber


def given_fields(
    fields: SubscriberFields, languages: tuple[str, ...], sections: tuple[str, ...] | None
) -> dict[str, str]:
    """The fields the caller gave, checked and normalised (errors name the field)."""
    given: dict[str, str] = {}
    if fields.name and fields.name.strip():
        given["name"] = clean_name(fields.name)
    if fields.language and fields.language.strip():
        given["language"] = check_language(fields.language, languages)
    if fields.sections is not None:
        given["sections"] = check_sections(fields.sections, sections)
    if fields.timezone and fields.timezone.strip():
        given["timezone"] = check_timezone(fields.timezone)
    return given


def add(
    session: Session,
    fields: SubscriberFields,
    *,
    languages: tuple[str, ...],
    now: datetime,
    sections: tuple[str, ...] | None = None,
    check_deliverability: bool = False,
) -> tuple[Subscriber, Outcome]:
    """Add an active subscriber, or update the given details of an existing one.

    A pending subscriber becomes active. An unsubscribed, bounced or complained address
    is refused (SuppressedSubscriber): only `resubscribe` brings it back.
    """
    address = normalise_email(fields.email, check_deliverability=check_deliverability)
    given = given_fields(fields, languages, sections)
    existing = session.scalars(select(Subscriber).where(Subscriber.email == address.email)).first()
    if existing is None:
        return create(session, address.email, address.smtputf8, given, languages, now)
    if existing.status in SUPPRESSED:
        raise SuppressedSubscriber(
            f"{existing.email} is {existing.status}; not subscribed again "
            "(use 'digest subscribers resubscribe' if they asked to come back)"
        )
    changed = False
    for key, value in given.items():
        if getattr(existing, key) != value:
            setattr(existing, key, value)
            changed = True
    changed = transitions.move(existing, Status.ACTIVE, now) or changed
    if changed:
        existing.updated_at = now
    return existing, Outcome.UPDATED if changed else Outcome.UNCHANGED


def create(
    session: Session,
    email: str,
    smtputf8: bool,
    given: dict[str, str],
    languages: tuple[str, ...],
    now: datetime,
    *,
    status: Status = Status.ACTIVE,
    confirm_nonce: str | None = None,
) -> tuple[Subscriber, Outcome]:
    subscriber = Subscriber(
        email=email,
        name=given.get("name", ""),
        language=given.get("language", languages[0]),
        sections=given.get("sections", ""),
        timezone=given.get("timezone", ""),
        status=status,
        smtputf8=smtputf8,
        bounce_count=0,
        created_at=now,
        updated_at=now,
        confirmed_at=now if status == Status.ACTIVE else None,
        confirm_nonce=confirm_nonce,
    )
    session.add(subscriber)
    try:
        session.flush()
    except IntegrityError:
        raise SubscriberError(
            f"{email} was added by another process at the same moment; run the command again"
        ) from None
    return subscriber, Outcome.ADDED


def remove(session: Session, email: str) -> Removed:
    """Delete a subscriber for good (their delivery records go with them)."""
    subscriber = get(session, email)
    removed = Removed(subscriber.email, subscriber.status)
    session.expunge(subscriber)
    session.execute(delete(Subscriber).where(Subscriber.id == subscriber.id))
    return removed


def unsubscribe(session: Session, email: str, now: datetime) -> tuple[Subscriber, bool]:
    """Stop mailing an address. False if it was already not mailed (any suppressed status)."""
    subscriber = get(session, email)
    return subscriber, transitions.move(subscriber, Status.UNSUBSCRIBED, now)


def resubscribe(session: Session, email: str, now: datetime) -> tuple[Subscriber, str]:
    """Make an address active again because the reader asked; returns the previous status."""
    subscriber = get(session, email)
    previous = subscriber.status
    transitions.reactivate(subscriber, now)
    return subscriber, previous


def mark(session: Session, subscriber: Subscriber, status: Status, now: datetime) -> bool:
    """Move a subscriber forward (e.g. to complained from a feedback report). True if moved."""
    return transitions.move(subscriber, status, now)


def find_by_token(session: Session, secret_key: str, token: str, list_id: str) -> Subscriber | None:
    """The subscriber a genuine token names; None if they are gone (or the id was reused).

    Raises InvalidToken for anything forged, damaged or made for another list.
    """
    claim = read_token(secret_key, token, list_id)
    subscriber = session.get(Subscriber, claim.subscriber_id)
    if subscriber is None or not claim.matches(secret_key, subscriber.email):
        return None
    return subscriber


def count(session: Session, status: str | None = None, language: str | None = None) -> int:
    query = select(func.count(Subscriber.id))
    if status:
        query = query.where(Subscriber.status == status)
    if language:
        query = query.where(Subscriber.language == language)
    return session.scalar(query) or 0


def _filtered(query: Any, status: str | None, language: str | None) -> Any:
    if status:
        query = query.where(Subscriber.status == status)
    if language:
        query = query.where(Subscriber.language == language)
    return query


def iter_subscribers(
    session: Session,
    *,
    status: str | None = None,
    language: str | None = None,
    batch_size: int = 1000,
) -> Iterator[Subscriber]:
    """Stream ORM subscribers in id order, a batch at a time: memory stays flat.

    Each batch is detached from the session once consumed, so treat them as read-only.
    """
    last_id = 0
    while True:
        query = _filtered(select(Subscriber).where(Subscriber.id > last_id), status, language)
        batch = list(session.scalars(query.order_by(Subscriber.id).limit(batch_size)))
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id
        for subscriber in batch:
            session.expunge(subscriber)


def iter_records(
    session: Session,
    *,
    status: str | None = None,
    language: str | None = None,
    batch_size: int = 2000,
) -> Iterator[Row[Any]]:
    """Stream plain rows (every column, attribute access) in id order: for listing and export."""
    table = Subscriber.__table__
    last_id = 0
    while True:
        query = _filtered(select(table).where(table.c.id > last_id), status, language)
        batch = session.execute(query.order_by(table.c.id).limit(batch_size)).all()
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id


def record_permanent_failure(
    session: Session, subscriber_id: int, *, threshold: int, now: datetime
) -> bool:
    """Count a permanent delivery failure (5xx); mark bounced at `threshold`. True if bounced."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return False
    subscriber.bounce_count = (subscriber.bounce_count or 0) + 1
    subscriber.updated_at = now
    if subscriber.status == Status.ACTIVE and threshold and subscriber.bounce_count >= threshold:
        return transitions.move(subscriber, Status.BOUNCED, now)
    return False


def _subscribers() -> Table:
    return cast(Table, Subscriber.__table__)


#: Built once: bounce processing runs these thousands of times a run.
_COUNT_FAILURE = (
    update(_subscribers())
    .where(_subscribers().c.id == bindparam("subscriber_id"))
    .values(bounce_count=_subscribers().c.bounce_count + 1, updated_at=bindparam("now"))
)
_MARK_BOUNCED = (
    update(_subscribers())
    .where(
        _subscribers().c.id == bindparam("subscriber_id"),
        _subscribers().c.status == Status.ACTIVE,
        _subscribers().c.bounce_count >= bindparam("threshold"),
    )
    .values(status=Status.BOUNCED, bounced_at=bindparam("now"), updated_at=bindparam("now"))
)


def count_address_failure(
    session: Session, subscriber_id: int, *, threshold: int, now: datetime
) -> bool:
    """`record_permanent_failure` in two UPDATE statements, without loading the row (for
    bounce processing, thousands a run). True if the subscriber became bounced."""
    connection = session.connection()
    params = {"subscriber_id": subscriber_id, "now": now}
    connection.execute(_COUNT_FAILURE, params)
    if not threshold:
        return False
    moved = connection.execute(_MARK_BOUNCED, {**params, "threshold": threshold})
    return bool(moved.rowcount)


def _move_statement(new: Status) -> Any:
    table = _subscribers()
    values: dict[str, Any] = {"status": new, "updated_at": bindparam("now")}
    if new in transitions.STAMPS:
        values[transitions.STAMPS[new]] = bindparam("now")
    return (
        update(table)
        .where(
            table.c.id == bindparam("subscriber_id"),
            table.c.status.in_(sorted(transitions.movable_to(new))),
        )
        .values(**values)
    )


_MOVES = {status: _move_statement(status) for status in transitions.STAMPS}


def move_by_id(session: Session, subscriber_id: int, new: Status, now: datetime) -> bool:
    """`status.move` as one UPDATE (same rule: forward only, stamping the time)."""
    statement = _MOVES[new] if new in _MOVES else _move_statement(new)
    moved = session.connection().execute(statement, {"subscriber_id": subscriber_id, "now": now})
    return bool(moved.rowcount)
