"""A stop request while the relay stalls mid-command: `digest send` and `digest schedule`
as real processes against aiosmtpd on 127.0.0.1.

One reader's RCPT is never answered (nothing reached the relay's queue: the delivery
goes back to the queue), another's final "." is never answered (the relay kept the
message: the delivery is `uncertain`, resent only with --resend-uncertain). SIGTERM must
end the process within the 15 s issue #11 gives, long before `mail.timeout` (60 s here)
or `mail.data_timeout` (600 s), and a rerun must send every reader exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.schedule_support import add_article, add_reader, make_site
from tests.test_schedule_process import scheduler
from tests.test_send_support import (
    DAY,
    FaultyHandler,
    SmtpServer,
    add_subscribers,
    copy_site,
    delivery_states,
    make_template,
    query,
    set_mail,
)

STALL_RCPT = "stall-rcpt@example.com"
STALL_DOT = "stall-dot@example.com"
OTHERS = [f"reader{n}@example.com" for n in range(4)]
READERS = [STALL_RCPT, STALL_DOT, *OTHERS]
#: The bound issue #11 gives a stop; the relay's timeouts are set far beyond it.
STOP_BOUND = 15.0
TIMEOUT = 60.0


@dataclass
class StallingHandler(FaultyHandler):
    """While `stalling` is set: no reply to `STALL_RCPT`'s RCPT, and after `STALL_DOT`'s
    final "." the message is kept but no reply comes. Once cleared, a healthy relay."""

    stalling: threading.Event = field(default_factory=threading.Event)
    stalled: set[str] = field(default_factory=set)
    #: Also stall every EHLO (a relay silent before the session is set up).
    stall_ehlo: bool = False
    #: Answer `STALL_DOT`'s final "." after this many seconds instead of never.
    dot_delay: float | None = None

    async def _stall(self, address: str) -> None:
        with self.lock:
            self.stalled.add(address)
        while self.stalling.is_set():
            await asyncio.sleep(0.05)
        await asyncio.sleep(3600)  # this session's client is long gone

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        if self.stall_ehlo and self.stalling.is_set():
            await self._stall("EHLO")
        return await super().handle_EHLO(server, session, envelope, hostname, responses)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address == STALL_RCPT and self.stalling.is_set():
            await self._stall(address)
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        address = envelope.rcpt_tos[0]
        if address == STALL_DOT and self.stalling.is_set():
            reply = await super().handle_DATA(server, session, envelope)  # keeps the message
            if self.dot_delay is not None:
                with self.lock:
                    self.stalled.add(address)
                await asyncio.sleep(self.dot_delay)
                return reply
            await self._stall(address)
            return reply
        return await super().handle_DATA(server, session, envelope)


def send(config: Path, day: str, *extra: str) -> subprocess.Popen[str]:
    """`python -m digest send` for that day, in its own process."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    return subprocess.Popen(
        [sys.executable, "-m", "digest", "--config", str(config), "send", "--date", day, *extra],
        env=clean, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for(condition: object, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def terminate(process: subprocess.Popen[str]) -> tuple[int, str, float]:
    """SIGTERM; (exit code, stderr, seconds until the process ended)."""
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    _out, err = process.communicate(timeout=TIMEOUT + 30)  # generous: the bound is asserted
    return process.returncode, err, time.monotonic() - started


def stalled_both(handler: StallingHandler) -> bool:
    with handler.lock:
        return handler.stalled == {STALL_RCPT, STALL_DOT}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Path:
    return make_template(tmp_path_factory.mktemp("template"), backend)


@pytest.mark.parametrize("pipelining", [False, True], ids=["one-by-one", "pipelining"])
def test_sigterm_to_send_while_the_relay_stalls(
    template: Path, tmp_path: Path, pipelining: bool
) -> None:
    site = copy_site(template, tmp_path)
    add_subscribers(site, READERS)
    handler = StallingHandler(pipelining=pipelining)
    handler.stalling.set()
    with SmtpServer(handler) as server:
        set_mail(site, transport=server.url, concurrency=2, timeout=TIMEOUT)
        process = send(site / "digest.toml", DAY)
        wait_for(lambda: stalled_both(handler), "both stalls")
        code, err, took = terminate(process)
        assert took < STOP_BOUND, err
        assert code == 3, err  # work remains: rerun
        assert "released to the queue unsent" in err and "1 handed over" in err, err
        states = delivery_states(site)
        assert states[STALL_RCPT] == ("pending", 0)
        assert states[STALL_DOT][0] == "uncertain"
        assert "sending" not in {status for status, _ in states.values()}

        handler.stalling.clear()
        rerun = send(site / "digest.toml", DAY)
        _out, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err
        assert handler.count() == {reader: 1 for reader in READERS}
        assert delivery_states(site)[STALL_DOT][0] == "uncertain"

        resend = send(site / "digest.toml", DAY, "--resend-uncertain")
        _out, err = resend.communicate(timeout=120)
        assert resend.returncode == 0, err
    assert handler.count() == {**{reader: 1 for reader in READERS}, STALL_DOT: 2}
    assert {status for status, _ in delivery_states(site).values()} == {"sent"}


def test_a_reply_within_the_grace_after_a_stop_is_recorded_sent(
    template: Path, tmp_path: Path
) -> None:
    """The reply to a written "." that comes a few seconds after the stop still counts:
    the delivery is `sent`, not `uncertain` (and nobody is asked to resend it)."""
    site = copy_site(template, tmp_path)
    add_subscribers(site, READERS)
    handler = StallingHandler(dot_delay=3.0)  # inside the 5 s grace a stop gives
    handler.stalling.set()
    with SmtpServer(handler) as server:
        set_mail(site, transport=server.url, concurrency=2, timeout=TIMEOUT)
        process = send(site / "digest.toml", DAY)
        wait_for(lambda: stalled_both(handler), "the stalled RCPT and the slow reply")
        code, err, took = terminate(process)
        assert took < STOP_BOUND, err
        assert code == 3, err
        states = delivery_states(site)
    assert states[STALL_DOT][0] == "sent", err
    assert states[STALL_RCPT] == ("pending", 0)


def test_sigterm_to_send_while_the_relay_is_silent_at_ehlo(template: Path, tmp_path: Path) -> None:
    site = copy_site(template, tmp_path)
    add_subscribers(site, READERS)
    handler = StallingHandler(stall_ehlo=True)
    handler.stalling.set()
    with SmtpServer(handler) as server:
        set_mail(site, transport=server.url, concurrency=2, timeout=TIMEOUT)
        process = send(site / "digest.toml", DAY)
        wait_for(lambda: "EHLO" in handler.stalled, "the stalled EHLO")
        code, err, took = terminate(process)
        assert took < STOP_BOUND, err
        assert code == 3, err
        assert {status for status, _ in delivery_states(site).values()} == {"pending"}
        handler.stalling.clear()
        rerun = send(site / "digest.toml", DAY)
        _out, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err
    assert handler.count() == {reader: 1 for reader in READERS}


@pytest.mark.usefixtures("database_env")
def test_sigterm_to_schedule_while_the_relay_stalls(tmp_path: Path) -> None:
    handler = StallingHandler()
    handler.stalling.set()
    now = datetime.now(UTC)
    at = (now - timedelta(minutes=1)).strftime("%H:%M")  # due a minute ago: sent on start
    with SmtpServer(handler) as server:
        _settings, db = make_site(tmp_path, timezone="UTC", at=at, transport=server.url)
        with (tmp_path / "digest.toml").open("a", encoding="utf-8") as config:
            config.write(f"concurrency = 2\ntimeout = {TIMEOUT}\n")  # [mail] is the last section
        for reader in READERS:
            add_reader(db, reader)
        add_article(db, "news", now - timedelta(hours=2))
        db.dispose()
        first = scheduler(tmp_path / "digest.toml", at)
        wait_for(lambda: stalled_both(handler), "both stalls")
        code, err, took = terminate(first)
        assert took < STOP_BOUND, err
        assert code == 0, err
        assert "released to the queue unsent" in err and "1 handed over" in err, err
        states = delivery_states(tmp_path)
        assert states[STALL_RCPT] == ("pending", 0)
        assert states[STALL_DOT][0] == "uncertain"

        handler.stalling.clear()
        second = scheduler(tmp_path / "digest.toml", at)
        wait_for(lambda: handler.count() == {r: 1 for r in READERS}, "the rest of the edition")
        code, err, _took = terminate(second)
        assert code == 0, err
        assert delivery_states(tmp_path)[STALL_DOT][0] == "uncertain"
        (day,) = query(tmp_path, "select distinct date from editions")[0]
        resend = send(tmp_path / "digest.toml", str(day), "--resend-uncertain")
        _out, err = resend.communicate(timeout=120)
        assert resend.returncode == 0, err
    assert handler.count() == {**{reader: 1 for reader in READERS}, STALL_DOT: 2}
    assert {status for status, _ in delivery_states(tmp_path).values()} == {"sent"}


def test_sigterm_to_send_while_it_waits_to_reconnect_to_a_relay_that_is_down(
    template: Path, tmp_path: Path
) -> None:
    """A relay that refuses connections: the sender waits `retry_backoff` (40 s here)
    before trying again, and a stop must end that wait, not sit it out."""
    site = copy_site(template, tmp_path)
    add_subscribers(site, READERS)
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    set_mail(
        site, transport=f"smtp://127.0.0.1:{port}", concurrency=2, timeout=TIMEOUT,
        retry_backoff=40.0, retry_backoff_max=40.0,
    )  # fmt: skip
    process = send(site / "digest.toml", DAY)
    # The deliveries are written once the stop is handled (a signal during start-up,
    # under load, killed the process before it could answer it); then a refused
    # connection and the backoff wait.
    wait_for(lambda: len(delivery_states(site)) == len(READERS), "the deliveries")
    time.sleep(1.0)
    code, err, took = terminate(process)
    assert took < STOP_BOUND, err
    assert code == 3, err
    assert {status for status, _ in delivery_states(site).values()} == {"pending"}


def test_sigterm_to_send_while_it_waits_for_the_rate_limit(template: Path, tmp_path: Path) -> None:
    """`mail.rate` 0.02 (a message every 50 s): after the first message the sender waits
    for the rate limit, and a stop must end that wait, not sit it out."""
    site = copy_site(template, tmp_path)
    add_subscribers(site, OTHERS)
    handler = FaultyHandler()
    with SmtpServer(handler) as server:
        set_mail(site, transport=server.url, concurrency=1, timeout=TIMEOUT, rate=0.02)
        process = send(site / "digest.toml", DAY)
        wait_for(lambda: len(handler.received) == 1, "the first message")
        time.sleep(0.5)  # the second is claimed and waits for its slot
        code, err, took = terminate(process)
    assert took < STOP_BOUND, err
    assert code == 3, err
    (first,) = handler.count().elements()  # one message, once
    states = delivery_states(site)
    assert states.pop(first)[0] == "sent"
    assert {status for status, _ in states.values()} == {"pending"}


def test_a_second_sigint_records_what_was_handed_over_before_it_stops(
    template: Path, tmp_path: Path
) -> None:
    """Ctrl-C twice while a reply to "." is awaited: the second one ends the grace at
    once, the message is recorded uncertain (not left `sending` for the next run to
    send again), the stalled transaction goes back to the queue."""
    site = copy_site(template, tmp_path)
    add_subscribers(site, READERS)
    handler = StallingHandler(dot_delay=40.0)  # far past the 5 s grace
    handler.stalling.set()
    with SmtpServer(handler) as server:
        set_mail(site, transport=server.url, concurrency=2, timeout=TIMEOUT)
        process = send(site / "digest.toml", DAY)
        wait_for(lambda: stalled_both(handler), "the stalled RCPT and the slow reply")
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=TIMEOUT + 30)
        assert process.returncode == 3, err
        assert "stopping now" in err and "Aborted" not in err, err
        states = delivery_states(site)
        assert states[STALL_DOT][0] == "uncertain", err
        assert states[STALL_RCPT] == ("pending", 0)
        handler.stalling.clear()
        rerun = send(site / "digest.toml", DAY)
        _out, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err
    assert handler.count() == {reader: 1 for reader in READERS}
