"""RSS 0.9x/1.0/2.0 and Atom documents into ArticleRecords, through feedparser."""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime
from typing import Any
from xml.sax import SAXParseException

from digest.errors import IngestError
from digest.ingest.clean import (
    absolute_url,
    body_text,
    plain_text,
    sanitise_summary,
    title_text,
)
from digest.ingest.dates import SourceDate, settle
from digest.ingest.language import choose_language
from digest.ingest.records import ArticleRecord, ParsedSource, SourceDefaults

__all__ = ["SourceDefaults", "parse_feed"]


def parse_feed(
    content: bytes,
    *,
    source: str,
    now: datetime,
    defaults: SourceDefaults,
    base_url: str = "",
    content_type: str = "",
) -> ParsedSource:
    """Parse a feed; raise IngestError when it is not a feed or is beyond recovery."""
    import feedparser  # here, not at the top: only ingest needs it (faster CLI start)

    headers = {"content-type": content_type} if content_type else {}
    if base_url:
        headers["content-location"] = base_url
    # Bytes, never a str: feedparser would treat a str as a URL or file name to open.
    try:
        document = feedparser.parse(
            bytes(content),
            sanitize_html=False,
            resolve_relative_uris=False,
            response_headers=headers,
        )
    except Exception as e:  # hostile input can trip the parser itself: a bad source, no crash
        raise IngestError(f"{source}: feed parser failed: {type(e).__name__}: {e}") from e
    problem = document.get("bozo_exception")
    if not document.get("version") and not document.entries:
        reason = _short(problem, "no feed elements")
        raise IngestError(f"{source}: not an RSS or Atom feed ({reason})")
    parsed = ParsedSource(title=plain_text(document.feed.get("title")))
    feed = document.feed
    feed_base = absolute_url(feed.get("link"), base_url or None) or base_url
    feed_date = _to_datetime(dict.get(feed, "updated_parsed") or dict.get(feed, "published_parsed"))
    for entry in document.entries:
        record = _entry_record(entry, source, feed_base, now, feed, feed_date, defaults)
        if record is None:
            parsed.skipped += 1
        else:
            parsed.records.append(record)
    # A feed served as text/html is common and harmless: not worth a warning.
    if document.get("bozo") and not isinstance(problem, feedparser.NonXMLContentType):
        if not parsed.records:
            raise IngestError(f"{source}: malformed feed, nothing recoverable ({_short(problem)})")
        parsed.warnings.append(f"{source}: malformed feed, recovered: {_short(problem)}")
    return parsed


def _short(reason: Any, default: str = "unknown problem") -> str:
    """One line about what feedparser found wrong, with the place for XML errors."""
    if isinstance(reason, SAXParseException):
        return f"line {reason.getLineNumber()}, column {reason.getColumnNumber()}: " + (
            reason.getMessage()
        )
    text = str(reason).splitlines()[0] if reason else default
    return text[:200]


def _to_datetime(struct: time.struct_time | None) -> datetime | None:
    if not struct:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _source_date(entry: Any, key: str) -> SourceDate | None:
    moment = _to_datetime(dict.get(entry, key))
    return SourceDate(moment) if moment else None


def _entry_record(
    entry: Any,
    source: str,
    base: str,
    now: datetime,
    feed: Any,
    feed_date: datetime | None,
    defaults: SourceDefaults,
) -> ArticleRecord | None:
    # dict.get, not entry.get: FeedParserDict's own lookup is slow, and these keys are plain.
    link = absolute_url(dict.get(entry, "link"), base or None)
    entry_base = link or base or None
    summary_html, summary_base, content_html = _texts(entry, entry_base)
    title = title_text(dict.get(entry, "title")) or title_text(plain_text(summary_html)[:120])
    if not title:
        return None  # nothing a reader could see
    dating = settle(
        _source_date(entry, "published_parsed"),
        _source_date(entry, "updated_parsed"),
        fallback=feed_date,
        now=now,
    )
    tags = (plain_text(tag.get("term") or tag.get("label")) for tag in entry.get("tags") or [])
    language = choose_language(
        [
            dict.get(entry, "language"),
            (dict.get(entry, "title_detail") or {}).get("language"),
            dict.get(feed, "language"),
            defaults.language,
        ],
        defaults.languages,
        lambda: f"{title} {plain_text(summary_html)}",
    )
    return ArticleRecord(
        guid=plain_text(dict.get(entry, "id")) or link or "title:" + title,
        title=title,
        url=link,
        summary=sanitise_summary(summary_html, summary_base),
        body=body_text(content_html),
        section=defaults.section or next((tag for tag in tags if tag), ""),
        author=plain_text(dict.get(entry, "author")),
        language=language,
        image_url=_image_url(entry, entry_base),
        published_at=dating.published_at,
        updated_at=dating.updated_at,
        date_estimated=dating.estimated,
        source=source,
    )


def _texts(entry: Any, entry_base: str | None) -> tuple[str, str | None, str]:
    """(summary HTML, the base its links resolve against, full content HTML)."""
    content: dict[str, Any] = next(
        (c for c in dict.get(entry, "content") or [] if c.get("value")), {}
    )
    content_html = content.get("value", "")
    summary_html = dict.get(entry, "summary") or content_html
    # Links in content resolve against its xml:base (or the document's URL), as in XML Base;
    # a local file without either resolves them against the entry's link.
    detail = dict.get(entry, "summary_detail") or content or {}
    return summary_html, detail.get("base") or entry_base, content_html


def _image_url(entry: Any, base: str | None) -> str:
    media_items = (dict.get(entry, "media_content") or []) + (
        dict.get(entry, "media_thumbnail") or []
    )
    for media in media_items:
        medium = str(media.get("medium") or "image")
        url = absolute_url(media.get("url"), base)
        if url and medium == "image":
            return url
    for enclosure in entry.get("enclosures") or []:  # derived by FeedParserDict: its get
        if str(enclosure.get("type", "")).startswith("image/"):
            url = absolute_url(enclosure.get("href"), base)
            if url:
                return url
    return ""
