"""Windows that tile: every article is in exactly one edition's window, across daylight-
saving changes, early, late and missed sends and manual sends between scheduled ones."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete

from digest import editions, pipeline
from digest.config import load_settings
from digest.errors import EditionError
from digest.models import Edition
from digest.selection.plan import EditionPlan, Window
from digest.selection.window import next_due, send_time, wall_clock_back
from tests import backends
from tests.conftest import FIXTURES
from tests.schedule_support import add_article, make_site, run_cli, t, tops

pytestmark = pytest.mark.usefixtures("database_env")

NEW_YORK = "America/New_York"


def send(db: Any, settings: Any, day: str, at: datetime) -> pipeline.SendReport:
    return pipeline.send(db, settings, date.fromisoformat(day), "en", clock=lambda: at)


def window_of(db: Any, settings: Any, day: str, now: datetime) -> Window:
    with db.session() as session:
        return pipeline.edition_window(session, settings, date.fromisoformat(day), "en", now).window


def test_case_06_the_hour_after_saturdays_send_is_in_sundays_edition(tmp_path: Path) -> None:
    """DST ends 2025-11-02 in New York: Sunday's edition starts at Saturday's send (11:00Z)."""
    settings, db = make_site(tmp_path, timezone=NEW_YORK)
    pipeline.ingest(
        db,
        settings,
        [str(FIXTURES / "schedule" / "dst-window-gap.jsonl")],
        now=t("2025-11-03T00:00"),
    )
    saturday = send(db, settings, "2025-11-01", t("2025-11-01T11:00"))
    assert saturday.window is not None and saturday.window.window == Window(
        t("2025-10-31T11:00"), t("2025-11-01T11:00")
    )
    assert window_of(db, settings, "2025-11-02", t("2025-11-05T00:00")) == Window(
        t("2025-11-01T11:00"), t("2025-11-02T12:00")
    )
    send(db, settings, "2025-11-02", t("2025-11-02T12:00"))
    assert tops(db, "2025-11-01/en") == ["dst-1"]
    assert tops(db, "2025-11-02/en") == ["dst-2", "dst-3"]


def test_case_06_previews_tile_before_anything_is_frozen(tmp_path: Path) -> None:
    """With nothing frozen, each date's window looks back 24 wall-clock hours: still tiled."""
    settings, db = make_site(tmp_path, timezone=NEW_YORK)
    later = t("2026-01-01T00:00")
    assert window_of(db, settings, "2025-11-01", later).end == t("2025-11-01T11:00")
    assert window_of(db, settings, "2025-11-02", later).start == t("2025-11-01T11:00")
    assert window_of(db, settings, "2025-03-08", later).end == t("2025-03-08T12:00")
    assert window_of(db, settings, "2025-03-09", later) == Window(
        t("2025-03-08T12:00"), t("2025-03-09T11:00")
    )


def test_spring_forward_neither_overlaps_nor_loses_an_hour(tmp_path: Path) -> None:
    """DST starts 2025-03-09: 07:00 EST is 12:00Z, 07:00 EDT is 11:00Z."""
    settings, db = make_site(tmp_path, timezone=NEW_YORK)
    moments = {
        "before-sat": "2025-03-08T11:30",
        "after-sat": "2025-03-08T12:30",
        "before-sun": "2025-03-09T10:30",
        "after-sun": "2025-03-09T11:30",
    }
    for guid, moment in moments.items():
        add_article(db, guid, t(moment))
    send(db, settings, "2025-03-08", t("2025-03-08T12:00"))
    send(db, settings, "2025-03-09", t("2025-03-09T11:00"))
    saturday, sunday = (e for e in _windows(db))
    assert saturday.end == sunday.start == t("2025-03-08T12:00")
    assert sunday.end == t("2025-03-09T11:00")
    assert tops(db, "2025-03-08/en") == ["before-sat"]
    assert tops(db, "2025-03-09/en") == ["after-sat", "before-sun"]
    assert window_of(db, settings, "2025-03-10", t("2025-03-12T00:00")).start == sunday.end


