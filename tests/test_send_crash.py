"""Crashes and parallel senders: `kill -9` mid-run and rerun, two processes on one edition."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa

from digest import outbox
from digest.db import Database
from digest.delivery.claims import Feeder
from digest.delivery.clock import SystemClock
from digest.delivery.control import RunControl
from digest.delivery.options import SendOptions
from digest.delivery.recorder import Recorder
from tests.backends import database_of
from tests.test_send_support import (
    DAY,
    FaultyHandler,
    SmtpServer,
    add_subscribers,
    copy_site,
    delivery_states,
    make_template,
    query,
    run_digest,
    set_mail,
)

CONCURRENCY = 4
T = TypeVar("T")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Path:
    return make_template(tmp_path_factory.mktemp("template"), backend)


def sender_process(
    config: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """`python -m digest send` in its own process, as cron would run it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    return subprocess.Popen(
        [sys.executable, "-m", "digest", "--config", str(config), "send", "--date", DAY,
         "--lang", "en", *extra],
        env={**clean, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def wait_until(condition: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.005)


@pytest.mark.parametrize("kill_after", [1, 45])
def test_kill_9_mid_run_then_rerun_misses_nobody(
    template: Path, tmp_path: Path, kill_after: int
) -> None:
    site = copy_site(template, tmp_path)
    everyone = [f"reader{number:03d}@example.com" for number in range(120)]
    add_subscribers(site, everyone)
    handler = FaultyHandler(delay=0.01)
    with SmtpServer(handler) as server:
        set_mail(site, transport=server.url, concurrency=CONCURRENCY)
        process = sender_process(site / "digest.toml")
        wait_until(lambda: sum(handler.count().values()) >= kill_after, "the first messages")
        assert process.poll() is None, "the sender finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        before = sum(handler.count().values())
        assert before < len(everyone)
        held = query(site, "select count(*) from deliveries where lease_owner is not null")
        assert held[0][0] > 0  # it died holding leases
        rerun = run_digest(site, "send", "--date", DAY, "--lang", "en")
    assert rerun.exit_code == 0, rerun.output
    received = handler.count()
    assert set(received) == set(everyone), "somebody was missed"
    duplicates = sum(count - 1 for count in received.values())
    assert duplicates <= CONCURRENCY
    assert set(delivery_states(site).values()) <= {("sent", 1), ("sent", 2)}


def test_sigterm_stops_cleanly_and_gives_the_rest_back(template: Path, tmp_path: Path) -> None:
    site = copy_site(template, tmp_path)
    everyone = [f"reader{number:03d}@example.com" for number in range(120)]
    add_subscribers(site, everyone)
    handler = FaultyHandler(delay=0.01)
    with SmtpServer(handler) as server:
        set_mail(site, transport=server.url, concurrency=CONCURRENCY)
        process = sender_process(site / "digest.toml")
        wait_until(lambda: sum(handler.count().values()) >= 10, "the first messages")
        process.send_signal(signal.SIGTERM)
        _stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 3, stderr
        assert "stopping after the messages in flight" in stderr
        assert "Traceback" not in stderr
        received = handler.count()
        states = delivery_states(site)
        assert {status for status, _tries in states.values()} == {"sent", "pending"}
        sent = {address for address, (status, _tries) in states.items() if status == "sent"}
        assert sent == set(received)  # everything accepted was recorded: nothing in doubt
        assert all(count == 1 for count in received.values())
        assert query(site, "select count(*) from deliveries where lease_owner is not null") == [
            (0,)
        ]
        rerun = run_digest(site, "send", "--date", DAY, "--lang", "en")
    assert rerun.exit_code == 0, rerun.output
    assert handler.count() == {address: 1 for address in everyone}


def _sending_edition(session: Any, now: datetime) -> None:
    """Edition 1, being sent: the deliveries a test then inserts belong to it."""
    session.execute(sa.text(
        "insert into editions (date, language, variant, status, subject, preheader,"
        " window_start, window_end, html_template, text_template, created_at)"
        " values ('2025-06-04', 'en', '', 'sending', 's', '', :t, :t, '', '', :t)"
    ), {"t": now.replace(tzinfo=None)})  # fmt: skip


def test_a_lease_of_a_dead_local_process_is_taken_back_at_once(
    template: Path, tmp_path: Path
) -> None:
    site = copy_site(template, tmp_path)
    add_subscribers(site, ["a@example.com", "b@example.com", "c@example.com"])
    set_mail(site, transport="maildir:outbox")
    assert run_digest(site, "send", "--date", DAY, "--lang", "en", "--dry-run").exit_code == 0
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    alive = outbox.worker_id()
    dead = f"{alive.split(':')[0]}:{gone.pid}:1:feed"
    elsewhere = f"another-host.example:{gone.pid}:1:feed"
    assert outbox.owner_is_dead(dead) and not outbox.owner_is_dead(elsewhere)
    assert not outbox.owner_is_dead(alive)
    db = Database(database_of(site))
    now = datetime.now(UTC)
    try:
        with db.session() as session:
            _sending_edition(session, now)
            session.execute(sa.text(
                "insert into deliveries (edition_id, subscriber_id, status, attempts, lease_owner,"
                " lease_expires_at, created_at, updated_at) select 1, id,"
                " case when email = 'c@example.com' then 'pending' else 'sending' end, 0,"
                " case when email = 'b@example.com' then :elsewhere else :dead end, :later, :t, :t"
                " from subscribers"
            ), {"dead": dead, "elsewhere": elsewhere, "t": now.replace(tzinfo=None),
                "later": (now + timedelta(hours=1)).replace(tzinfo=None)})  # fmt: skip
        with db.session() as session:
            assert outbox.dead_owners(session, 1, alive) == [dead]
            assert outbox.claim(session, 1, alive, now, 10).deliveries == []  # leases unexpired
        taken: list[str] = []
        for _ in range(3):
            with db.session() as session:
                claim = outbox.claim(session, 1, alive, now, 1, abandoned_by=[dead])
                taken += [item.subscriber.email for item in claim.deliveries]
            # Taken over from lease to lease: another sender finishing now counts every
            # open delivery as held, none as "not sent yet" (it would exit 3).
            with db.session() as session:
                assert outbox.remaining_and_held(session, 1, now) == (3, 3)
        assert taken == ["a@example.com", "c@example.com"]
    finally:
        db.dispose()


class _GatedRun(RunControl):
    """A run whose database calls are real, but ordered as two workers that lost a dead
    sender's deliveries were (a breaker pass saw it in one run of about 25): worker A's
    first look for dead owners waits until worker B's claim has started, and that claim
    waits until the look has returned. Ordered by events, not by sleeps, so a loaded
    machine gives the same interleaving."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.looking = asyncio.Event()
        self.claim_waiting = asyncio.Event()
        self.looked = asyncio.Event()
        self.calls: list[tuple[str, list[str]]] = []

    async def db(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if work is outbox.dead_owners and not self.looked.is_set():
            self.looking.set()
            await asyncio.wait_for(self.claim_waiting.wait(), 30)  # B's claim is in flight
            found = await super().db(work, *args, **kwargs)
            self.calls.append(("dead_owners", list(found)))  # type: ignore[call-overload]
            asyncio.get_running_loop().call_later(0.05, self.looked.set)
            return found
        if work is outbox.claim:
            self.calls.append(("claim", list(kwargs["abandoned_by"])))
            if self.looking.is_set() and not self.looked.is_set():
                self.claim_waiting.set()
                await self.looked.wait()  # in flight while the dead owner is found
        return await super().db(work, *args, **kwargs)


def test_a_dead_sender_found_while_another_claim_is_in_flight_is_taken_over(
    template: Path, tmp_path: Path
) -> None:
    # Worker A finds nothing to claim and looks for dead owners; worker B's claim,
    # started before A found one, looks for none. A must not leave on B's claim.
    site = copy_site(template, tmp_path)
    add_subscribers(site, [f"r{number}@example.com" for number in range(5)])
    set_mail(site, transport="maildir:outbox")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = f"{outbox.worker_id().split(':')[0]}:{gone.pid}:1:feed"
    db = Database(database_of(site))
    now = datetime.now(UTC)
    try:
        with db.session() as session:
            _sending_edition(session, now)
            session.execute(sa.text(
                "insert into deliveries (edition_id, subscriber_id, status, attempts, lease_owner,"
                " lease_expires_at, created_at, updated_at) select 1, id, 'pending', 0, :dead,"
                " :later, :t, :t from subscribers"
            ), {"dead": dead, "t": now.replace(tzinfo=None),
                "later": (now + timedelta(hours=1)).replace(tzinfo=None)})  # fmt: skip

        async def two_workers() -> tuple[list[int], list[tuple[str, list[str]]]]:
            run = _GatedRun(db, 1, outbox.worker_id(), clock=SystemClock(), options=SendOptions())
            recorder = Recorder(run, lambda *retry: None, peers=lambda: 0)
            feeder = Feeder(run, recorder)
            taken: list[int] = []

            async def worker() -> None:
                while (item := await feeder.next()) is not None:
                    taken.append(item.delivery_id)
                    recorder.in_flight -= 1

            first = asyncio.create_task(worker())
            await asyncio.wait_for(run.looking.wait(), 30)  # A is looking for dead owners
            await asyncio.gather(first, worker())
            return taken, run.calls

        taken, calls = asyncio.run(two_workers())
        assert ("dead_owners", [dead]) in calls and ("claim", []) in calls[1:]  # as seen
        assert sorted(taken) == [1, 2, 3, 4, 5]
    finally:
        db.dispose()


def test_two_processes_drain_one_edition(template: Path, tmp_path: Path) -> None:
    site = copy_site(template, tmp_path)
    everyone = [f"reader{number:03d}@example.com" for number in range(300)]
    add_subscribers(site, everyone)
    handler = FaultyHandler(delay=0.004)
    with SmtpServer(handler) as server:
        set_mail(site, transport=server.url, concurrency=CONCURRENCY)
        processes = [sender_process(site / "digest.toml", "--json") for _ in range(2)]
        outputs = [process.communicate(timeout=120) for process in processes]
    for process, (_stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
    summaries = [json.loads(stdout)["editions"][0] for stdout, _stderr in outputs]
    assert sum(summary["sent"] for summary in summaries) == len(everyone)
    assert handler.count() == {address: 1 for address in everyone}
    statuses = query(site, "select status, count(*) from deliveries group by status")
    assert dict(statuses) == {"sent": len(everyone)}
    assert query(site, "select status from editions") == [("sent",)]


def _refuse_recording(site: Path, subscriber_id: int) -> None:
    """A trigger that fails the commit recording this subscriber's delivery as sent (the
    recorder writes sent_at = updated_at; the release writes updated_at later)."""
    if database_of(site).startswith("postgresql"):
        query(
            site,
            "create function refuse_recording() returns trigger as $$ begin"
            f" if new.subscriber_id = {subscriber_id} and new.status = 'sent'"
            " and new.sent_at = new.updated_at then raise exception 'refused by a trigger';"
            " end if; return new; end $$ language plpgsql",
        )
        query(
            site,
            "create trigger refuse_recording before update on deliveries"
            " for each row execute function refuse_recording()",
        )
        return
    query(
        site,
        "create trigger refuse_recording before update on deliveries"
        f" when new.subscriber_id = {subscriber_id} and new.status = 'sent'"
        " and new.sent_at = new.updated_at"
        " begin select raise(abort, 'refused by a trigger'); end",
    )


def test_a_failed_commit_of_outcomes_never_makes_copies(template: Path, tmp_path: Path) -> None:
    """The commit holding reader2's "sent" fails (one row the database refuses): the run
    stops with one line, reader2 is recorded sent on the way out, and the rerun sends
    everyone else once and reader2 never again."""
    site = copy_site(template, tmp_path)
    everyone = [f"reader{n}@example.com" for n in range(1, 6)]
    add_subscribers(site, everyone)
    set_mail(site, concurrency=1)
    [(second,)] = query(site, "select id from subscribers where email = ?", everyone[1])
    _refuse_recording(site, second)
    handler = FaultyHandler()
    with SmtpServer(handler) as server:
        set_mail(site, transport=server.url)
        failed = run_digest(site, "send", "--date", DAY, "--lang", "en")
        assert failed.exit_code == 1, failed.output
        assert "refused by a trigger" in failed.stderr and "Traceback" not in failed.output
        assert delivery_states(site)[everyone[1]][0] == "sent"
        query(site, "drop trigger refuse_recording" + (
            " on deliveries" if database_of(site).startswith("postgresql") else ""
        ))  # fmt: skip
        rerun = run_digest(site, "send", "--date", DAY, "--lang", "en")
    assert rerun.exit_code == 0, rerun.output
    assert handler.count() == {address: 1 for address in everyone}
    assert {status for status, _ in delivery_states(site).values()} == {"sent"}
