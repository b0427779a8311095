"""Double opt-in: a sign-up waits as `pending` until the reader confirms from the email.

`request` stores what a sign-up form asked for and says which email to send; `confirm`
is the confirmation link's POST. The rules:
- a new address is stored `pending` with a fresh nonce; its confirmation link carries the
  nonce, and confirming clears it, so each link works once (a replay changes nothing);
- a known active address is changed in no way (a stranger must not be able to edit a
  subscriber's choices) and is sent an "already subscribed" email instead;
- an unsubscribed, bounced or complained address stays so: only confirming a new
  link brings it back;
- the caller answers the form the same way in every case, so nobody can probe the list.
Sessions and the current time come from the caller; nothing here commits or sends.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers import status as transitions
from subscribers import store
from subscribers.models import Status, Subscriber
from subscribers.status import SUPPRESSED
from subscribers.store import SubscriberFields
from subscribers.tokens import ConfirmClaim, InvalidToken
from subscribers.validation import normalise_email


class SignupAnswer(StrEnum):
    """Which email a sign-up gets (never shown to whoever sent the form)."""

    CONFIRM = "confirm"  # a confirmation link
    ALREADY = "already"  # "you are already subscribed"


@dataclass(frozen=True)
class Signup:
    """What to send after a sign-up: to whom, in which language, with which nonce."""

    answer: SignupAnswer
    subscriber_id: int
    email: str
    name: str
    language: str
    smtputf8: bool
    #: The nonce the confirmation link must carry (None for ALREADY).
    nonce: str | None


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def request(
    session: Session,
    fields: SubscriberFields,
    *,
    languages: tuple[str, ...],
    now: datetime,
    sections: tuple[str, ...] | None = None,
) -> Signup:
    """Record a sign-up; InvalidSubscriber names a bad field (nothing is stored then).

    A pending address takes the details given (it was never confirmed, and is not
    mailed until it is); an unsubscribed, bounced or complained one keeps its own, which
    a confirmed reader chose: anyone can send the form, and a breaker pass rewrote a
    former reader's name, language and sections without their confirming anything (the
    preferences page changes them after). An outstanding nonce is kept, so every
    confirmation email sent for the same sign-up works until one of them is used.
    """
    address = normalise_email(fields.email)
    given = store.given_fields(fields, languages, sections)
    existing = session.scalars(select(Subscriber).where(Subscriber.email == address.email)).first()
    if existing is None:
        subscriber, _ = store.create(
            session,
            address.email,
            address.smtputf8,
            given,
            languages,
            now,
            status=Status.PENDING,
            confirm_nonce=new_nonce(),
        )
        return _signup(SignupAnswer.CONFIRM, subscriber)
    if existing.status == Status.ACTIVE:
        return _signup(SignupAnswer.ALREADY, existing)
    if existing.status == Status.PENDING:
        for key, value in given.items():
            setattr(existing, key, value)
    if existing.confirm_nonce is None:
        existing.confirm_nonce = new_nonce()
    existing.updated_at = now
    session.flush()
    return _signup(SignupAnswer.CONFIRM, existing)


def pending(session: Session, email: str, *, now: datetime) -> Signup:
    """The operator's `subscribers add --pending` for an address already stored: a new
    confirmation unless it is active (UnknownSubscriber if there is none)."""
    subscriber = store.get(session, email)
    if subscriber.status == Status.ACTIVE:
        return _signup(SignupAnswer.ALREADY, subscriber)
    if subscriber.confirm_nonce is None:
        subscriber.confirm_nonce = new_nonce()
        subscriber.updated_at = now
    return _signup(SignupAnswer.CONFIRM, subscriber)


def _signup(answer: SignupAnswer, subscriber: Subscriber) -> Signup:
    return Signup(
        answer,
        subscriber.id,
        subscriber.email,
        subscriber.name,
        subscriber.language,
        bool(subscriber.smtputf8),
        subscriber.confirm_nonce if answer == SignupAnswer.CONFIRM else None,
    )


def waiting(session: Session, secret_key: str, claim: ConfirmClaim) -> Subscriber:
    """The subscriber a confirmation token names, if that sign-up still waits.

    Raises InvalidToken otherwise (gone, address changed, already used, or replaced):
    every such case looks the same to the person holding the link."""
    subscriber = session.get(Subscriber, claim.subscriber_id)
    if subscriber is None or not claim.matches(
        secret_key, subscriber.email, subscriber.confirm_nonce
    ):
        raise InvalidToken()
    return subscriber


def confirm(session: Session, secret_key: str, claim: ConfirmClaim, now: datetime) -> Subscriber:
    """Make the subscriber active and use up the link (InvalidToken as `waiting`)."""
    subscriber = waiting(session, secret_key, claim)
    if subscriber.status in SUPPRESSED:
        transitions.reactivate(subscriber, now)
    else:
        transitions.move(subscriber, Status.ACTIVE, now)
    subscriber.confirm_nonce = None
    subscriber.updated_at = now
    return subscriber
