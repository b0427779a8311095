"""Upserting ArticleRecords: one row per guid, re-ingest is a no-op, newer content updates."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.ingest.records import ArticleRecord
from digest.models import Article

_BATCH = 500


@dataclass
class IngestCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)

    def add(self, other: IngestCounts) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped += other.skipped
        self.warnings.extend(other.warnings)


def store_records(
    session: Session, records: Iterable[ArticleRecord], now: datetime
) -> IngestCounts:
    """Insert or update; the caller's transaction decides whether it all lands."""
    counts = IngestCounts()
    batch: dict[str, ArticleRecord] = {}
    for record in records:
        if record.guid in batch:
            # The same guid twice in one source: the later (or newer) version wins.
            counts.skipped += 1
            previous = batch[record.guid]
            if (record.updated_at or record.published_at) < (
                previous.updated_at or previous.published_at
            ):
                continue
        batch[record.guid] = record
        if len(batch) >= _BATCH:
            _store_batch(session, batch, now, counts)
            batch = {}
    if batch:
        _store_batch(session, batch, now, counts)
    return counts


def _store_batch(
    session: Session, batch: dict[str, ArticleRecord], now: datetime, counts: IngestCounts
) -> None:
    existing = {
        article.guid: article
        for article in session.scalars(select(Article).where(Article.guid.in_(list(batch))))
    }
    for guid, record in batch.items():
        content_hash = record.content_hash()
        article = existing.get(guid)
        if article is None:
            session.add(_new_article(record, content_hash, now))
            counts.new += 1
            continue
        if article.content_hash == content_hash and not _is_newer(record, article):
            counts.unchanged += 1
            continue
        if _is_older(record, article):
            counts.unchanged += 1  # an older copy (e.g. a stale mirror) never overwrites
            continue
        _update_article(article, record, content_hash)
        counts.updated += 1
    session.flush()


def _is_newer(record: ArticleRecord, article: Article) -> bool:
    return record.updated_at is not None and (
        article.updated_at is None or record.updated_at > article.updated_at
    )


def _is_older(record: ArticleRecord, article: Article) -> bool:
    return (
        record.updated_at is not None
        and article.updated_at is not None
        and record.updated_at < article.updated_at
    )


def _new_article(record: ArticleRecord, content_hash: str, now: datetime) -> Article:
    article = Article(ingested_at=now, content_hash=content_hash)
    _copy(article, record)
    return article


def _update_article(article: Article, record: ArticleRecord, content_hash: str) -> None:
    first_seen = article.published_at
    _copy(article, record)
    if record.date_estimated:
        # The source gives no date: the time we first saw it stays its date.
        article.published_at = first_seen
    article.content_hash = content_hash


def _copy(article: Article, record: ArticleRecord) -> None:
    article.guid = record.guid
    article.url = record.url
    article.title = record.title
    article.summary = record.summary
    article.body = record.body
    article.section = record.section
    article.author = record.author
    article.language = record.language
    article.image_url = record.image_url
    article.published_at = record.published_at
    article.updated_at = record.updated_at
    article.date_estimated = record.date_estimated
    article.source = record.source
    article.priority = record.priority
    article.popularity = record.popularity