def test_an_early_send_ends_the_window_and_the_next_one_starts_there(tmp_path: Path) -> None:
    settings, db = make_site(tmp_path, timezone=NEW_YORK)
    add_article(db, "old", t("2025-11-01T20:00"))
    add_article(db, "after-freeze", t("2025-11-02T10:00"))
    report = send(db, settings, "2025-11-02", t("2025-11-02T09:00"))  # 04:00 EST, due 07:00
    assert report.froze and report.window is not None and report.window.early
    assert report.window.window.end == t("2025-11-02T09:00")
    assert report.window.scheduled_at == t("2025-11-02T12:00")
    send(db, settings, "2025-11-03", t("2025-11-03T12:00"))
    assert tops(db, "2025-11-02/en") == ["old"]
    assert tops(db, "2025-11-03/en") == ["after-freeze"]
    assert [w.start for w in _windows(db)][1] == t("2025-11-02T09:00")


def test_missed_days_go_into_the_next_edition(tmp_path: Path) -> None:
    settings, db = make_site(tmp_path, timezone=NEW_YORK)
    send(db, settings, "2025-11-01", t("2025-11-01T11:00"))  # empty: nothing frozen
    add_article(db, "first", t("2025-11-01T18:00"))
    send(db, settings, "2025-11-02", t("2025-11-02T12:00"))
    add_article(db, "missed-tuesday", t("2025-11-04T15:00"))
    add_article(db, "missed-wednesday", t("2025-11-05T08:00"))
    send(db, settings, "2025-11-06", t("2025-11-06T20:00"))  # late, after three missed days
    first, sixth = _windows(db)
    assert sixth.start == first.end == t("2025-11-02T12:00")
    assert sixth.end == t("2025-11-06T12:00")  # its scheduled time, not the late freeze
    assert tops(db, "2025-11-06/en") == ["missed-tuesday", "missed-wednesday"]


def test_a_manual_send_between_scheduled_ones(tmp_path: Path) -> None:
    settings, db = make_site(tmp_path, timezone=NEW_YORK)
    add_article(db, "morning", t("2025-11-01T09:00"))
    add_article(db, "afternoon", t("2025-11-01T15:00"))
    add_article(db, "evening", t("2025-11-01T22:00"))
    send(db, settings, "2025-11-01", t("2025-11-01T11:00"))
    manual = send(db, settings, "2025-11-02", t("2025-11-01T20:00"))  # Saturday 16:00 EDT
    scheduled = send(db, settings, "2025-11-02", t("2025-11-02T12:00"))
    assert manual.froze and not scheduled.froze and scheduled.already_sent
    send(db, settings, "2025-11-03", t("2025-11-03T12:00"))
    assert [tops(db, f"2025-11-0{d}/en") for d in (1, 2, 3)] == [
        ["morning"],
        ["afternoon"],
        ["evening"],
    ]


def test_an_edition_before_a_frozen_one_is_refused_naming_the_field(tmp_path: Path) -> None:
    settings, db = make_site(tmp_path, timezone=NEW_YORK)
    add_article(db, "news", t("2025-11-02T18:00"))
    send(db, settings, "2025-11-03", t("2025-11-03T12:00"))
    with pytest.raises(EditionError) as raised:
        send(db, settings, "2025-11-02", t("2025-11-03T13:00"))
    assert raised.value.field == "date" and "2025-11-03/en" in str(raised.value)
    result = run_cli(tmp_path, "send", "--date", "2025-11-02", "--lang", "en")
    assert result.exit_code == 1
    assert result.stderr.startswith("digest: error: --date: edition 2025-11-02/en comes before")


def test_send_before_its_time_says_it_freezes_early(tmp_path: Path) -> None:
    _settings, db = make_site(tmp_path, timezone=NEW_YORK)
    now = datetime.now(ZoneInfo("UTC"))
    add_article(db, "recent", now - timedelta(hours=1))
    day = next_due(now, "07:00", NEW_YORK)[0].isoformat()  # the next edition, not yet due
    result = run_cli(tmp_path, "send", "--date", day, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert f"{day}/en: frozen early, before its scheduled time" in result.stdout
    assert "the next edition's window starts at" in result.stdout
    shown = run_cli(tmp_path, "select", "--date", day, "--lang", "en", "--json")
    assert '"frozen": true' in shown.stdout and '"early": true' in shown.stdout


def test_only_the_next_edition_may_be_frozen_early(tmp_path: Path) -> None:
    settings, db = make_site(tmp_path, timezone=NEW_YORK)
    add_article(db, "news", t("2025-11-01T09:00"))
    with pytest.raises(EditionError) as raised:
        send(db, settings, "2025-11-03", t("2025-11-01T20:00"))  # 11-02 is due first
    assert raised.value.field == "date" and "is not the next one" in str(raised.value)
    assert send(db, settings, "2025-11-02", t("2025-11-01T20:00")).froze


def _windows(db: Any) -> list[Window]:
    from tests.schedule_support import editions as all_editions

    return [Window(e.window_start, e.window_end) for e in all_editions(db)]


# -- the invariant, over random schedules ------------------------------------------------

ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Kiritimati",
         "Asia/Riyadh", "Pacific/Chatham", "America/Sao_Paulo"]  # fmt: skip
