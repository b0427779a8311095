"""The outbox and the subscriber store on SQLite and PostgreSQL (`database_url`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import sqlalchemy as sa

from digest import outbox
from digest.delivery.reports import settle_edition
from digest.models import Delivery, DeliveryStatus, Edition, EditionStatus, FailureKind
from subscribers import store
from subscribers.models import Subscriber
from tests.delivery_support import START, make_outbox, statuses

ME, OTHER = "host:1:1:me", "host:2:1:other"


def test_claimed_rows_stay_pending_until_the_before_data_step(database_url: str) -> None:
    db, edition_id = make_outbox(database_url, 5)
    try:
        with db.session() as session:
            claimed = outbox.claim(session, edition_id, ME, START, 3)
        ids = [item.delivery_id for item in claimed.deliveries]
        assert len(ids) == 3 and statuses(db, edition_id) == {"pending": 5}
        with db.session() as session:
            assert outbox.claim(session, edition_id, OTHER, START, 10).deliveries[0].delivery_id
        with db.session() as session:  # the other run's rows are not ours to mark
            assert outbox.mark_sending(session, [*ids, 4, 5], ME, START) == set(ids)
        assert statuses(db, edition_id) == {"pending": 2, "sending": 3}
        later = START + outbox.LEASE + timedelta(seconds=1)
        with db.session() as session:  # leases expired: the abandoned sending ones come back
            again = outbox.claim(session, edition_id, OTHER, later, 10)
        assert sorted(item.delivery_id for item in again.deliveries) == [1, 2, 3, 4, 5]
        assert statuses(db, edition_id) == {"pending": 2, "deferred": 3}
    finally:
        db.dispose()


def test_outcomes_record_their_kind_and_only_address_failures_bounce(database_url: str) -> None:
    db, edition_id = make_outbox(database_url, 4)
    try:
        with db.session() as session:
            items = outbox.claim(session, edition_id, ME, START, 4).deliveries
        base = [
            outbox.Outcome(item.delivery_id, item.subscriber.id, DeliveryStatus.FAILED, 1, START)
            for item in items
        ]
        outcomes = [
            replace(base[0], kind=FailureKind.ADDRESS, error="550 5.1.1 unknown"),
            replace(base[1], kind=FailureKind.REFUSED, error="554 5.7.1 denied"),
            replace(base[2], status=DeliveryStatus.UNCERTAIN, message_id="<m@x>"),
            replace(base[3], status=DeliveryStatus.SENT, message_id="<n@x>"),
        ]
        with db.session() as session:
            bounced = outbox.record(session, outcomes, ME, bounce_threshold=1)
        assert bounced == 1
        with db.session() as session:
            rows = session.execute(
                sa.text("select id, status, failure_kind from deliveries order by id")
            ).all()
            counts = dict(
                session.execute(sa.text("select id, bounce_count from subscribers")).all()
            )
        assert [tuple(row) for row in rows] == [
            (1, "failed", "address"),
            (2, "failed", "refused"),
            (3, "uncertain", None),
            (4, "sent", None),
        ]
        assert counts == {1: 1, 2: 0, 3: 0, 4: 0}
        with db.session() as session:
            assert outbox.remaining(session, edition_id) == 0  # uncertain is not open
            assert outbox.requeue_uncertain(session, edition_id, START) == 1
            assert outbox.requeue(session, [2], START) == 1
        assert statuses(db, edition_id) == {"failed": 1, "pending": 2, "sent": 1}
    finally:
        db.dispose()


def test_release_gives_back_claimed_and_sending_rows(database_url: str) -> None:
    db, edition_id = make_outbox(database_url, 4)
    try:
        with db.session() as session:
            ids = [
                i.delivery_id for i in outbox.claim(session, edition_id, ME, START, 4).deliveries
            ]
            outbox.mark_sending(session, ids[:1], ME, START)
        with db.session() as session:
            assert outbox.release(session, edition_id, ME, START) == 4
        with db.session() as session:
            owners = session.execute(sa.text("select count(lease_owner) from deliveries"))
            assert owners.scalar() == 0
            assert len(outbox.claim(session, edition_id, OTHER, START, 10).deliveries) == 4
    finally:
        db.dispose()


def test_the_store_counts_bounces_up_to_the_threshold(database_url: str) -> None:
    db, _edition_id = make_outbox(database_url, 1)
    try:
        for expected in (False, True):
            with db.session() as session:
                assert store.record_permanent_failure(session, 1, threshold=2, now=START) is (
                    expected
                )
        with db.session() as session:
            subscriber = session.get(Subscriber, 1)
            assert subscriber is not None
            assert (subscriber.status, subscriber.bounce_count) == ("bounced", 2)
    finally:
        db.dispose()


def test_an_edition_is_settled_from_its_deliveries_as_they_stand(database_url: str) -> None:
    """Senders finishing at once each settle the edition (`send --workers`): one that
    counted another's deliveries still open, settling after the one that finished them,
    leaves it sent; `sent_at` is the first settling's time."""
    db, edition_id = make_outbox(database_url, 3)
    later = START + timedelta(minutes=5)
    with db.session() as session:
        assert settle_edition(session, edition_id, START) == EditionStatus.SENDING
        session.execute(
            sa.update(Delivery)
            .where(Delivery.edition_id == edition_id)
            .values(status=DeliveryStatus.SENT)
        )
    for when in (START, later):
        with db.session() as session:
            assert settle_edition(session, edition_id, when) == EditionStatus.SENT
    with db.session() as session:
        edition = session.get(Edition, edition_id)
        assert edition is not None and edition.sent_at == START
        session.execute(  # a delivery queued again (--resend-uncertain): sending again
            sa.update(Delivery)
            .where(Delivery.id == sa.select(sa.func.min(Delivery.id)).scalar_subquery())
            .values(status=DeliveryStatus.PENDING)
        )
    with db.session() as session:
        assert settle_edition(session, edition_id, later) == EditionStatus.SENDING
    db.dispose()
