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


class FeedServer:
    """A loopback HTTP server of RSS feeds; `/slow.xml` hangs (accepts the request and
    answers nothing) while `hanging` is set, like a feed host that stopped responding."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.hanging = threading.Event()
        self.asked = threading.Event()  # /slow.xml was requested while hanging
        self.released = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/slow.xml" and outer.hanging.is_set():
                    outer.asked.set()
                    outer.released.wait(120)
                    return
                name = self.path.strip("/").removesuffix(".xml")
                body = rss(name, datetime.now(UTC) - timedelta(hours=3)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}.xml"

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


STORY = "https://news.example/{}-story"


def rss(name: str, published: datetime) -> str:
    from email.utils import format_datetime

    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Feed ' + name + "</title>"
        "<link>https://news.example/</link><description>d</description><language>en"
        f"</language><item><title>{name.capitalize()} report on harbour dredging works"
        f"</title><link>https://news.example/{name}-story</link><guid>{name}-story</guid>"
        f"<pubDate>{format_datetime(published)}</pubDate><description>The {name} desk "
        "reports.</description></item></channel></rss>"
    )


def test_sigterm_while_a_feed_hangs_stops_at_once_then_a_restart_completes(
    tmp_path: Path,
) -> None:
    from digest.ingest.registry import add_feed

    handler = FaultyHandler()
    now = datetime.now(UTC)
    at = (now - timedelta(minutes=1)).strftime("%H:%M")
    with SmtpServer(handler) as smtp, FeedServer() as feeds:
        settings, db = make_site(tmp_path, timezone="UTC", at=at, transport=smtp.url)
        with (tmp_path / "digest.toml").open("a", encoding="utf-8") as config:
            # Without a prompt abandon, SIGTERM would wait 3 x 60 s for this feed.
            config.write("[ingest]\ntimeout = 60\nretries = 2\n")
        for reader in READERS[:3]:
            add_reader(db, reader)
        with db.session() as session:
            for name in ("fast", "slow"):
                add_feed(session, feeds.url(name), languages=settings.site.languages)
        db.dispose()
        feeds.hanging.set()
        first = scheduler(tmp_path / "digest.toml", at)
        wait_until(feeds.asked.is_set, "the scheduler to fetch the hanging feed")
        stored = "select count(*) from articles"  # the fast feed, fetched alongside
        wait_until(lambda: query(tmp_path, stored) == [(1,)], "the fast feed to be stored")
        code, err = stop(first)
        assert code == 0, err
        assert "1 feed(s): 1 new" in err and "stopped: 1 feed(s) left for the next run" in err
        # The fast feed is stored whole; nothing of the abandoned one, not even a failure;
        # and no edition was frozen from a half-done ingest.
        assert query(tmp_path, "select url from articles") == [(STORY.format("fast"),)]
        failing = "select count(*) from feeds where last_error is not null"
        assert query(tmp_path, failing) == [(0,)]
        assert query(tmp_path, "select count(*) from editions") == [(0,)]
        feeds.hanging.clear()
        feeds.released.set()
        second = scheduler(tmp_path / "digest.toml", at)
        wait_until(
            lambda: query(tmp_path, "select status from editions") == [("sent",)], "the edition"
        )
        code, err = stop(second)
    assert code == 0, err
    stored = sorted(url for (url,) in query(tmp_path, "select url from articles"))
    assert stored == [STORY.format("fast"), STORY.format("slow")]
    assert handler.count() == {reader: 1 for reader in READERS[:3]}
