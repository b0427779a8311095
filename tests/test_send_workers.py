"""Several senders on one edition: `digest send --workers 3`, and three separate
`digest send` processes (as three hosts would run them) with one killed mid-run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from tests.test_send_support import (
    DAY,
    SAMPLE_EN,
    FaultyHandler,
    SmtpServer,
    run_digest,
    set_mail,
)

READERS = 5_000
CONCURRENCY = 4


def _site(tmp_path: Path, database_url: str) -> tuple[Path, dict[str, str], list[str]]:
    """An initialised site with the sample feed and READERS active English subscribers."""
    env = {"DIGEST_DATABASE_URL": database_url}
    for args in (["init"], ["ingest", str(SAMPLE_EN)]):
        result = run_digest(tmp_path, *args, env=env)
        assert result.exit_code == 0, result.output
    everyone = [f"reader{number:05d}@example.com" for number in range(READERS)]
    now = datetime.now(UTC).replace(tzinfo=None)
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "insert into subscribers (email, name, language, sections, timezone, status,"
                " smtputf8, bounce_count, created_at, updated_at)"
                " values (:email, '', 'en', '', 'UTC', 'active', false, 0, :now, :now)"
            ),
            [{"email": address, "now": now} for address in everyone],
        )
    engine.dispose()
    return tmp_path, env, everyone


def _digest(site: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    return subprocess.Popen(
        [sys.executable, "-m", "digest", "--config", str(site / "digest.toml"), *args],
        env={**clean, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _deliveries(database_url: str) -> Counter[tuple[str, bool]]:
    """(status, still leased) of every delivery, counted."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("select status, lease_owner is not null from deliveries")
            ).all()
            assert connection.execute(sa.text("select status from editions")).scalar() == "sent"
    finally:
        engine.dispose()
    return Counter((status, bool(leased)) for status, leased in rows)


