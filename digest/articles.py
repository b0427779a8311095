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


def article_by_guid(session: Session, guid: str, source: str | None = None) -> Article:
    """The one article with `guid` (of `source`, a feed URL or file named as the user
    wrote it: a guid is unique within one source only). Raises DigestError when there
    is none, or several and `source` does not say which (naming the `source` field): a
    command that acts on an article never picks one of several by chance."""
    from digest.ingest.file_sources import recorded_source
    from digest.selection.store import articles_by_guid

    guid = guid.strip()  # as ingest stores it
    found = articles_by_guid(session, guid, source)
    if not found and source:
        recorded = recorded_source(session, source)  # named another way
        if recorded != source:
            found = articles_by_guid(session, guid, recorded)
    if not found:
        where = "" if source is None else f" from source {source!r}"
        raise DigestError(
            f"no article with guid {guid!r}{where}",
            hint="see 'digest articles list' for guids",
        )
    if len(found) > 1:
        sources = ", ".join(repr(article.source) for article in found[:5])
        raise DigestError(
            f"{len(found)} articles have guid {guid!r} (sources {sources}); name the source",
            field="source",
        )
    return found[0]
