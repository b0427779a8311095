"""`digest schedule` over an injected clock, against a real aiosmtpd server: daily firing,
both daylight-saving changes, missed runs inside and outside the grace period, retries of
deferred deliveries, a failing feed, and `digest status` reading what it left."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from digest import pipeline
from digest.ingest.registry import add_feed
from digest.schedule.status import status as operator_status
from tests.schedule_support import (
    FakeClock,
    add_article,
    add_reader,
    editions,
    make_site,
    run_cli,
    t,
    tops,
)
from tests.test_send_support import FaultyHandler, SmtpServer

pytestmark = pytest.mark.usefixtures("database_env")

READERS = [f"reader{n}@example.com" for n in range(5)]


def run_scheduler(db: Any, settings: Any, clock: FakeClock) -> list[str]:
    lines: list[str] = []
    pipeline.schedule(
        db, settings, clock=clock, sleep=clock.sleep, stop=clock.stop, log=lines.append
    )
    return lines


def subjects_by_reader(handler: FaultyHandler) -> Counter[str]:
    return Counter(message.recipient for message in handler.received)


@pytest.fixture
def server() -> Any:
    handler = FaultyHandler()
    with SmtpServer(handler) as smtp:
        yield smtp


def site_with_readers(folder: Path, server: SmtpServer, **schedule: Any) -> tuple[Any, Any]:
    settings, db = make_site(folder, transport=server.url, **schedule)
    for reader in READERS:
        add_reader(db, reader)
    return settings, db


def test_fires_daily_at_the_send_time_and_a_failing_feed_does_not_stop_it(
    tmp_path: Path, server: SmtpServer
) -> None:
    settings, db = site_with_readers(tmp_path, server)
    with db.session() as session:
        add_feed(session, "http://127.0.0.1:9/feed.xml", languages=("en", "ar"))
    for day in ("01", "02", "03"):
        add_article(db, f"june-{day}", t(f"2025-06-{day}T09:00"))
    clock = FakeClock(t("2025-06-01T00:00"), until=t("2025-06-04T00:00"))
    lines = run_scheduler(db, settings, clock)
    frozen = {e.key: e.frozen_at for e in editions(db)}
    assert frozen == {f"2025-06-0{d}/en": t(f"2025-06-0{d}T11:00") for d in (1, 2, 3)}
    assert [tops(db, f"2025-06-0{d}/en") for d in (1, 2, 3)] == [
        ["june-01"],
        ["june-02"],
        ["june-03"],
    ]
    assert subjects_by_reader(server.handler) == {reader: 3 for reader in READERS}
    assert sum("ingest: http://127.0.0.1:9/feed.xml:" in line for line in lines) == 3
    assert any("2025-06-03/en: 5 sent, 0 failed" in line for line in lines)
    assert lines[-1] == "scheduler stopped"


@pytest.mark.parametrize(
    ("days", "sends"),
    [
        (("2025-11-01", "2025-11-02"), ("2025-11-01T11:00", "2025-11-02T12:00")),  # fall back
        (("2025-03-08", "2025-03-09"), ("2025-03-08T12:00", "2025-03-09T11:00")),  # spring on
    ],
)
def test_both_daylight_saving_changes_in_new_york(
    tmp_path: Path, server: SmtpServer, days: tuple[str, str], sends: tuple[str, str]
) -> None:
    settings, db = site_with_readers(tmp_path, server)
    first, second = (t(moment) for moment in sends)
    # Just after the first send (in no window yet), and just before the second.
    add_article(db, "after-first", first.replace(minute=30))
    add_article(db, "before-second", second.replace(hour=second.hour - 1))
    add_article(db, "before-first", first.replace(hour=first.hour - 1))
    clock = FakeClock(t(f"{days[0]}T00:00"), until=second.replace(hour=23))
    run_scheduler(db, settings, clock)
    by_key = {e.key: e for e in editions(db)}
    one, two = by_key[f"{days[0]}/en"], by_key[f"{days[1]}/en"]
    assert (one.frozen_at, two.frozen_at) == (first, second)
    assert one.window_end == two.window_start == first
    assert tops(db, one.key) == ["before-first"]
    assert tops(db, two.key) == ["after-first", "before-second"]
    assert subjects_by_reader(server.handler) == {reader: 2 for reader in READERS}


def test_a_missed_run_inside_the_grace_period_is_sent_on_start(
    tmp_path: Path, server: SmtpServer
) -> None:
    settings, db = site_with_readers(tmp_path, server)
    add_article(db, "news", t("2025-06-02T09:00"))
    clock = FakeClock(t("2025-06-02T13:00"), until=t("2025-06-02T14:00"))  # 09:00 EDT
    lines = run_scheduler(db, settings, clock)
    assert [e.key for e in editions(db)] == ["2025-06-02/en"]
    assert editions(db)[0].frozen_at == t("2025-06-02T13:00")
    assert editions(db)[0].window_end == t("2025-06-02T11:00")  # its scheduled time
    assert not any(": skipped: " in line for line in lines)
    assert subjects_by_reader(server.handler) == {reader: 1 for reader in READERS}


def test_a_missed_run_outside_the_grace_period_is_skipped_and_its_news_kept(
    tmp_path: Path, server: SmtpServer
) -> None:
    settings, db = site_with_readers(tmp_path, server, grace="3h")
    add_article(db, "monday", t("2025-06-01T09:00"))
    pipeline.send(
        db, settings, datetime(2025, 6, 1).date(), "en", clock=lambda: t("2025-06-01T11:00")
    )
    add_article(db, "tuesday", t("2025-06-02T09:00"))
    add_article(db, "tuesday-late", t("2025-06-02T16:00"))
    clock = FakeClock(t("2025-06-02T16:30"), until=t("2025-06-03T12:00"))  # 12:30 EDT: 5h30 late
    lines = run_scheduler(db, settings, clock)
    assert any(
        line.startswith("2025-06-02/en: skipped: its send time passed 5h30m ago") for line in lines
    )
    keys = [e.key for e in editions(db)]
    assert keys == ["2025-06-01/en", "2025-06-03/en"]  # never Tuesday's sent as Wednesday's
    assert tops(db, "2025-06-03/en") == ["tuesday", "tuesday-late"]
    assert editions(db)[1].window_start == t("2025-06-01T11:00")


def test_deferred_deliveries_are_retried_until_done(tmp_path: Path, server: SmtpServer) -> None:
    handler: FaultyHandler = server.handler  # type: ignore[attr-defined]
    handler.soft.update({reader: 3 for reader in READERS})  # greylisted: two runs defer
    settings, db = site_with_readers(tmp_path, server, retry_every="10m")
    add_article(db, "news", t("2025-06-02T09:00"))
    clock = FakeClock(t("2025-06-02T10:00"), until=t("2025-06-02T13:00"))
    lines = run_scheduler(db, settings, clock)
    assert subjects_by_reader(handler) == {reader: 1 for reader in READERS}
    assert any("2025-06-02/en: 0 sent, 0 failed, 5 deferred" in line for line in lines)
    assert any("2025-06-02/en: 5 sent" in line for line in lines)
    assert editions(db)[0].status == "sent"
    status = run_cli(tmp_path, "status", "--json")
    english = json.loads(status.stdout)["languages"][0]
    assert status.exit_code == 0 and english["last_edition"] == "2025-06-02/en"
    assert english["deliveries"] == {"pending": 0, "deferred": 0, "uncertain": 0, "failed": 0}
    assert json.loads(status.stdout)["scheduler"]["stopped_at"] is not None


def test_status_reports_what_remains_and_what_is_overdue(
    tmp_path: Path, server: SmtpServer
) -> None:
    handler: FaultyHandler = server.handler  # type: ignore[attr-defined]
    handler.soft.update({READERS[0]: 100})
    # `digest status` reads the real clock: a zone where it is about noon now, the send
    # time an hour later, so that yesterday's send time is long past its grace and
    # today's still ahead, whenever the test runs (it failed between 07:00 and 13:00 UTC
    # with a fixed 07:00 send time).
    zone, local_now = midday_zone(datetime.now(UTC))
    at = (local_now + timedelta(hours=1)).strftime("%H:%M")
    _settings, db = site_with_readers(tmp_path, server, timezone=zone, at=at)
    add_article(db, "backlog", t("2025-06-02T05:00"))
    # an old backlog alone is nothing to send: the first edition looks back
    # `window_hours` (it was "overdue" for ever, a breaker pass)
    assert run_cli(tmp_path, "status").exit_code == 0
    add_article(db, "news", (local_now - timedelta(days=1)).astimezone(UTC))
    result = run_cli(tmp_path, "status")
    assert result.exit_code == 1  # yesterday's edition had news and nothing was sent
    assert "en: last scheduled edition overdue" in result.stderr
    today = local_now.date()
    add_article(db, "today", local_now.replace(hour=0, minute=0))
    sent = run_cli(tmp_path, "send", "--lang", "en", "--date", today.isoformat())
    assert sent.exit_code == 3, sent.output
    shown = run_cli(tmp_path, "status", "--json")
    body = json.loads(shown.stdout)
    english = body["languages"][0]
    assert shown.exit_code == 3 and english["deliveries"]["deferred"] == 1
    assert "451" in english["last_error"]


def test_an_smtp_outage_does_not_stop_it_and_the_edition_completes_after(
    tmp_path: Path,
) -> None:
    """The relay is down at send time (connection refused); it comes back at 11:25."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings, db = make_site(tmp_path, transport=f"smtp://127.0.0.1:{port}", retry_every="10m")
    for reader in READERS:
        add_reader(db, reader)
    add_article(db, "news", t("2025-06-02T09:00"))
    handler = FaultyHandler()
    relay = Controller(handler, hostname="127.0.0.1", port=port)
    clock = FakeClock(t("2025-06-02T10:55"), until=t("2025-06-02T12:00"))
    sleep = clock.sleep

    def sleep_and_repair(seconds: float) -> bool:
        stopping = sleep(seconds)
        if clock.now >= t("2025-06-02T11:25") and relay.server is None:  # type: ignore[truthy-function]
            relay.start()
        return stopping

    clock.sleep = sleep_and_repair  # type: ignore[method-assign]
    try:
        lines = run_scheduler(db, settings, clock)
    finally:
        relay.stop(no_assert=True)
    down = [line for line in lines if "stopped: cannot connect to 127.0.0.1" in line]
    assert down and all(line.startswith("2025-06-02/en: 0 sent") for line in down), lines
    assert any("2025-06-02/en: 5 sent, 0 failed, 0 deferred" in line for line in lines), lines
    assert Counter(message.recipient for message in handler.received) == {r: 1 for r in READERS}