def _holds(database_url: str, pid: int) -> bool:
    """Whether the sender process `pid` holds leases on deliveries."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            held = connection.execute(
                sa.text("select count(*) from deliveries where lease_owner like :mine"),
                {"mine": f"{socket.gethostname()}:{pid}:%"},
            ).scalar()
    finally:
        engine.dispose()
    return bool(held)


def test_three_worker_processes_send_each_reader_exactly_one_copy(
    tmp_path: Path, database_url: str
) -> None:
    site, env, everyone = _site(tmp_path, database_url)
    handler = FaultyHandler(delay=0.002)
    with SmtpServer(handler) as server:
        set_mail(site, transport=server.url, concurrency=CONCURRENCY)
        process = _digest(site, env, "send", "--date", DAY, "--lang", "en", "--workers", "3",
                          "--json")  # fmt: skip
        stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    workers = json.loads(stdout)["workers"]
    assert [worker["exit_code"] for worker in workers] == [0, 0, 0]
    sent = [sum(edition["sent"] for edition in worker["editions"]) for worker in workers]
    assert sum(sent) == READERS
    assert len({worker["pid"] for worker in workers}) == 3
    assert sum(1 for number in sent if number) >= 2, f"the work was not shared: {sent}"
    assert handler.count() == dict.fromkeys(everyone, 1)
    assert _deliveries(database_url) == {("sent", False): READERS}


def test_a_killed_worker_is_taken_over_and_a_rerun_misses_nobody(
    tmp_path: Path, database_url: str
) -> None:
    site, env, everyone = _site(tmp_path, database_url)
    handler = FaultyHandler(delay=0.002)
    with SmtpServer(handler) as server:
        set_mail(site, transport=server.url, concurrency=CONCURRENCY)
        arguments = ("send", "--date", DAY, "--lang", "en", "--json")
        processes = [_digest(site, env, *arguments) for _ in range(3)]
        deadline = time.monotonic() + 300
        victim = processes[0]
        # All three hold deliveries: the survivors take over at the end of their run,
        # not when they start.
        while sum(handler.count().values()) < READERS // 10 or not all(
            _holds(database_url, process.pid) for process in processes
        ):
            assert time.monotonic() < deadline, "no messages arrived, or a sender held none"
            time.sleep(0.01)
        assert victim.poll() is None, "the first worker finished before it could be killed"
        victim.send_signal(signal.SIGKILL)
        victim.wait(30)
        for process in processes[1:]:
            _stdout, stderr = process.communicate(timeout=600)
            assert process.returncode == 0, stderr  # done, though the dead one held leases
        # The survivors took over what the dead one held: nothing is left to the rerun.
        assert _deliveries(database_url) == {("sent", False): READERS}
        rerun = _digest(site, env, *arguments)
        _stdout, stderr = rerun.communicate(timeout=600)
        assert rerun.returncode == 0, stderr
    received = handler.count()
    assert set(received) == set(everyone), "somebody was missed"
    duplicates = sum(count - 1 for count in received.values())
    assert duplicates <= CONCURRENCY  # only what the killed worker had handed over
    assert _deliveries(database_url) == {("sent", False): READERS}


def test_a_sender_with_nothing_left_to_claim_exits_0_while_another_holds_leases(
    tmp_path: Path, database_url: str
) -> None:
    from datetime import timedelta

    from digest import outbox

    env = {"DIGEST_DATABASE_URL": database_url}
    for args in (["init"], ["ingest", str(SAMPLE_EN)]):
        assert run_digest(tmp_path, *args, env=env).exit_code == 0
    assert run_digest(tmp_path, "subscribers", "add", "held@example.com", env=env).exit_code == 0
    assert run_digest(tmp_path, "send", "--date", DAY, "--lang", "en", env=env).exit_code == 0
    assert run_digest(tmp_path, "subscribers", "add", "new@example.com", env=env).exit_code == 0
    now = datetime.now(UTC).replace(tzinfo=None)
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:  # a live sender (this test) holds held@'s delivery
        connection.execute(
            sa.text(
                "update deliveries set status = 'sending', lease_owner = :owner,"
                " lease_expires_at = :until, sent_at = null"
            ),
            {"owner": outbox.worker_id(), "until": now + timedelta(hours=1)},
        )
        connection.execute(sa.text("update editions set status = 'sending'"))
    engine.dispose()
    process = _digest(tmp_path, env, "send", "--date", DAY, "--lang", "en", "--json")
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    (summary,) = json.loads(stdout)["editions"]
    assert (summary["created"], summary["sent"]) == (1, 1)  # new@example.com
    assert (summary["remaining"], summary["held_elsewhere"]) == (1, 1)


def test_workers_stopped_by_the_breaker_say_so_once(tmp_path: Path, database_url: str) -> None:
    """Every worker trips its own breaker; the command prints one line for all (exit 4)."""
    site, env, _everyone = _site(tmp_path, database_url)
    handler = FaultyHandler(data_reply="554 5.4.5 Daily sending quota exceeded")
    with SmtpServer(handler) as server:
        set_mail(site, transport=server.url, concurrency=CONCURRENCY)
        process = _digest(site, env, "send", "--date", DAY, "--lang", "en", "--workers", "3")
        _stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 4, stderr
    lines = [line for line in stderr.splitlines() if "circuit breaker" in line]
    assert len(lines) == 1 and "554 5.4.5" in lines[0], stderr


def _children(parent: subprocess.Popen[str]) -> list[int]:
    """The pids of the processes `parent` started (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        if f"\nPPid:\t{parent.pid}\n" in status:
            found.append(int(entry.name))
    return found


def test_a_killed_worker_whose_deliveries_the_others_sent_needs_no_rerun(
    tmp_path: Path, database_url: str
) -> None:
    site, env, everyone = _site(tmp_path, database_url)
    handler = FaultyHandler(delay=0.002)
    with SmtpServer(handler) as server:
        set_mail(site, transport=server.url, concurrency=CONCURRENCY)
        parent = _digest(site, env, "send", "--date", DAY, "--lang", "en", "--workers", "3")
        deadline = time.monotonic() + 300
        while len(children := _children(parent)) < 3 or not all(
            _holds(database_url, pid) for pid in children
        ):
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.01)
        victim = children[0]
        os.kill(victim, signal.SIGKILL)
        _stdout, stderr = parent.communicate(timeout=600)
    assert parent.returncode == 0, stderr
    assert f"(pid {victim}) was killed by signal 9; the other workers sent its deliveries" in (
        stderr
    )
    assert "run 'digest send' again" not in stderr
    assert set(handler.count()) == set(everyone)
    assert _deliveries(database_url) == {("sent", False): READERS}


def test_whether_others_took_a_killed_worker_s_deliveries_over_is_no_when_it_cannot_be_read(
    tmp_path: Path,
) -> None:
    from digest.db import Database
    from digest.senders import WorkerOutcome, taken_over

    edition = {"edition": f"{DAY}/en", "status": "sent"}
    survivor = WorkerOutcome(2, 1, 0, {"editions": [edition]})
    killed = WorkerOutcome(1, 2, -9, None)
    broken = tmp_path / "site.db"
    broken.write_bytes(b"not a database " * 100)
    gone = Database(f"sqlite:///{broken}")
    try:
        assert not taken_over(gone, [killed, survivor])  # the database cannot be read
    finally:
        gone.dispose()
    assert not taken_over(gone, [killed])  # nobody printed a summary
