"""RSS 0.9x/1.0/2.0 and Atom documents into ArticleRecords, through feedparser."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from xml.sax import SAXParseException

from digest.errors import IngestError
from digest.ingest.clean import (
    absolute_url,
    body_text,
    html_text,
    is_html,
    is_image_url,
    paragraphs,
    plain_text,
    sanitise_summary,
    text_field,
    text_summary,
    title_text,
)
from digest.ingest.dates import (
    EARLIEST,
    SourceDate,
    parse_any_date,
    settle,
    undated_reason,
    zone_warnings,
)
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
            _whole_characters(bytes(content)),
            sanitize_html=False,
            resolve_relative_uris=False,
            response_headers=headers,
        )
    except Exception as e:  # hostile input can trip the parser itself: a bad source, no crash
        raise IngestError(f"{source}: feed parser failed: {type(e).__name__}: {e}") from e
    problem = document.get("bozo_exception")
    added = 0 if _declares_xml(content) else 1
    if not document.get("version") and not document.entries:
        reason = _short(problem, "no feed elements", added)
        raise IngestError(f"{source}: not an RSS or Atom feed ({reason})")
    feed = document.feed
    parsed = ParsedSource(title=_text_of(feed, "title"))
    feed_base = absolute_url(feed.get("link"), base_url or None) or base_url
    feed_languages = tuple(c for c in (dict.get(feed, "language"), defaults.language) if c)
    feed_dated = _source_date(feed, "updated", feed_languages) or _source_date(
        feed, "published", feed_languages
    )
    feed_date = feed_dated.moment if feed_dated else None
    if feed_date is not None and feed_date < EARLIEST:
        feed_date = None  # a zero value: the fetch time stands in
    for number, entry in enumerate(document.entries, start=1):
        record = _entry_record(
            entry, source, feed_base, now, feed, feed_date, defaults, parsed.warnings
        )
        if record is not None and record.date_undated:
            raw = _raw_date(entry)
            if raw:  # no date at all is common and was never worth a line; a bad one is
                time_used = "the feed's date" if feed_date else "the fetch time"
                parsed.warnings.append(
                    f"{source}: item {record.guid!r}: date {raw[:80]!r} {undated_reason(raw)}; "
                    f"stored with {time_used}, marked estimated"
                )
        if record is None:
            parsed.skipped += 1
            parsed.warnings.append(f"{source}: item {number}: no title or summary to show; skipped")
        else:
            parsed.records.append(record)
    # A feed served as text/html is common and harmless: not worth a warning.
    if document.get("bozo") and not isinstance(problem, feedparser.NonXMLContentType):
        if not parsed.records:
            reason = _short(problem, added_lines=added)
            raise IngestError(f"{source}: malformed feed, nothing recoverable ({reason})")
        parsed.warnings.append(
            f"{source}: malformed feed, recovered: {_short(problem, added_lines=added)}"
        )
    return parsed


#: A numeric character reference (XML 1.0 section 4.1), hexadecimal or decimal.
_REFERENCE = re.compile(r"&#(?:[xX]([0-9A-Fa-f]{1,8})|([0-9]{1,10}));")


def _whole_characters(content: bytes) -> bytes:
    """The feed with character references to UTF-16 surrogates mended: a pair written
    as two references (``&#xD83D;&#xDE00;``, as Java, .NET and JavaScript serialisers
    write an emoji) becomes the one character it encodes, and a lone one U+FFFD.

    XML allows neither (XML 1.0 section 2.2, Char), and the parser failed on the whole
    feed, good items too (a breaker pass). References are ASCII, so a feed in any
    ASCII-compatible encoding is mended through latin-1, which maps bytes to characters
    one to one; a UTF-16 feed (with its byte order mark) through its own encoding.
    """
    if b"&#" not in content and b"&\x00#" not in content:
        return content
    codec = "latin-1"
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16"
    try:
        text = content.decode(codec)
    except UnicodeDecodeError:
        return content  # the parser will say what is wrong with it
    found = list(_REFERENCE.finditer(text))
    pieces, last, number = [], 0, 0
    while number < len(found):
        reference = found[number]
        value = _code_point(reference)
        after = found[number + 1] if number + 1 < len(found) else None
        if (
            0xD800 <= value <= 0xDBFF
            and after is not None
            and after.start() == reference.end()
            and 0xDC00 <= _code_point(after) <= 0xDFFF
        ):
            joined = 0x10000 + ((value - 0xD800) << 10) + (_code_point(after) - 0xDC00)
            pieces += [text[last : reference.start()], f"&#x{joined:X};"]
            last, number = after.end(), number + 2
            continue
        if 0xD800 <= value <= 0xDFFF:
            pieces += [text[last : reference.start()], "&#xFFFD;"]
            last = reference.end()
        number += 1
    if not pieces:
        return content
    return ("".join(pieces) + text[last:]).encode(codec)


def _code_point(reference: re.Match[str]) -> int:
    return int(reference[1], 16) if reference[1] else int(reference[2])


#: Byte order marks a feed may start with, and the encoding each announces.
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def _declares_xml(content: bytes) -> bool:
    """Whether the document starts with an XML declaration (`<?xml ...?>`), after any byte
    order mark. feedparser parses a document without one with its own declaration and a
    line break put in front, so the line numbers of its XML errors are one too many."""
    head, encoding = content[:200], "utf-8"
    for mark, announced in _BOMS:
        if head.startswith(mark):
            head, encoding = head[len(mark) :], announced
            break
    return head.decode(encoding, errors="ignore").startswith("<?xml")


def _short(reason: Any, default: str = "unknown problem", added_lines: int = 0) -> str:
    """One line about what feedparser found wrong, with the place for XML errors in the
    source's own lines (`added_lines`: lines feedparser put in front, `_declares_xml`)."""
    if isinstance(reason, SAXParseException):
        line = max((reason.getLineNumber() or 1) - added_lines, 1)
        return f"line {line}, column {reason.getColumnNumber()}: {reason.getMessage()}"
    text = str(reason).splitlines()[0] if reason else default
    return text[:200]


