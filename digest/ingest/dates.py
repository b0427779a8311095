"""Article dates: always UTC, never in the future, flagged when they were not given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

#: A date further ahead than this is a clock error at the source: clamp it.
FUTURE_TOLERANCE = timedelta(minutes=10)


@dataclass(frozen=True)
class Dating:
    published_at: datetime
    updated_at: datetime | None
    #: The source gave no date (or only a day, or one in the future): handle with care.
    estimated: bool


@dataclass(frozen=True)
class SourceDate:
    moment: datetime
    #: False when the source gave only a day, not a time.
    precise: bool = True


def settle(
    published: SourceDate | None,
    updated: SourceDate | None,
    *,
    fallback: datetime | None,
    now: datetime,
) -> Dating:
    """Pick the stored dates: the source's own, else the feed's or fetch time (flagged)."""
    estimated = False
    if published is None:
        published = updated
    if published is None:
        moment, estimated = fallback or now, True
    else:
        moment, estimated = published.moment, not published.precise
    if moment > now + FUTURE_TOLERANCE:
        moment, estimated = now, True
    updated_at = updated.moment if updated else None
    if updated_at is not None and updated_at > now + FUTURE_TOLERANCE:
        updated_at = None  # a bogus future stamp says nothing about freshness
    return Dating(moment.astimezone(UTC), updated_at and updated_at.astimezone(UTC), estimated)


def parse_date(value: str) -> SourceDate:
    """ISO 8601 (or RFC 2822) into UTC; no offset means UTC. Raises ValueError."""
    text = value.strip()
    if not text:
        raise ValueError("empty date")
    try:
        moment = datetime.fromisoformat(text)
        precise = "T" in text.upper() or " " in text
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"not an ISO 8601 date-time: {value!r}") from None
        precise = True
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return SourceDate(moment.astimezone(UTC), precise)
    except OverflowError:
        raise ValueError(f"date out of range: {value!r}") from None


def try_parse_date(value: str | None) -> SourceDate | None:
    """parse_date for sources where a bad date just means no date."""
    if not value or not isinstance(value, str):
        return None
    try:
        return parse_date(value)
    except ValueError:
        return None
