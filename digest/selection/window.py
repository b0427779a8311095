"""The time window an edition covers: `window_hours` before its local send time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from digest.selection.plan import Window


def send_time(day: date, at: str, timezone: str) -> datetime:
    hours, minutes = (int(part) for part in at.split(":"))
    local = datetime.combine(day, time(hours, minutes), tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


def edition_window(day: date, at: str, timezone: str, window_hours: int) -> Window:
    end = send_time(day, at, timezone)
    return Window(start=end - timedelta(hours=window_hours), end=end)


def edition_date_for(now: datetime, timezone: str) -> date:
    """Today's edition date in the publication's time zone."""
    return now.astimezone(ZoneInfo(timezone)).date()


def covering_window(moment: datetime, at: str, timezone: str, window_hours: int) -> Window:
    """The window of the first edition sent after `moment` (the one that would cover it)."""
    day = moment.astimezone(ZoneInfo(timezone)).date()
    if send_time(day, at, timezone) <= moment:
        day += timedelta(days=1)
    return edition_window(day, at, timezone, window_hours)