def _text_of(node: Any, key: str) -> str:
    """A text construct (title, author...) as one line: markup dropped only when it is HTML."""
    detail = dict.get(node, key + "_detail") or {}
    value = dict.get(node, key)
    return html_text(value) if is_html(detail.get("type")) else text_field(value)


def _source_date(entry: Any, key: str, languages: tuple[str, ...]) -> SourceDate | None:
    """The date as written, read by the rule every format shares (`parse_any_date`).

    Not feedparser's reading: it takes any zone name it does not know for UTC (EET,
    MSK), AST for Atlantic time, drops the time of "2025-06-04 06:40:00 AST", and
    accepts offsets no place uses (+99:00)."""
    raw = dict.get(entry, key)
    return parse_any_date(raw, languages) if isinstance(raw, str) else None


def _raw_date(entry: Any) -> str:
    """The date as the entry wrote it (published, else updated), "" when it has none."""
    for key in ("published", "updated"):
        value = dict.get(entry, key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _entry_record(
    entry: Any,
    source: str,
    base: str,
    now: datetime,
    feed: Any,
    feed_date: datetime | None,
    defaults: SourceDefaults,
    warnings: list[str],
) -> ArticleRecord | None:
    # dict.get, not entry.get: FeedParserDict's own lookup is slow, and these keys are plain.
    link = absolute_url(dict.get(entry, "link"), base or None)
    entry_base = link or base or None
    summary, summary_base, content = _texts(entry, entry_base)
    summary_value, summary_html = summary

    def summary_text() -> str:
        return html_text(summary_value) if summary_html else plain_text(summary_value)

    # The raw title, decoded once by title_text: _text_of's result is text already, and
    # reading it as a title again dropped "<script>" a feed wrote as &amp;lt;script&amp;gt;.
    # So is a title taken from an HTML summary: `summary_text` decoded it.
    title_detail = dict.get(entry, "title_detail") or {}
    title = title_text(
        dict.get(entry, "title"), markup=is_html(title_detail.get("type"))
    ) or title_text(summary_text()[:120], decoded=summary_html)  # no title: the summary's
    if not title:
        return None  # nothing a reader could see
    declared = [
        dict.get(entry, "language"),
        (dict.get(entry, "title_detail") or {}).get("language"),
        dict.get(feed, "language"),
        defaults.language,
    ]
    # Whole tags: the region orders numeric dates (en-GB is day first).
    hints = tuple(str(code) for code in declared if isinstance(code, str) and code)
    hints += defaults.languages
    dates = {key: _source_date(entry, key, hints) for key in ("published", "updated")}
    own_guid = plain_text(dict.get(entry, "id"))
    guid = own_guid or link or "title:" + title
    warnings += zone_warnings(f"{source}: item {guid!r}", dates)
    dating = settle(dates["published"], dates["updated"], fallback=feed_date, now=now)
    tags = (plain_text(tag.get("term") or tag.get("label")) for tag in entry.get("tags") or [])
    language = choose_language(
        declared, defaults.languages, lambda: f"{title} {summary_text()}", title=title
    )
    content_value, content_html = content
    return ArticleRecord(
        guid=guid,
        guid_is_url=not own_guid and bool(link),
        title=title,
        url=link,
        summary=(
            sanitise_summary(summary_value, summary_base)
            if summary_html
            else text_summary(summary_value)
        ),
        body=body_text(content_value) if content_html else paragraphs(content_value),
        section=defaults.section or next((tag for tag in tags if tag), ""),
        author=_text_of(entry, "author"),
        language=language.code,
        language_retagged=language.retagged,
        image_url=_image_url(entry, entry_base),
        published_at=dating.published_at,
        updated_at=dating.updated_at,
        date_estimated=dating.estimated,
        date_undated=dating.undated,
        source=source,
    )


def _texts(
    entry: Any, entry_base: str | None
) -> tuple[tuple[str, bool], str | None, tuple[str, bool]]:
    """((summary, is HTML), the base its links resolve against, (full content, is HTML))."""
    content: dict[str, Any] = next(
        (c for c in dict.get(entry, "content") or [] if c.get("value")), {}
    )
    content_value = content.get("value", "")
    content_html = is_html(content.get("type", "text/html"))
    summary_value = dict.get(entry, "summary")
    summary_detail = dict.get(entry, "summary_detail") or {}
    summary_html = is_html(summary_detail.get("type", "text/html"))
    if not summary_value:
        summary_value, summary_html = content_value, content_html
    # Links in content resolve against its xml:base (or the document's URL), as in XML Base;
    # a local file without either resolves them against the entry's link.
    detail = summary_detail or content or {}
    return (
        (summary_value, summary_html),
        detail.get("base") or entry_base,
        (content_value, content_html),
    )


def _image_url(entry: Any, base: str | None) -> str:
    """The story image: an image the feed names as one (Media RSS `medium="image"` or an
    `image/*` type, on media:content or an enclosure), else a media:thumbnail (a video's
    still). A podcast's audio or a video file is never an image (Media RSS 1.5.1)."""
    for media in dict.get(entry, "media_content") or []:
        medium = str(media.get("medium") or "").lower()
        kind = str(media.get("type") or "").lower()
        if medium == "image" or kind.startswith("image/"):
            url = absolute_url(media.get("url"), base)
            if is_image_url(url):
                return url
    for enclosure in entry.get("enclosures") or []:  # derived by FeedParserDict: its get
        if str(enclosure.get("type", "")).lower().startswith("image/"):
            url = absolute_url(enclosure.get("href"), base)
            if is_image_url(url):
                return url
    for thumbnail in dict.get(entry, "media_thumbnail") or []:
        url = absolute_url(thumbnail.get("url"), base)
        if is_image_url(url):
            return url
    return ""
