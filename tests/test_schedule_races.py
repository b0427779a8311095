"""Races: two freezes, two schedulers, a scheduler and a manual send, on one SQLite file or
one PostgreSQL database: never a second freeze, never a second copy. A barrier, not luck,
makes them meet."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from digest import editions, pipeline
from digest.db import Database
from digest.selection.plan import EditionPlan, Window
from tests.schedule_support import FakeClock, add_article, add_reader, make_site, t
from tests.test_send_support import FaultyHandler, SmtpServer

DAY = date(2025, 6, 2)


def test_two_freezes_at_once_compose_one_edition(tmp_path: Path, database_url: str) -> None:
    settings, db = make_site(tmp_path, database=database_url)
    with editions.locked(db, "en"):
        pass  # the line's lock row exists now: the race is on the row lock, not its insert
    db.dispose()
    barrier = threading.Barrier(2)
    inside: list[int] = []
    overlapped: list[bool] = []

    def compose(session: Any, window: Window) -> Any:
        inside.append(1)
        overlapped.append(len(inside) > 1)
        time.sleep(0.3)  # long enough for the other freeze to arrive while this one works
        inside.pop()
        rendered = SimpleNamespace(subject="s", preheader="", html="h", text="t")
        return EditionPlan(date=DAY, language="en", window=window), rendered

    results: list[editions.Freeze] = []

    def freeze() -> None:
        database = Database(settings.database_url)
        try:
            barrier.wait(10)
            results.append(
                editions.freeze(database, settings, DAY, "en", t("2025-06-02T11:00"), compose)
            )
        finally:
            database.dispose()

    threads = [threading.Thread(target=freeze) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 2, "a freeze failed"
    assert overlapped == [False]  # the second never composed: it found the first's edition
    assert sorted(result.created for result in results) == [False, True]
    assert len({result.edition.id for result in results if result.edition}) == 1


def test_two_schedulers_and_a_manual_send_never_double_send(
    tmp_path: Path, database_url: str
) -> None:
    handler = FaultyHandler(delay=0.01)
    readers = [f"reader{n:02d}@example.com" for n in range(20)]
    with SmtpServer(handler) as server:
        settings, db = make_site(tmp_path, transport=server.url, database=database_url)
        for reader in readers:
            add_reader(db, reader)
        add_article(db, "news", t("2025-06-02T09:00"))
        db.dispose()
        barrier = threading.Barrier(3)
        errors: list[BaseException] = []
        lines: list[str] = []

        def scheduler() -> None:
            database = Database(settings.database_url)
            # Each stops after its run at 11:00: a scheduler whose own clock raced ahead
            # would see the other's leases as expired, which real clocks never do.
            clock = FakeClock(t("2025-06-02T10:59"), until=t("2025-06-02T11:00:01"))

            def sleep(seconds: float) -> bool:
                barrier.wait(10) if clock.now < t("2025-06-02T11:00") else None
                return clock.sleep(seconds)

            try:
                pipeline.schedule(
                    database, settings, clock=clock, sleep=sleep, stop=clock.stop, log=lines.append
                )
            except BaseException as e:
                errors.append(e)
            finally:
                database.dispose()

        def manual() -> None:
            database = Database(settings.database_url)
            try:
                barrier.wait(10)
                pipeline.send(database, settings, DAY, "en", clock=lambda: t("2025-06-02T11:00"))
            except BaseException as e:
                errors.append(e)
            finally:
                database.dispose()

        threads = [threading.Thread(target=run) for run in (scheduler, scheduler, manual)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert errors == []
    assert [line for line in lines if "error" in line] == []
    assert Counter(message.recipient for message in handler.received) == {r: 1 for r in readers}
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            frozen = editions.open_editions(session, ["en"])
        assert frozen == []  # the one edition is complete
        assert editions.frozen(database, DAY, "en") is not None
    finally:
        database.dispose()
