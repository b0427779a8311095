"""The subscriber store: add, change status, look up, stream. Sessions come from the caller."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subscribers.errors import SubscriberError, UnknownSubscriber
from subscribers.models import Status, Subscriber
from subscribers.validation import (
    check_language,
    check_sections,
    check_timezone,
    clean_name,
    normalise_email,
)

#: Statuses that must never be mailed and that `add` must not silently undo.
SUPPRESSED = frozenset({Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED})


@dataclass(frozen=True)
class SubscriberFields:
    email: str
    name: str = ""
    language: str | None = None
    sections: str | list[str] | None = None
    timezone: str | None = None


def find(session: Session, email: str) -> Subscriber | None:
    address = normalise_email(email)
    return session.scalars(select(Subscriber).where(Subscriber.email == address.email)).first()


def get(session: Session, email: str) -> Subscriber:
    subscriber = find(session, email)
    if subscriber is None:
        raise UnknownSubscriber(f"no subscriber {email.strip()!r}")
    return subscriber


def add(
    session: Session,
    fields: SubscriberFields,
    *,
    languages: tuple[str, ...],
    now: datetime,
    sections: tuple[str, ...] | None = None,
) -> tuple[Subscriber, bool]:
    """Add an active subscriber, or update an existing one's details. True if created.

    An unsubscribed, bounced or complained address is not resubscribed here.
    """
    address = normalise_email(fields.email)
    name = clean_name(fields.name)
    language = check_language(fields.language, languages)
    section_list = check_sections(fields.sections, sections)
    timezone = check_timezone(fields.timezone)
    existing = session.scalars(select(Subscriber).where(Subscriber.email == address.email)).first()
    if existing is not None:
        if existing.status in SUPPRESSED:
            raise SubscriberError(
                f"{address.email} is {existing.status}; use 'digest subscribers resubscribe' "
                "if they asked to come back"
            )
        existing.name = name or existing.name
        existing.language = language
        existing.sections = section_list
        existing.timezone = timezone
        existing.updated_at = now
        return existing, False
    subscriber = Subscriber(
        email=address.email,
        name=name,
        language=language,
        sections=section_list,
        timezone=timezone,
        status=Status.ACTIVE,
        smtputf8=address.smtputf8,
        bounce_count=0,
        created_at=now,
        updated_at=now,
        confirmed_at=now,
    )
    session.add(subscriber)
    session.flush()
    return subscriber, True


def count(session: Session, status: str | None = None) -> int:
    query = select(func.count(Subscriber.id))
    if status:
        query = query.where(Subscriber.status == status)
    return session.scalar(query) or 0


def iter_subscribers(
    session: Session,
    *,
    status: str | None = None,
    language: str | None = None,
    batch_size: int = 1000,
) -> Iterator[Subscriber]:
    """Stream in id order, a batch at a time: memory stays flat however long the list."""
    last_id = 0
    while True:
        query = select(Subscriber).where(Subscriber.id > last_id)
        if status:
            query = query.where(Subscriber.status == status)
        if language:
            query = query.where(Subscriber.language == language)
        batch = list(session.scalars(query.order_by(Subscriber.id).limit(batch_size)))
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id
        session.expunge_all()


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
        subscriber.status = Status.BOUNCED
        subscriber.bounced_at = now
        return True
    return False
