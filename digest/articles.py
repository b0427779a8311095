"""Queries over the article store used by `digest articles list`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.errors import DigestError
from digest.models import Article

_RELATIVE = re.compile(r"^(\d{1,6})\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime) -> datetime:
    """'24h', '7d', '30m', '2w' or an ISO 8601 date/time (UTC if no zone given)."""
    text = value.strip().lower()
    match = _RELATIVE.match(text)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise DigestError(
            f"expected e.g. 24h, 7d or an ISO 8601 date, got {value!r}", field="since"
        ) from None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def list_articles(
    session: Session,
    *,
    since: datetime | None = None,
    language: str | None = None,
    languages: tuple[str, ...] | None = None,
) -> list[Article]:
    """Newest first; ties broken by guid so the order is stable."""
    if language is not None and languages is not None and language not in languages:
        raise DigestError(
            f"{language!r} is not one of the site's languages ({', '.join(languages)})",
            field="language",
        )
    query = select(Article)
    if since is not None:
        query = query.where(Article.published_at >= since)
    if language is not None:
        query = query.where(Article.language == language)
    return list(session.scalars(query.order_by(Article.published_at.desc(), Article.guid)))
