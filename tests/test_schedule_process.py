"""`digest schedule` as a real process: SIGTERM in the middle of a send stops it within
15 s with exit 0 and in-flight work finished or given back; a restart completes the
edition and nobody gets a second copy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.schedule_support import add_article, add_reader, make_site
from tests.test_send_support import FaultyHandler, SmtpServer, query

pytestmark = pytest.mark.usefixtures("database_env")

READERS = [f"reader{n:02d}@example.com" for n in range(30)]


def scheduler(config: Path, at: str) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    return subprocess.Popen(
        [sys.executable, "-m", "digest", "--config", str(config), "schedule", "--at", at,
         "--tz", "UTC"],
        env=clean, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_until(condition: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    _out, err = process.communicate(timeout=15)
    assert time.monotonic() - started < 15
    return process.returncode, err


def test_sigterm_mid_send_then_restart(tmp_path: Path) -> None:
    handler = FaultyHandler(delay=0.15)
    now = datetime.now(UTC)
    at = (now - timedelta(minutes=1)).strftime("%H:%M")  # due a minute ago: sent on start
    with SmtpServer(handler) as server:
        _settings, db = make_site(tmp_path, timezone="UTC", at=at, transport=server.url)
        with (tmp_path / "digest.toml").open("a", encoding="utf-8") as config:
            config.write("concurrency = 2\n")
        for reader in READERS:
            add_reader(db, reader)
        add_article(db, "news", now - timedelta(hours=2))
        db.dispose()
        first = scheduler(tmp_path / "digest.toml", at)
        wait_until(lambda: len(handler.received) >= 4, "the first messages")
        code, err = stop(first)
        assert code == 0, err
        assert "SIGTERM: stopping after the work in flight" in err and "scheduler stopped" in err
        states = dict(query(tmp_path, "select status, count(*) from deliveries group by status"))
        assert "sending" not in states  # in flight: finished or given back, none left leased
        assert states.get("sent", 0) == len(handler.received) < len(READERS)
        second = scheduler(tmp_path / "digest.toml", at)
        wait_until(lambda: len(handler.received) >= len(READERS), "the rest of the edition")
        wait_until(
            lambda: query(tmp_path, "select status from editions") == [("sent",)], "completion"
        )
        code, err = stop(second)
    assert code == 0, err
    assert handler.count() == {reader: 1 for reader in READERS}
    due = (now - timedelta(minutes=1)).replace(second=0, microsecond=0)
    ((scheduled, window_end),) = query(tmp_path, "select scheduled_at, window_end from editions")
    assert str(scheduled).startswith(due.strftime("%Y-%m-%d %H:%M:00"))  # --at, --tz UTC
    assert str(window_end) == str(scheduled)  # the window ends at the --at time
