"""The time window an edition covers, so that consecutive windows tile (DESIGN.md, Selection).

An edition's window starts where the previous frozen edition of the same language ended
and ends when it is frozen or at its scheduled time (`schedule.at` in `schedule.timezone`
on its date), whichever is first. Only the first edition ever looks back `window_hours`,
counted on the local wall clock so that 24 hours before 07:00 is 07:00 the day before, on
a daylight-saving day too. Every instant then belongs to exactly one window: no hour of
news falls between two editions or into both.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from digest.selection.plan import Window

#: The edition dates that can be asked for: windows and no-repeat periods of years
#: before or after them still fit in a datetime (1 to 9999).
FIRST_EDITION_DAY = date(1971, 1, 1)
LAST_EDITION_DAY = date(9000, 12, 31)


def send_time(day: date, at: str, timezone: str) -> datetime:
    """`at` (HH:MM) local time on `day` in `timezone`, in UTC.

    A wall time that does not exist (the spring-forward gap) is read with the offset in
    force before the change (PEP 495, fold=0), so it lands just after the gap; an
    ambiguous one (autumn) is its first occurrence.
    """
    hours, minutes = (int(part) for part in at.split(":"))
    local = datetime.combine(day, time(hours, minutes), tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


def wall_clock_back(moment: datetime, hours: int, timezone: str) -> datetime:
    """`hours` before `moment` on the local wall clock of `timezone`, in UTC."""
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone).replace(tzinfo=None) - timedelta(hours=hours)
    return local.replace(tzinfo=zone).astimezone(UTC)


def tiled_window(
    scheduled: datetime,
    now: datetime,
    previous_end: datetime | None,
    *,
    window_hours: int,
    timezone: str,
) -> Window:
    """The window of an edition due at `scheduled` and frozen at `now`.

    It ends at `now` or `scheduled`, whichever is first, and starts at `previous_end` (where
    the last frozen edition of the line ended); with no previous edition it looks back
    `window_hours` of wall-clock time from its end. Never negative: a start after the end
    (clocks of two hosts disagreeing) gives an empty window at the start.
    """
    end = min(now, scheduled)
    if previous_end is not None:
        start = previous_end
    else:
        start = wall_clock_back(end, window_hours, timezone)
    return Window(start=start, end=max(start, end))


def edition_window(day: date, at: str, timezone: str, window_hours: int) -> Window:
    """The window of `day`'s edition when it is the first ever and frozen on time."""
    end = send_time(day, at, timezone)
    return Window(start=wall_clock_back(end, window_hours, timezone), end=end)


def edition_date_for(now: datetime, timezone: str) -> date:
    """Today's edition date in the publication's time zone."""
    return now.astimezone(ZoneInfo(timezone)).date()


def latest_due(now: datetime, at: str, timezone: str) -> tuple[date, datetime]:
    """The edition date whose send time came last at or before `now`, and that time."""
    day = edition_date_for(now, timezone)
    scheduled = send_time(day, at, timezone)
    if scheduled > now:
        day -= timedelta(days=1)
        scheduled = send_time(day, at, timezone)
    return day, scheduled


def next_due(now: datetime, at: str, timezone: str) -> tuple[date, datetime]:
    """The edition date whose send time comes first strictly after `now`, and that time."""
    day, _ = latest_due(now, at, timezone)
    day += timedelta(days=1)
    return day, send_time(day, at, timezone)


def covering_window(moment: datetime, at: str, timezone: str, window_hours: int) -> Window:
    """The nominal window of the first edition due after `moment` (the one that would
    cover it, were every edition frozen on time)."""
    day = moment.astimezone(ZoneInfo(timezone)).date()
    if send_time(day, at, timezone) <= moment:
        day += timedelta(days=1)
    return edition_window(day, at, timezone, window_hours)