def test_status_says_when_the_scheduler_died(tmp_path: Path) -> None:
    from digest.schedule import state

    _settings, db = make_site(tmp_path)
    row = state.started(db, "other-host:123:1:ab", t("2025-06-02T10:00"))
    state.beat(db, row, t("2025-06-02T10:30"), next_run_at=t("2025-06-03T11:00"))
    result = run_cli(tmp_path, "status", "--json")
    body = json.loads(result.stdout)
    assert result.exit_code == 1 and body["scheduler"]["alive"] is False
    assert "has not written a heartbeat since 2025-06-02T10:30:00Z" in body["problems"][0]
    state.beat(db, row, datetime.now(UTC), stopped=True)  # a clean stop is not a death
    assert run_cli(tmp_path, "status").exit_code == 0


class RefusingRelay(FaultyHandler):
    """Refuses the sender itself (every recipient) while `refusing` is set."""

    refusing = True

    async def handle_RCPT(self, server: Any, *args: Any) -> str:  # type: ignore[override]
        if self.refusing:
            return "554 5.7.1 <sender@arabpress.example>: relay access denied"
        return await super().handle_RCPT(server, *args)


def test_a_relay_refusing_everyone_does_not_stop_it(tmp_path: Path) -> None:
    handler = RefusingRelay()
    with SmtpServer(handler) as server:
        settings, db = site_with_readers(tmp_path, server)
        add_article(db, "monday", t("2025-06-01T09:00"))
        add_article(db, "tuesday", t("2025-06-02T09:00"))
        clock = FakeClock(t("2025-06-01T10:59"), until=t("2025-06-01T12:00"))
        first = run_scheduler(db, settings, clock)
        status = run_cli(tmp_path, "status", "--json")
        monday = operator_status(db, settings, t("2025-06-01T12:00"))
        handler.refusing = False
        clock = FakeClock(t("2025-06-02T10:59"), until=t("2025-06-02T12:00"))
        second = run_scheduler(db, settings, clock)
    refused = [line for line in first if line.startswith("2025-06-01/en: 0 sent, 0 failed")]
    assert refused and "stopped: the relay refused 5 recipients in a row" in refused[0], first
    assert monday.exit_code == 1 and monday.languages[0].outcome == "failed"
    assert monday.problems == ["en: last scheduled edition failed"]
    assert first[-1] == "scheduler stopped"
    body = json.loads(status.stdout)
    assert body["languages"][0]["last_edition"] == "2025-06-01/en"
    assert body["languages"][0]["deliveries"]["pending"] == 5  # put back, not bounced
    assert "relay access denied" in body["languages"][0]["last_error"]
    # The relay accepts again: Monday's edition (still open, before Tuesday's is due)
    # completes, then Tuesday's goes out.
    assert any(line.startswith("2025-06-01/en: 5 sent, 0 failed") for line in second), second
    assert any(line.startswith("2025-06-02/en: 5 sent, 0 failed") for line in second), second
    assert subjects_by_reader(handler) == {reader: 2 for reader in READERS}


