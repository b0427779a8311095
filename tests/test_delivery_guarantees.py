"""Guarantees that each have a test going red when one line of them is removed.

1. A delivery is durably `sending` before its DATA begins (the "before DATA" step).
2. On PostgreSQL, concurrent claims never overlap (SKIP LOCKED), driven with a barrier.
3. A run longer than its lease keeps renewing it (the heartbeat on the injected clock).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from digest import outbox
from digest.config import Settings
from digest.db import Database
from digest.delivery.clock import Clock, ManualClock, SystemClock
from digest.delivery.options import SendOptions
from digest.delivery.results import DrainResult
from digest.delivery.run import drain
from digest.message import MessageSkeleton, Recipient
from digest.transport import SmtpTransport
from digest.transport_urls import parse_smtp_url
from subscribers.models import Subscriber
from tests.delivery_support import START, make_outbox, statuses
from tests.test_send_support import FaultyHandler, SmtpServer


def skeleton() -> MessageSkeleton:
    return MessageSkeleton(
        from_address="Arab Press <digest@arabpress.example>",
        subject="Today",
        html="<p>%%DIGEST_GREETING%%</p>",
        text="%%DIGEST_GREETING%%",
        list_id="Arab Press <digest.arabpress.example>",
        unsubscribe_mailto="unsubscribe@arabpress.example",
    )


def recipient(subscriber: Subscriber) -> Recipient:
    return Recipient(subscriber.email, "", "Hello", "https://arabpress.example/u/token")


def run_drain(
    db: Database,
    edition_id: int,
    server: SmtpServer,
    *,
    clock: Clock,
    options: SendOptions,
    owner: str | None = None,
) -> DrainResult:
    transport = SmtpTransport(parse_smtp_url(server.url), password=None, timeout=5.0)
    return drain(
        db,
        edition_id,
        skeleton=skeleton(),
        recipient_for=recipient,
        transport=transport,
        identity=Settings().mail_identity,
        clock=clock,
        options=options,
        message_id_for=lambda number: f"<{number}@arabpress.example>",
        owner=owner,
    )


def delivery_status(engine: sa.Engine, email: str) -> str:
    with engine.connect() as connection:
        return str(
            connection.execute(
                sa.text(
                    "select d.status from deliveries d join subscribers s"
                    " on s.id = d.subscriber_id where s.email = :email"
                ),
                {"email": email},
            ).scalar_one()
        )


@pytest.mark.parametrize("pipelining", [False, True], ids=["one-by-one", "pipelined"])
def test_a_delivery_is_durably_sending_before_its_data(database_url: str, pipelining: bool) -> None:
    """Seen from another connection while the server holds the message: the row is
    `sending`, and the connection's previous message is already recorded `sent`."""
    db, edition_id = make_outbox(database_url, 6)
    observer = sa.create_engine(database_url)
    seen: list[tuple[str, str, str | None]] = []
    order: list[str] = []

    def at_data(address: str) -> None:
        previous = delivery_status(observer, order[-1]) if order else None
        seen.append((address, delivery_status(observer, address), previous))
        order.append(address)

    handler = FaultyHandler(on_data=at_data, pipelining=pipelining)
    try:
        with SmtpServer(handler) as server:
            result = run_drain(
                db, edition_id, server, clock=SystemClock(), options=SendOptions(concurrency=1)
            )
    finally:
        observer.dispose()
        db.dispose()
    assert result.sent == 6
    assert [status for _address, status, _previous in seen] == ["sending"] * 6
    assert [previous for _address, _status, previous in seen] == [None] + ["sent"] * 5


class HoldFirstMessage(FaultyHandler):
    """Holds the reply to the first message's final "." until `others` more messages
    have arrived (or `limit` seconds pass); a second connection's EHLO is answered only
    once that hold began, so its first "before DATA" mark has no commit to ride on."""

    def __init__(self, others: int, limit: float = 20.0) -> None:
        super().__init__()
        self.others, self.limit = others, limit
        self.holding = threading.Event()
        self.released_by_others: bool | None = None

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # type: ignore[no-untyped-def]
        if self.connections >= 1:
            await _until(self.holding.is_set, self.limit)
        return await super().handle_EHLO(server, session, envelope, hostname, responses)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        reply = await super().handle_DATA(server, session, envelope)
        if not self.holding.is_set():
            self.holding.set()
            self.released_by_others = await _until(
                lambda: len(self.received) > self.others, self.limit
            )
        return reply


async def _until(condition: Callable[[], bool], limit: float) -> bool:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def test_a_mark_never_waits_for_a_stalled_connection(database_url: str) -> None:
    """Group commit waits for the other connections' marks, but only briefly: while one
    connection waits on a slow reply, the other's marks commit and its messages go."""
    db, edition_id = make_outbox(database_url, 4)
    handler = HoldFirstMessage(others=3)
    try:
        with SmtpServer(handler) as server:
            result = run_drain(
                db, edition_id, server, clock=SystemClock(), options=SendOptions(concurrency=2)
            )
    finally:
        db.dispose()
    assert handler.released_by_others, "the second connection sent nothing during the hold"
    assert result.sent == 4
    assert handler.count() == {f"reader{n:03d}@example.com": 1 for n in range(4)}


