"""JSON Feed 1.0/1.1 documents (https://jsonfeed.org/version/1.1) into ArticleRecords.

A JSON Feed is a feed, not a CMS export: like RSS and Atom, an item with nothing to show
is skipped and an unreadable date is a warning, not a refusal. The spec's types decide
what is markup: `title` and `summary` are plain text, `content_html` is HTML and
`content_text` plain text.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from digest.errors import IngestError
from digest.ingest.clean import (
    absolute_url,
    body_text,
    is_image_url,
    paragraphs,
    plain_text,
    sanitise_summary,
    text_field,
    text_summary,
    title_text,
)
from digest.ingest.dates import parse_any_date, settle, undated_reason, zone_warnings
from digest.ingest.language import choose_language
from digest.ingest.records import ArticleRecord, ParsedSource, SourceDefaults

VERSION_PREFIX = "https://jsonfeed.org/version/"

#: The item fields JSON Feed 1.1 types as strings; `id` may also come as a number (the
#: spec says to coerce it). Another type (`"title": ["a"]`, `"id": {"a": 1}`) is a
#: warning naming the item and the field, and the field is ignored.
STRING_FIELDS = (
    "id", "url", "external_url", "title", "content_html", "content_text", "summary",
    "image", "banner_image", "date_published", "date_modified", "language",
)  # fmt: skip


def is_json_feed(text: str) -> bool:
    """Whether `text` looks like a JSON Feed document (an object naming the spec version)."""
    return text.lstrip().startswith("{") and VERSION_PREFIX in text[:4096]


def parse_json_feed(
    text: str, *, source: str, now: datetime, defaults: SourceDefaults, base_url: str = ""
) -> ParsedSource:
    """Parse a JSON Feed; IngestError when it is not valid JSON or has no `items` list."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise IngestError(f"{source}: invalid JSON Feed: {str(e)[:120]}") from None
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise IngestError(f"{source}: not a JSON Feed (expected an object with an items list)")
    base = absolute_url(_string(document, "home_page_url"), base_url or None) or base_url
    parsed = ParsedSource(title=text_field(_string(document, "title")))
    for number, item in enumerate(document["items"], start=1):
        record = _item(item, document, source, base, now, defaults, parsed.warnings, number)
        if record is None:
            parsed.skipped += 1
        else:
            parsed.records.append(record)
    return parsed


def _string(node: Any, key: str) -> str:
    value = node.get(key) if isinstance(node, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # ids are sometimes numbers
    return value if isinstance(value, str) else ""


def _author(item: dict[str, Any], feed: dict[str, Any]) -> str:
    for node in (item, feed):
        authors = node.get("authors")
        for author in [*(authors if isinstance(authors, list) else []), node.get("author")]:
            name = _string(author, "name")
            if name:
                return text_field(name)
    return ""


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    return "a list" if isinstance(value, list) else "a string"


def _typed(item: dict[str, Any], where: str, warnings: list[str]) -> dict[str, Any]:
    """`item` without its string fields of another type, a warning naming each."""
    wrong = []
    for key in STRING_FIELDS:
        value = item.get(key)
        if value is None or isinstance(value, str):
            continue
        if key == "id" and isinstance(value, int | float) and not isinstance(value, bool):
            continue
        expected = "a string or number" if key == "id" else "a string"
        warnings.append(f"{where}: {key}: expected {expected}, got {_json_type(value)}; ignored")
        wrong.append(key)
    return {key: value for key, value in item.items() if key not in wrong}


def _item(
    item: Any,
    feed: dict[str, Any],
    source: str,
    base: str,
    now: datetime,
    defaults: SourceDefaults,
    warnings: list[str],
    number: int,
) -> ArticleRecord | None:
    where = f"{source}: item {number}"
    if not isinstance(item, dict):
        warnings.append(f"{where}: expected an object, got {_json_type(item)}; skipped")
        return None
    item = _typed(item, where, warnings)
    url = absolute_url(_string(item, "url") or _string(item, "external_url"), base or None)
    content_html, content_text = _string(item, "content_html"), _string(item, "content_text")
    summary_text = plain_text(_string(item, "summary"))
    opening = summary_text or paragraphs(content_text).split("\n\n")[0]
    if content_html:
        summary = text_summary(summary_text) or sanitise_summary(content_html, url or base)
    else:
        summary = text_summary(opening)
    title = title_text(_string(item, "title")) or title_text(opening[:120])
    if not title:
        warnings.append(f"{where}: no title, summary or content_text to show; skipped")
        return None
    guid = plain_text(_string(item, "id")) or url or "title:" + title
    hints = tuple(code for code in (_string(item, "language"), _string(feed, "language")) if code)
    languages = tuple(code.split("-")[0].lower() for code in hints) + defaults.languages
    dates = {
        key: parse_any_date(_string(item, key), languages)
        for key in ("date_published", "date_modified")
    }
    warnings += zone_warnings(f"{source}: item {guid!r}", dates)
    dating = settle(dates["date_published"], dates["date_modified"], fallback=None, now=now)
    raw = _string(item, "date_published") or _string(item, "date_modified")
    if dating.undated and raw:
        warnings.append(
            f"{source}: item {guid!r}: date {raw[:80]!r} {undated_reason(raw)}; "
            "stored with the fetch time, marked estimated"
        )
    language = choose_language(
        [*hints, defaults.language],
        defaults.languages,
        lambda: f"{title} {opening}",
        title=title,
    )
    image = absolute_url(_string(item, "image") or _string(item, "banner_image"), url or base)
    tags = item.get("tags")
    tags = tags if isinstance(tags, list) else []
    section = next((text_field(tag) for tag in tags if isinstance(tag, str) and tag.strip()), "")
    return ArticleRecord(
        guid=guid,
        title=title,
        url=url,
        summary=summary,
        body=paragraphs(content_text) if content_text else body_text(content_html),
        section=defaults.section or section,
        author=_author(item, feed),
        language=language.code,
        language_retagged=language.retagged,
        image_url=image if is_image_url(image) else "",
        published_at=dating.published_at,
        updated_at=dating.updated_at,
        date_estimated=dating.estimated,
        date_undated=dating.undated,
        source=source,
    )
