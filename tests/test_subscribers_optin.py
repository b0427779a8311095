"""Double opt-in in the store, on SQLite and PostgreSQL: pending, nonce, confirm once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from digest.db import Database
from subscribers import optin, store
from subscribers.models import Status
from subscribers.store import SubscriberFields
from subscribers.tokens import (
    ConfirmClaim,
    InvalidToken,
    make_confirm_token,
    read_confirm_token,
)

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
KEY = "k" * 32
LIST = "digest.example.com"
LANGUAGES = ("en", "ar")


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()


def claim_for(signup: optin.Signup, now: datetime = NOW) -> ConfirmClaim:
    assert signup.nonce is not None
    token = make_confirm_token(KEY, signup.subscriber_id, LIST, signup.email, signup.nonce, now=now)
    return read_confirm_token(KEY, token, LIST, max_age=timedelta(hours=48), now=NOW)


def sign_up(db: Database, email: str, **fields: str) -> optin.Signup:
    with db.session() as session:
        return optin.request(
            session, SubscriberFields(email, **fields), languages=LANGUAGES, now=NOW
        )


def test_new_address_waits_then_confirms_once(db: Database) -> None:
    first = sign_up(db, "Reader@Example.com", name="Reader", language="ar")
    assert first.answer == optin.SignupAnswer.CONFIRM
    again = sign_up(db, "reader@example.com")
    assert again.nonce == first.nonce  # every email of one sign-up works
    with db.session() as session:
        assert store.get(session, "reader@example.com").status == Status.PENDING
        optin.confirm(session, KEY, claim_for(first), NOW)
    with db.session() as session:
        reader = store.get(session, "reader@example.com")
        assert (reader.status, reader.confirm_nonce, reader.language) == ("active", None, "ar")
        assert reader.confirmed_at == NOW
        with pytest.raises(InvalidToken):
            optin.confirm(session, KEY, claim_for(first), NOW)


def test_active_address_is_left_alone(db: Database) -> None:
    with db.session() as session:
        store.add(
            session, SubscriberFields("on@example.com", name="On"), languages=LANGUAGES, now=NOW
        )
    answer = sign_up(db, "on@example.com", name="Stranger", language="ar")
    assert (answer.answer, answer.nonce) == (optin.SignupAnswer.ALREADY, None)
    with db.session() as session:
        found = store.get(session, "on@example.com")
        assert (found.name, found.language, found.confirm_nonce) == ("On", "en", None)


def test_unsubscribed_address_returns_only_by_confirming(db: Database) -> None:
    with db.session() as session:
        store.add(session, SubscriberFields("off@example.com"), languages=LANGUAGES, now=NOW)
        store.unsubscribe(session, "off@example.com", NOW)
    signup = sign_up(db, "off@example.com")
    with db.session() as session:
        assert store.get(session, "off@example.com").status == Status.UNSUBSCRIBED
        optin.confirm(session, KEY, claim_for(signup), NOW + timedelta(hours=1))
        assert store.get(session, "off@example.com").status == Status.ACTIVE


def test_a_sign_up_does_not_rewrite_a_former_reader_s_details(db: Database) -> None:
    # Anyone can send the form: a breaker pass rewrote an unsubscribed reader's name,
    # language and time zone, and the confirmation went out in them.
    with db.session() as session:
        store.add(
            session,
            SubscriberFields("off@example.com", name="Sarah", language="en", timezone="UTC"),
            languages=LANGUAGES,
            now=NOW,
        )
        store.unsubscribe(session, "off@example.com", NOW)
    signup = sign_up(db, "off@example.com", name="Hacked <b>", language="ar", timezone="Asia/Tokyo")
    assert (signup.name, signup.language) == ("Sarah", "en")
    with db.session() as session:
        found = store.get(session, "off@example.com")
        assert (found.name, found.language, found.timezone) == ("Sarah", "en", "UTC")


def test_confirm_tokens_expire_and_do_not_pass_for_others() -> None:
    token = make_confirm_token(KEY, 7, LIST, "a@example.com", "n" * 22, now=NOW)
    read_confirm_token(KEY, token, LIST, max_age=timedelta(hours=48), now=NOW)
    for now, key, list_id in [
        (NOW + timedelta(hours=48, seconds=1), KEY, LIST),
        (NOW - timedelta(hours=1), KEY, LIST),
        (NOW, "x" * 32, LIST),
        (NOW, KEY, "digest.other.example"),
    ]:
        with pytest.raises(InvalidToken):
            read_confirm_token(key, token, list_id, max_age=timedelta(hours=48), now=now)