def test_a_long_run_keeps_renewing_its_lease(database_url: str) -> None:
    """Each message takes 70 s of the injected clock, the lease is 120 s: without the
    heartbeat a rival run would take the rest over after the second message."""
    db, edition_id = make_outbox(database_url, 5)
    clock = ManualClock(START)
    rival = Database(database_url)
    stolen: list[int] = []

    def slow_message(_received: object) -> None:
        clock.advance(70)
        session = rival.sessions()
        try:  # what a rival run could take over now; rolled back, so the run goes on
            taken = outbox.claim(session, edition_id, "rival:1:1:x", clock.now(), 100)
            stolen.extend(item.delivery_id for item in taken.deliveries)
        finally:
            session.rollback()
            session.close()

    handler = FaultyHandler(on_message=slow_message)
    options = SendOptions(concurrency=1, lease=timedelta(seconds=120), heartbeat=20.0)
    try:
        with SmtpServer(handler) as server:
            result = run_drain(db, edition_id, server, clock=clock, options=options)
        assert stolen == [], "a rival run took over deliveries of a live run"
        assert result.sent == 5
        assert handler.count() == {f"reader{n:03d}@example.com": 1 for n in range(5)}
        assert statuses(db, edition_id) == {"sent": 5}
    finally:
        rival.dispose()
        db.dispose()


def _waiting_on_a_lock(engine: sa.Engine) -> bool:
    with engine.connect() as connection:
        return bool(
            connection.execute(
                sa.text(
                    "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                    " and datname = current_database()"
                )
            ).scalar()
        )


@pytest.mark.postgres_only("FOR UPDATE SKIP LOCKED: SQLite has one writer and no row locks")
def test_concurrent_claims_on_postgresql_never_overlap(postgres_url: str) -> None:
    """Claimer A holds its claim open; B claims meanwhile. With SKIP LOCKED, B takes other
    rows at once; without it B's claim waits for A and then takes A's rows again."""
    db, edition_id = make_outbox(postgres_url, 40)
    watcher = sa.create_engine(postgres_url)
    barrier = threading.Barrier(2, timeout=30)
    b_done = threading.Event()
    claimed: dict[str, set[int]] = {}
    errors: list[BaseException] = []

    def claimer(name: str, hold: Callable[[], None]) -> None:
        try:
            session = db.sessions()
            try:
                if name == "B":
                    barrier.wait()
                taken = outbox.claim(session, edition_id, f"host:{name}:1:x", START, 10)
                claimed[name] = {item.delivery_id for item in taken.deliveries}
                hold()
                session.commit()
            finally:
                session.close()
        except BaseException as e:
            errors.append(e)
        finally:
            if name == "B":
                b_done.set()

    def a_holds() -> None:
        barrier.wait()  # B starts its claim now, while A's is uncommitted
        deadline = time.monotonic() + 30
        while not (b_done.is_set() or _waiting_on_a_lock(watcher)):
            assert time.monotonic() < deadline, "B neither finished nor waited"
            time.sleep(0.01)

    threads = [
        threading.Thread(target=claimer, args=("A", a_holds)),
        threading.Thread(target=claimer, args=("B", lambda: None)),
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        assert len(claimed["A"]) == len(claimed["B"]) == 10
        assert claimed["A"].isdisjoint(claimed["B"]), "two claimers took the same deliveries"
    finally:
        watcher.dispose()
        db.dispose()


def test_a_delivery_whose_lease_was_taken_over_is_not_sent(database_url: str) -> None:
    """The "before DATA" step finds the row leased to another run: no DATA for it here."""
    db, edition_id = make_outbox(database_url, 5)
    clock = ManualClock(START)
    rival = Database(database_url)
    taken: list[int] = []

    def stall(_received: object) -> None:
        if taken:
            return
        clock.advance(300)  # past the lease: another run may take the rest over
        with rival.session() as session:
            claim = outbox.claim(session, edition_id, "rival:1:1:x", clock.now(), 100)
            taken.extend(item.delivery_id for item in claim.deliveries)

    handler = FaultyHandler(on_message=stall)
    options = SendOptions(concurrency=1, lease=timedelta(seconds=120), heartbeat=1000.0)
    try:
        with SmtpServer(handler) as server:
            result = run_drain(db, edition_id, server, clock=clock, options=options)
        assert len(taken) >= 4  # (the first too: its outcome was not yet recorded)
        assert result.sent == 1
        assert sum(handler.count().values()) == 1
        assert statuses(db, edition_id) == {"sent": 1, "pending": 4}
    finally:
        rival.dispose()
        db.dispose()