def midday_zone(now: datetime) -> tuple[str, datetime]:
    """A fixed-offset zone where it is about noon at `now` (no test crosses a local
    midnight whenever it runs), and `now` there."""
    from zoneinfo import ZoneInfo

    ahead = 12 - now.astimezone(UTC).hour  # -11 .. 12
    zone = f"Etc/GMT{-ahead:+d}" if ahead else "UTC"  # POSIX signs: Etc/GMT-3 is UTC+3
    return zone, now.astimezone(ZoneInfo(zone))


@pytest.mark.parametrize("late", [False, True], ids=["within-grace", "past-grace"])
def test_status_fails_after_a_relay_wide_refusal_and_past_the_grace(
    tmp_path: Path, late: bool
) -> None:
    """`digest send` stopped by the relay answering 554 5.7.1 to everyone (exit 4):
    status exits 1 and shows the refusal. Once the relay accepts again, what is left is
    one reader's 451s: 3 while within schedule.grace of the send time, 1 past it."""
    zone, local = midday_zone(datetime.now(UTC))
    at = (local - timedelta(hours=7 if late else 1)).strftime("%H:%M")
    handler = RefusingRelay()
    handler.soft.update({READERS[0]: 1000})
    with SmtpServer(handler) as server:
        _settings, db = site_with_readers(tmp_path, server, timezone=zone, at=at)
        add_article(db, "news", local - timedelta(hours=8))
        sent = run_cli(tmp_path, "send", "--lang", "en")
        refused = run_cli(tmp_path, "status", "--json")
        handler.refusing = False
        resent = run_cli(tmp_path, "send", "--lang", "en")
        left = run_cli(tmp_path, "status", "--json")
    assert sent.exit_code == 4, sent.output
    body = json.loads(refused.stdout)
    english = body["languages"][0]
    assert refused.exit_code == 1 and english["outcome"] == "failed", refused.stdout
    assert "554 5.7.1" in english["last_error"] and "relay access denied" in english["last_error"]
    assert "en: last scheduled edition failed" in body["problems"]
    assert resent.exit_code == 3, resent.output  # one reader deferred
    body = json.loads(left.stdout)
    english = body["languages"][0]
    assert english["deliveries"]["deferred"] == 1 and "451" in english["last_error"]
    if late:
        assert left.exit_code == 1 and english["outcome"] == "overdue" and english["late"] == 1
        assert "1 delivery(ies) still not sent more than schedule.grace (6h)" in str(body)
    else:
        assert left.exit_code == 3 and english["outcome"] == "sending" and not body["problems"]


