"""Upserting ArticleRecords: one row per guid, re-ingest is a no-op, newer content updates.

New rows go in with one multi-row INSERT per batch and changed rows with an UPDATE
by id; the ORM's per-object bookkeeping cost more than parsing the feed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from digest.ingest.records import ArticleRecord
from digest.models import Article

_BATCH = 500


@dataclass
class IngestCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Items not stored: nothing to show, or a second copy of a guid in the same source.
    skipped: int = 0

    def add(self, other: IngestCounts) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped += other.skipped


@dataclass(frozen=True)
class _Stored:
    id: int
    content_hash: str
    published_at: datetime
    updated_at: datetime | None


def store_records(
    session: Session, records: Iterable[ArticleRecord], now: datetime
) -> IngestCounts:
    """Insert or update; the caller's transaction decides whether it all lands."""
    counts = IngestCounts()
    unique: dict[str, ArticleRecord] = {}
    for record in records:
        previous = unique.get(record.guid)
        if previous is not None:
            # The same guid twice in one source: the newer version wins (the later on a tie).
            counts.skipped += 1
            if _stamp(record) < _stamp(previous):
                continue
        unique[record.guid] = record
    ordered = list(unique.values())
    for start in range(0, len(ordered), _BATCH):
        _store_batch(session, ordered[start : start + _BATCH], now, counts)
    return counts


def _stamp(record: ArticleRecord) -> datetime:
    return record.updated_at or record.published_at


def _store_batch(
    session: Session, batch: list[ArticleRecord], now: datetime, counts: IngestCounts
) -> None:
    query = select(
        Article.guid, Article.id, Article.content_hash, Article.published_at, Article.updated_at
    ).where(Article.guid.in_([record.guid for record in batch]))
    existing = {row.guid: _Stored(*row[1:]) for row in session.execute(query)}
    new_rows: list[dict[str, Any]] = []
    for record in batch:
        content_hash = record.content_hash()
        stored = existing.get(record.guid)
        if stored is None:
            new_rows.append({**_columns(record), "content_hash": content_hash, "ingested_at": now})
            counts.new += 1
        elif _is_older(record, stored) or (
            stored.content_hash == content_hash and not _is_newer(record, stored)
        ):
            counts.unchanged += 1  # the same, or an older copy (e.g. a stale mirror)
        else:
            values = {**_columns(record), "content_hash": content_hash}
            if record.date_estimated:
                # The source gives no date: the time we first saw it stays its date.
                values["published_at"] = stored.published_at
            session.execute(update(Article).where(Article.id == stored.id).values(**values))
            counts.updated += 1
    if new_rows:
        session.execute(insert(Article), new_rows)


def _is_newer(record: ArticleRecord, stored: _Stored) -> bool:
    return record.updated_at is not None and (
        stored.updated_at is None or record.updated_at > stored.updated_at
    )


def _is_older(record: ArticleRecord, stored: _Stored) -> bool:
    return (
        record.updated_at is not None
        and stored.updated_at is not None
        and record.updated_at < stored.updated_at
    )


def _columns(record: ArticleRecord) -> dict[str, Any]:
    return {
        "guid": record.guid,
        "url": record.url,
        "title": record.title,
        "summary": record.summary,
        "body": record.body,
        "section": record.section,
        "author": record.author,
        "language": record.language,
        "image_url": record.image_url,
        "published_at": record.published_at,
        "updated_at": record.updated_at,
        "date_estimated": record.date_estimated,
        "source": record.source,
        "priority": record.priority,
        "popularity": record.popularity,
    }
