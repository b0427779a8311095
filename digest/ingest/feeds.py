"""RSS 0.9x/1.0/2.0 and Atom documents into ArticleRecords, through feedparser."""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser

from digest.errors import IngestError
from digest.ingest.clean import absolute_url, body_text, plain_text, sanitise_summary
from digest.ingest.language import detect_language, normalise_language
from digest.ingest.records import ArticleRecord

#: A published date further ahead than this is a clock error at the source: clamp it.
FUTURE_TOLERANCE = timedelta(minutes=10)


@dataclass(frozen=True)
class SourceDefaults:
    """What the command line or the feed registration says about a source's items."""

    section: str | None = None
    language: str | None = None
    languages: tuple[str, ...] = ("en",)


@dataclass
class ParsedFeed:
    records: list[ArticleRecord]
    title: str
    warning: str | None


def _to_datetime(struct: time.struct_time | None) -> datetime | None:
    if not struct:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def parse_feed(
    content: bytes, *, source: str, now: datetime, defaults: SourceDefaults
) -> ParsedFeed:
    """Parse a feed; raise IngestError when it is not a feed or is beyond recovery."""
    document = feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False)
    version = document.get("version", "")
    if not version and not document.entries:
        reason = document.get("bozo_exception") or "no RSS or Atom elements"
        raise IngestError(f"{source}: not an RSS or Atom feed ({_short(reason)})")
    warning = None
    if document.get("bozo"):
        warning = f"{source}: malformed feed, recovered: {_short(document.get('bozo_exception'))}"
    feed = document.feed
    feed_language = normalise_language(feed.get("language"), defaults.languages)
    feed_date = _to_datetime(dict.get(feed, "updated_parsed") or dict.get(feed, "published_parsed"))
    base = feed.get("link") or (source if source.startswith(("http://", "https://")) else "")
    records = [
        record
        for record in _entries(
            document.entries, source, base, now, feed_language, feed_date, defaults
        )
        if record is not None
    ]
    return ParsedFeed(records=records, title=plain_text(feed.get("title")), warning=warning)


def _short(reason: Any) -> str:
    text = str(reason).splitlines()[0] if reason else "unknown problem"
    return text[:200]


def _entries(
    entries: list[Any],
    source: str,
    base: str,
    now: datetime,
    feed_language: str | None,
    feed_date: datetime | None,
    defaults: SourceDefaults,
) -> Iterator[ArticleRecord | None]:
    for entry in entries:
        yield _entry_record(entry, source, base, now, feed_language, feed_date, defaults)


def _entry_record(
    entry: Any,
    source: str,
    base: str,
    now: datetime,
    feed_language: str | None,
    feed_date: datetime | None,
    defaults: SourceDefaults,
) -> ArticleRecord | None:
    title = plain_text(entry.get("title"))
    link = absolute_url(entry.get("link"), base)
    entry_base = link or base
    summary_html = entry.get("summary") or ""
    content_html = ""
    for content in entry.get("content") or []:
        if content.get("value"):
            content_html = content["value"]
            break
    if content_html and not summary_html:
        summary_html = content_html
    guid = plain_text(entry.get("id")) or link
    if not title and not summary_html:
        return None  # nothing a reader could see
    if not title:
        title = plain_text(summary_html)[:120]
    if not guid:
        guid = "title:" + title
    published = _to_datetime(entry.get("published_parsed"))
    updated = _to_datetime(dict.get(entry, "updated_parsed"))
    estimated = False
    if published is None:
        published = updated or feed_date or now
        estimated = True
    if published > now + FUTURE_TOLERANCE:
        published, estimated = now, True
    if updated is not None and updated > now + FUTURE_TOLERANCE:
        updated = None  # a bogus future stamp says nothing about freshness
    summary = sanitise_summary(summary_html, entry_base)
    body = body_text(content_html) if content_html else ""
    entry_language = normalise_language(
        entry.get("language") or (entry.get("title_detail") or {}).get("language"),
        defaults.languages,
    )
    language = (
        entry_language
        or feed_language
        or normalise_language(defaults.language, defaults.languages)
        or detect_language(f"{title} {plain_text(summary_html)}", defaults.languages)
    )
    tags = [plain_text(tag.get("term") or tag.get("label")) for tag in entry.get("tags") or []]
    section = defaults.section or next((tag for tag in tags if tag), "")
    image_url = ""
    for media in (entry.get("media_content") or []) + (entry.get("media_thumbnail") or []):
        image_url = absolute_url(media.get("url"), entry_base)
        if image_url:
            break
    if not image_url:
        for enclosure in entry.get("enclosures") or []:
            if str(enclosure.get("type", "")).startswith("image/"):
                image_url = absolute_url(enclosure.get("href"), entry_base)
                if image_url:
                    break
    return ArticleRecord(
        guid=guid[:2048],
        title=title,
        url=link,
        summary=summary,
        body=body,
        section=section[:100],
        author=plain_text(entry.get("author"))[:300],
        language=language,
        image_url=image_url,
        published_at=published,
        updated_at=updated,
        date_estimated=estimated,
        source=source[:2048],
    )