def test_status_judges_by_the_send_time_the_scheduler_runs_with(
    tmp_path: Path, server: SmtpServer
) -> None:
    """`digest schedule --tz America/New_York` on a site configured for Asia/Riyadh:
    07:00 in New York is 8 hours after 07:00 in Riyadh, more than schedule.grace, so
    status judging by the settings would call every morning's edition overdue."""
    from digest.config import load_settings

    configured, db = site_with_readers(tmp_path, server, timezone="Asia/Riyadh")
    add_article(db, "monday", t("2025-11-10T09:00"))
    add_article(db, "evening", t("2025-11-10T20:00"))
    overridden = load_settings(
        tmp_path / "digest.toml", env={}, overrides={"schedule.timezone": "America/New_York"}
    )
    clock = FakeClock(t("2025-11-10T11:00"), until=t("2025-11-10T13:00"))
    run_scheduler(db, overridden, clock)
    assert [e.key for e in editions(db) if e.language == "en"] == ["2025-11-10/en"]
    # 11:00 UTC on the 11th: Riyadh's 07:00 was 7 h ago, New York's is an hour away.
    report = operator_status(db, configured, t("2025-11-11T11:00"))
    english = report.languages[0]
    assert report.exit_code == 0 and english.outcome == "ok", report.problems
    assert english.next_run == t("2025-11-11T12:00")
    shown = json.loads(run_cli(tmp_path, "status", "--json").stdout)
    assert (shown["scheduler"]["at"], shown["scheduler"]["timezone"]) == (
        "07:00", "America/New_York",
    )  # fmt: skip


def test_a_bad_at_or_tz_names_the_option_not_the_config_file(tmp_path: Path) -> None:
    make_site(tmp_path)
    zone = run_cli(tmp_path, "schedule", "--tz", "Nowhere/Zone")
    at = run_cli(tmp_path, "schedule", "--at", "25:00")
    assert zone.exit_code == 2 and "'--tz': unknown time zone 'Nowhere/Zone'" in zone.output
    assert at.exit_code == 2 and "'--at': expected HH:MM, got '25:00'" in at.output
    assert "digest.toml" not in zone.output + at.output
