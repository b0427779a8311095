"""JSON exports from a CMS: an array of article objects, or JSON Lines (one per line).

The schema is documented in the README. A CMS export is structured data, so a wrong
type or an unreadable date is an error naming the line and field, and the whole
source is refused; unknown fields are ignored so exports may carry more than we read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from digest.errors import IngestError
from digest.ingest.clean import (
    absolute_url,
    body_text,
    html_text,
    is_image_url,
    plain_text,
    sanitise_summary,
    text_field,
    title_text,
)
from digest.ingest.dates import SourceDate, parse_any_date, settle, undated_reason, zone_warnings
from digest.ingest.jsonfeed import is_json_feed, parse_json_feed
from digest.ingest.language import choose_language
from digest.ingest.records import ArticleRecord, ParsedSource, SourceDefaults

TEXT_FIELDS = ("url", "title", "summary", "body", "section", "author", "language",
               "image_url", "published_at", "updated_at")  # fmt: skip
INT_MAX = 2**31 - 1
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def parse_json(
    content: bytes,
    *,
    source: str,
    now: datetime,
    defaults: SourceDefaults,
    lines: bool,
    base_url: str = "",
) -> ParsedSource:
    """Parse a JSON array (`lines=False`) or JSON Lines; IngestError names line and field.

    A JSON Feed (jsonfeed.org) is recognised by its version and read as a feed instead.
    """
    text = _decode(content, source)
    if is_json_feed(text):
        return parse_json_feed(text, source=source, now=now, defaults=defaults, base_url=base_url)
    items = _json_lines(text, source) if lines else _json_array(text, source)
    parsed = ParsedSource()
    try:
        for line, item in items:
            where = f"{source}: line {line}"
            record = _record(item, where, source, base_url, now, defaults, parsed.warnings)
            parsed.records.append(record)
            raw = item.get("published_at") or item.get("updated_at")
            if record.date_undated and isinstance(raw, str) and raw.strip():
                parsed.warnings.append(
                    f"{where}: date {raw[:80]!r} {undated_reason(raw)}; "
                    "stored with the fetch time, marked estimated"
                )
    except RecursionError:
        raise IngestError(f"{source}: invalid JSON: nested too deeply") from None
    return parsed


def _decode(content: bytes, source: str) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise IngestError(f"{source}: not UTF-8 text (byte {e.start})") from None


def _json_lines(text: str, source: str) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as e:
            raise IngestError(
                f"{source}: line {number}: invalid JSON: {e.msg} (column {e.colno})"
            ) from None


def _json_array(text: str, source: str) -> Iterator[tuple[int, Any]]:
    """The items of a top-level array, each with the line it starts on."""
    decoder = json.JSONDecoder()
    position = _JSON_SPACE.match(text).end()  # type: ignore[union-attr]
    if not text.startswith("[", position):
        if text.startswith("{", position):
            _whole_or_first_line(text, source)
        kind = "an object" if text.startswith("{", position) else "not an array"
        raise IngestError(
            f"{source}: expected a JSON array of articles, got {kind} "
            "(one article object per line is JSON Lines: format jsonl)"
        )
    position, line, counted, first = position + 1, 1, 0, True
    while True:
        position = _JSON_SPACE.match(text, position).end()  # type: ignore[union-attr]
        if first and text.startswith("]", position):
            break
        first = False
        line += text.count("\n", counted, position)
        counted = position
        try:
            item, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as e:
            raise IngestError(
                f"{source}: line {e.lineno}: invalid JSON: {e.msg} (column {e.colno})"
            ) from None
        yield line, item
        position = _JSON_SPACE.match(text, position).end()  # type: ignore[union-attr]
        if text.startswith("]", position):
            break
        if not text.startswith(",", position):
            raise _syntax(text, position, source, "expected ',' or ']' after an article")
        position += 1
    rest = _JSON_SPACE.match(text, position + 1).end()  # type: ignore[union-attr]
    if rest != len(text):
        raise _syntax(text, rest, source, "unexpected data after the array")


def _whole_or_first_line(text: str, source: str) -> None:
    """Raise the JSON error of a text that starts with an object and is neither one
    object nor JSON Lines (its first line an object): a broken object, not the wrong
    shape, so its line and column say more than "expected a JSON array"."""
    try:
        json.loads(text)
        return
    except json.JSONDecodeError as e:
        error = IngestError(f"{source}: line {e.lineno}: invalid JSON: {e.msg} (column {e.colno})")
    except RecursionError:
        error = IngestError(f"{source}: invalid JSON: nested too deeply")
    try:
        json.loads(text.lstrip().split("\n", 1)[0])
    except (json.JSONDecodeError, RecursionError):
        raise error from None


def _syntax(text: str, position: int, source: str, message: str) -> IngestError:
    line = text.count("\n", 0, position) + 1
    column = position - text.rfind("\n", 0, position)
    return IngestError(f"{source}: line {line}: invalid JSON: {message} (column {column})")


def _record(
    item: Any,
    where: str,
    source: str,
    base_url: str,
    now: datetime,
    defaults: SourceDefaults,
    warnings: list[str],
) -> ArticleRecord:
    if not isinstance(item, dict):
        raise IngestError(f"{where}: expected an article object, got {_kind(item)}")
    fields = {name: _text(item, name, where) for name in TEXT_FIELDS}
    title = title_text(fields["title"])  # plain text, as written: "Rates < 2%" stays
    if not title:
        raise IngestError(f"{where}: title: missing or empty")
    url = absolute_url(fields["url"], base_url or None)
    warnings += _unusable_address(where, "url", fields["url"], url)
    own_guid = plain_text(_guid(item, where))
    guid = own_guid or url
    if not guid:
        raise IngestError(f"{where}: guid: missing, and no usable url to key the article by")
    hints = (fields["language"], *defaults.languages)  # a region orders numeric dates
    dates = {
        name: _date(fields[name], name, where, hints) for name in ("published_at", "updated_at")
    }
    warnings += zone_warnings(where, dates)
    dating = settle(dates["published_at"], dates["updated_at"], fallback=None, now=now)
    summary = sanitise_summary(fields["summary"], url or base_url or None)
    language = choose_language(
        [fields["language"], defaults.language],
        defaults.languages,
        lambda: f"{title} {html_text(summary)}",
        title=title,
    )
    image_url = absolute_url(fields["image_url"], url or base_url or None)
    image_url = image_url if is_image_url(image_url) else ""
    warnings += _unusable_address(where, "image_url", fields["image_url"], image_url)
    return ArticleRecord(
        guid=guid,
        guid_is_url=not own_guid,
        title=title,
        url=url,
        summary=summary,
        body=body_text(fields["body"]),
        section=defaults.section or text_field(fields["section"]),
        author=text_field(fields["author"]),
        language=language.code,
        language_retagged=language.retagged,
        image_url=image_url,
        published_at=dating.published_at,
        updated_at=dating.updated_at,
        date_estimated=dating.estimated,
        date_undated=dating.undated,
        source=source,
        priority=_integer(item, "priority", where, default=0, low=-INT_MAX) or 0,
        popularity=_integer(item, "popularity", where, default=None, low=0),
    )


def _unusable_address(where: str, name: str, given: str, kept: str) -> list[str]:
    """A warning for an address given and not kept: not http(s) (javascript:, ftp:), a
    relative one with nothing to resolve it against, or an image field naming sound or
    a document. The article is stored without it."""
    if kept or not given.strip():
        return []
    kind = "an absolute http(s) address"
    if name == "image_url":
        kind = "an http(s) address of an image"
    return [f"{where}: {name}: {given.strip()[:80]!r} is not {kind}; ignored"]


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "true/false"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _text(item: dict[str, Any], name: str, where: str) -> str:
    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise IngestError(f"{where}: {name}: expected a string, got {_kind(value)}")
    return value


def _guid(item: dict[str, Any], where: str) -> str:
    value = item.get("guid")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # CMS ids are often numbers
    return _text(item, "guid", where)


def _date(value: str, name: str, where: str, languages: tuple[str, ...]) -> SourceDate | None:
    """ISO 8601 as documented; RFC 822 and localised dates are read too (CMSs vary)."""
    if not value:
        return None
    found = parse_any_date(value, languages)
    if found is None:
        raise IngestError(f"{where}: {name}: expected an ISO 8601 date-time, got {value!r}")
    return found


def _integer(
    item: dict[str, Any], name: str, where: str, *, default: int | None, low: int
) -> int | None:
    value = item.get(name)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= INT_MAX:
        shown = value if isinstance(value, int | float) else _kind(value)
        raise IngestError(
            f"{where}: {name}: expected a whole number from {low} to {INT_MAX}, got {shown}"
        )
    return value
