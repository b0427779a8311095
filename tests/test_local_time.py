"""Local-time delivery: one edition, frozen at the first zone's send time; each reader's
copy due at 07:00 in their own zone, across a daylight-saving change, with a reader at
UTC+14. Driven by `digest schedule` over an injected clock, against a real aiosmtpd."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from digest import pipeline
from tests.schedule_support import (
    FakeClock,
    add_article,
    add_reader,
    editions,
    make_site,
    run_cli,
    t,
)
from tests.test_send_support import FaultyHandler, Received, SmtpServer

pytestmark = pytest.mark.usefixtures("database_env")

ZONES = {
    "kiritimati@example.com": "Pacific/Kiritimati",  # UTC+14
    "london@example.com": "Europe/London",  # summer time from 2025-03-30 01:00 UTC
    "la@example.com": "America/Los_Angeles",  # UTC-7 (summer time since March 9)
    "site@example.com": "",  # none given: the site's (Asia/Riyadh, UTC+3)
}


def test_each_reader_gets_each_day_at_seven_in_their_zone(tmp_path: Path) -> None:
    handler = FaultyHandler()
    clock = FakeClock(t("2025-03-28T16:00"), until=t("2025-03-31T16:00"))
    arrivals: dict[str, list[datetime]] = {reader: [] for reader in ZONES}

    def arrived(received: Received) -> None:
        arrivals[received.recipient].append(clock())

    handler.on_message = arrived
    with SmtpServer(handler) as server:
        settings, db = make_site(
            tmp_path, timezone="Asia/Riyadh", transport=server.url, local_time=True
        )
        for reader, zone in ZONES.items():
            add_reader(db, reader, timezone=zone)
        for day in ("28", "29", "30"):
            add_article(db, f"march-{day}", t(f"2025-03-{day}T12:00"))
        lines: list[str] = []
        pipeline.schedule(
            db, settings, clock=clock, sleep=clock.sleep, stop=clock.stop, log=lines.append
        )
    expected = {
        "kiritimati@example.com": ("28T17", "29T17", "30T17"),
        "london@example.com": ("29T07", "30T06", "31T06"),  # GMT, then BST
        "la@example.com": ("29T14", "30T14", "31T14"),
        "site@example.com": ("29T04", "30T04", "31T04"),
    }
    assert arrivals == {
        reader: [t(f"2025-03-{moment}:00") for moment in moments]
        for reader, moments in expected.items()
    }
    frozen = {e.key: (e.frozen_at, e.window_end) for e in editions(db)}
    assert frozen == {
        f"2025-03-{day}/en": (t(f"2025-03-{day - 1}T17:00"), t(f"2025-03-{day - 1}T17:00"))
        for day in (29, 30, 31)
    }  # frozen once, at the first zone's time, and the window ends there
    shown = run_cli(tmp_path, "editions", "show", "2025-03-30/en")
    assert "deliveries by due time:" in shown.stdout
    due_lines = [line.split() for line in shown.stdout.splitlines() if line.startswith("  20")]
    assert [line[0] for line in due_lines] == [
        "2025-03-29T17:00:00Z", "2025-03-30T04:00:00Z", "2025-03-30T06:00:00Z",
        "2025-03-30T14:00:00Z",
    ]  # fmt: skip
    assert any("due later in their zones" in line for line in lines)
