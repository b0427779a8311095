"""Local-time delivery: one edition, frozen at the first zone's send time; each reader's
copy due at 07:00 in their own zone, across a daylight-saving change, with a reader at
UTC+14. Driven by `digest schedule` over an injected clock, against a real aiosmtpd."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

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


THREE = {
    "kiritimati@example.com": "Pacific/Kiritimati",  # 07:00 there: 17:00 UTC the day before
    "london@example.com": "Europe/London",  # 07:00 UTC in November
    "la@example.com": "America/Los_Angeles",  # 15:00 UTC in November
}


def delivery_outcomes(db: Any) -> dict[tuple[str, str], str]:
    """(reader, edition date) -> delivery status."""
    from sqlalchemy import select

    from digest.models import Delivery, Edition
    from subscribers.models import Subscriber

    with db.session() as session:
        rows = session.execute(
            select(Subscriber.email, Edition.date, Delivery.status)
            .join(Delivery, Delivery.subscriber_id == Subscriber.id)
            .join(Edition, Edition.id == Delivery.edition_id)
        )
        return {(email, day.isoformat()): str(status) for email, day, status in rows}


def test_a_late_start_still_sends_each_zone_whose_time_has_not_passed_by_the_grace(
    tmp_path: Path,
) -> None:
    """The scheduler was down from before Kiritimati's 07:00 (Nov 9, 17:00 UTC) of the
    10 November edition and starts at 18:00 UTC on Nov 10: Kiritimati's and London's
    times for the 10th passed more than schedule.grace (6 h) ago, LA's (15:00 UTC) did
    not. LA still gets the 10th; London and Kiritimati are skipped and logged, never
    sent the 10th late; Kiritimati gets the 11th (due 17:00 UTC on the 10th) at once."""
    handler = FaultyHandler()
    clock = FakeClock(t("2025-11-10T18:00"), until=t("2025-11-11T00:00"))
    arrivals: list[tuple[str, datetime]] = []
    handler.on_message = lambda received: arrivals.append((received.recipient, clock()))
    with SmtpServer(handler) as server:
        settings, db = make_site(
            tmp_path, timezone="America/New_York", transport=server.url, local_time=True
        )
        for reader, zone in THREE.items():
            add_reader(db, reader, timezone=zone)
        add_article(db, "ninth", t("2025-11-09T12:00"))
        add_article(db, "tenth", t("2025-11-10T16:30"))
        lines: list[str] = []
        pipeline.schedule(
            db, settings, clock=clock, sleep=clock.sleep, stop=clock.stop, log=lines.append
        )
    assert delivery_outcomes(db) == {
        ("kiritimati@example.com", "2025-11-10"): "skipped",
        ("london@example.com", "2025-11-10"): "skipped",
        ("la@example.com", "2025-11-10"): "sent",
        ("kiritimati@example.com", "2025-11-11"): "sent",
        ("london@example.com", "2025-11-11"): "pending",  # due 07:00 UTC on the 11th
        ("la@example.com", "2025-11-11"): "pending",
    }
    assert sorted(arrivals) == [
        ("kiritimati@example.com", t("2025-11-10T18:00")),
        ("la@example.com", t("2025-11-10T18:00")),
    ]
    skipped = [line for line in lines if "skipped 1 delivery(ies) due at" in line]
    assert [line.split(" due at ")[1][:20] for line in skipped] == [
        "2025-11-09T17:00:00Z", "2025-11-10T07:00:00Z",
    ]  # fmt: skip
    assert all(line.startswith("2025-11-10/en:") for line in skipped), lines
    frozen = {e.key: (e.window_start, e.window_end) for e in editions(db)}
    # The 10th's window ends at its first zone's time, the 11th's starts there: no gap.
    assert frozen["2025-11-10/en"][1] == t("2025-11-09T17:00") == frozen["2025-11-11/en"][0]


def test_a_late_start_within_the_first_zones_grace_misses_nobody(tmp_path: Path) -> None:
    """Down at Kiritimati's time (17:00 UTC), back at 20:00 UTC: within the grace for
    everyone, so all three get the 10th, each no earlier than their own 07:00."""
    handler = FaultyHandler()
    clock = FakeClock(t("2025-11-09T20:00"), until=t("2025-11-10T16:00"))
    arrivals: dict[str, datetime] = {}
    handler.on_message = lambda received: arrivals.setdefault(received.recipient, clock())
    with SmtpServer(handler) as server:
        settings, db = make_site(
            tmp_path, timezone="America/New_York", transport=server.url, local_time=True
        )
        for reader, zone in THREE.items():
            add_reader(db, reader, timezone=zone)
        add_article(db, "ninth", t("2025-11-09T12:00"))
        lines: list[str] = []
        pipeline.schedule(
            db, settings, clock=clock, sleep=clock.sleep, stop=clock.stop, log=lines.append
        )
    assert arrivals == {
        "kiritimati@example.com": t("2025-11-09T20:00"),
        "london@example.com": t("2025-11-10T07:00"),
        "la@example.com": t("2025-11-10T15:00"),
    }
    english = [line for line in lines if line.startswith("2025-11-10/en")]
    assert english and not [line for line in english if "skipped:" in line or " due at " in line]


def test_a_zone_met_by_a_relay_outage_is_retried_past_the_grace_not_skipped(
    tmp_path: Path,
) -> None:
    """The scheduler runs, but the relay is down (connection refused) from London's
    07:00 until 14:30 UTC, longer than schedule.grace: London's reader was met at their
    time, so their delivery is retried and goes out when the relay is back, as a
    deferred one would; only a zone's time passing while no run happened skips it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings, db = make_site(
        tmp_path,
        timezone="America/New_York",
        transport=f"smtp://127.0.0.1:{port}",
        local_time=True,
        retry_every="15m",
    )
    add_reader(db, "london@example.com", timezone="Europe/London")
    add_reader(db, "la@example.com", timezone="America/Los_Angeles")
    add_article(db, "tenth", t("2025-11-09T20:00"))
    handler = FaultyHandler()
    arrivals: dict[str, datetime] = {}
    relay = Controller(handler, hostname="127.0.0.1", port=port)
    clock = FakeClock(t("2025-11-10T06:59"), until=t("2025-11-10T16:00"))
    handler.on_message = lambda received: arrivals.setdefault(received.recipient, clock())
    sleep = clock.sleep

    def sleep_and_repair(seconds: float) -> bool:
        stopping = sleep(seconds)
        if clock.now >= t("2025-11-10T14:30") and relay.server is None:  # type: ignore[truthy-function]
            relay.start()
        return stopping

    clock.sleep = sleep_and_repair  # type: ignore[method-assign]
    lines: list[str] = []
    try:
        pipeline.schedule(
            db, settings, clock=clock, sleep=clock.sleep, stop=clock.stop, log=lines.append
        )
    finally:
        relay.stop(no_assert=True)
    assert t("2025-11-10T14:30") <= arrivals["london@example.com"] <= t("2025-11-10T14:45")
    assert arrivals["la@example.com"] == t("2025-11-10T15:00")
    assert not [line for line in lines if " due at " in line], lines
    assert delivery_outcomes(db) == {
        ("london@example.com", "2025-11-10"): "sent",
        ("la@example.com", "2025-11-10"): "sent",
    }