#: Days near daylight-saving changes somewhere (March, April, October, November).
STARTS = [date(2025, 3, 7), date(2025, 3, 29), date(2025, 4, 4), date(2025, 10, 3),
          date(2025, 10, 24), date(2025, 10, 31), date(2024, 11, 1), date(2024, 3, 8)]  # fmt: skip


def _stub_composer(day: date, language: str) -> Any:
    """Freeze whatever the window is (the invariant is about windows, not stories)."""

    def compose(session: Any, window: Window) -> Any:
        rendered = SimpleNamespace(subject="s", preheader="", html="h", text="t")
        return EditionPlan(date=day, language=language, window=window), rendered

    return compose


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    zone=st.sampled_from(ZONES),
    at=st.tuples(st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
    start=st.sampled_from(STARTS),
    # Per day: None = missed; else minutes from its send time (negative: early).
    offsets=st.lists(st.one_of(st.none(), st.integers(-20 * 60, 30 * 60)), min_size=3, max_size=9),
    articles=st.lists(st.integers(0, 12 * 24 * 60), max_size=30),
)
def test_every_moment_is_in_exactly_one_window(
    shared_site: tuple[Any, Any],
    zone: str,
    at: tuple[int, int],
    start: date,
    offsets: list[int | None],
    articles: list[int],
) -> None:
    base, db = shared_site
    overrides = {"schedule.timezone": zone, "schedule.at": f"{at[0]:02d}:{at[1]:02d}"}
    settings = load_settings(base.config_path, env={}, overrides=overrides)
    with db.session() as session:
        session.execute(delete(Edition))
    _run_schedule(db, settings, start, offsets, articles)


@pytest.fixture(scope="module")
def shared_site(
    tmp_path_factory: pytest.TempPathFactory, backend: str
) -> Iterator[tuple[Any, Any]]:
    """One database for every example (each starts by deleting the editions)."""
    folder = tmp_path_factory.mktemp("windows")
    url = backends.current().create(backend, folder, migrated=True)
    settings, db = make_site(folder, database=url)
    yield settings, db
    db.dispose()


def _run_schedule(
    db: Any, settings: Any, start: date, offsets: list[int | None], articles: list[int]
) -> None:
    schedule = settings.schedule
    sends = sorted(
        (send_time(start + timedelta(days=n), schedule.at, schedule.timezone)
         + timedelta(minutes=offset), start + timedelta(days=n))
        for n, offset in enumerate(offsets) if offset is not None
    )  # fmt: skip
    frozen_dates: list[date] = []
    for moment, day in sends:
        if frozen_dates and max(frozen_dates) > day:
            with pytest.raises(EditionError):
                editions.freeze(db, settings, day, "en", moment, _stub_composer(day, "en"))
            continue
        result = editions.freeze(db, settings, day, "en", moment, _stub_composer(day, "en"))
        assert result.edition is not None
        frozen_dates.append(day)
        window = result.edition.window
        assert window.start <= window.end <= min(moment, result.window.scheduled_at)
    with db.session() as session:
        rows = editions.open_editions(session, ["en"])
        windows = sorted(
            ((Window(e.window_start, e.window_end), e.date) for e in rows),
            key=lambda pair: pair[1],
        )
    if not windows:
        return
    first = windows[0][0]
    assert first.start == wall_clock_back(first.end, 24, schedule.timezone)
    for (before, _), (after, _) in pairwise(windows):
        assert after.start == before.end  # they tile: no gap, no overlap
    origin = windows[0][0].start
    for minutes in articles:
        moment = origin + timedelta(minutes=minutes)
        holders = [day for window, day in windows if window.start <= moment < window.end]
        if moment < windows[-1][0].end:
            assert len(holders) == 1, (moment, windows)
        else:
            assert holders == []  # after the last freeze: the next edition's news
