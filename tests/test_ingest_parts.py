"""Ingest's small parts: format detection, dates, languages, URLs, summaries (properties)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.ingest.clean import absolute_url, sanitise_summary, title_text
from digest.ingest.dates import FUTURE_TOLERANCE, SourceDate, parse_date, settle
from digest.ingest.detect import FEED, HTML, JSON, JSONL, detect_format
from digest.ingest.fetch import default_user_agent, display_url, without_credentials
from digest.ingest.language import choose_language
from digest.ingest.records import ArticleRecord
from tests.conftest import FIXTURES

NOW = datetime(2025, 6, 4, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- c --><rss version="2.0"/>', FEED),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'/>", FEED),
        (b"<rdf:RDF xmlns:rdf='x'/>", FEED),
        ("<?xml version='1.0' encoding='utf-16'?><rss/>".encode("utf-16"), FEED),
        (b"<!DOCTYPE html>\n<html><body>x</body></html>", HTML),
        (b"  <html lang='ar'>", HTML),
        (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">', HTML),
        (b'[{"guid": "a"}]', JSON),
        (b'{\n  "guid": "a"\n}', JSON),
        (b'{"guid": "a"}\n{"guid": "b"}\n', JSONL),
        (b"plain words", None),
        (b"\x89PNG\r\n\x1a\n", None),
        (b"", None),
    ],
)
def test_format_detection(content: bytes, expected: str | None) -> None:
    assert detect_format(content) == expected


def test_a_long_first_json_line_is_still_json_lines() -> None:
    line = b'{"guid": "a", "body": "' + b"x" * 20_000 + b'"}\n'
    assert detect_format(line + line) == JSONL


def test_fixture_formats_match_their_content() -> None:
    kinds = {
        path.name: detect_format(path.read_bytes()) for path in (FIXTURES / "ingest").iterdir()
    }
    assert kinds["articles.json"] == JSON and kinds["articles.jsonl"] == JSONL
    assert kinds["arabpress-article.html"] == HTML and kinds["rss1.rdf"] == FEED


def test_dates_parse_to_utc_and_day_only_is_imprecise() -> None:
    assert parse_date("2025-06-04T06:40:00+03:00") == SourceDate(
        datetime(2025, 6, 4, 3, 40, tzinfo=UTC)
    )
    assert parse_date("2025-06-04T06:40:00") == SourceDate(datetime(2025, 6, 4, 6, 40, tzinfo=UTC))
    assert parse_date("Wed, 04 Jun 2025 06:40:00 +0300").moment.hour == 3
    assert parse_date("2025-06-04").precise is False
    # an offset no zone uses (the tz database spans -12:00 to +14:00) is a broken date
    for bad in (
        "",
        "yesterday",
        "2025-13-01",
        "2025-06-04T06:40:00+99:00",
        "2025-06-04T06:40-23:59",
    ):
        with pytest.raises(ValueError):
            parse_date(bad)
    # shifted off the calendar: its first or last instant (a zero value, a future date)
    assert parse_date("9999-12-31T23:59:59-12:00").moment.year == 9999
    assert parse_date("0001-01-01T00:00:00+03:00").moment.year == 1
    # the email module reads the year 0001 as 2001; it is Go's zero value
    assert parse_date("Mon, 01 Jan 0001 00:00:00 GMT").moment.year == 1
    assert parse_date("Sat, 01 Jan 0000 00:00:00 GMT").moment.year == 1


def test_settle_prefers_the_source_and_flags_the_rest() -> None:
    given_date = SourceDate(datetime(2025, 6, 3, 9, tzinfo=UTC))
    assert settle(given_date, None, fallback=None, now=NOW).estimated is False
    updated_only = settle(None, given_date, fallback=None, now=NOW)
    assert updated_only.published_at == given_date.moment and not updated_only.estimated
    feed_date = datetime(2025, 6, 3, 1, tzinfo=UTC)
    assert settle(None, None, fallback=feed_date, now=NOW).published_at == feed_date
    assert settle(None, None, fallback=None, now=NOW).estimated is True
    slightly_ahead = SourceDate(NOW + FUTURE_TOLERANCE / 2)
    assert settle(slightly_ahead, None, fallback=None, now=NOW).estimated is False
    future = settle(SourceDate(datetime(2100, 1, 1, tzinfo=UTC)), None, fallback=None, now=NOW)
    assert future.published_at == NOW and future.estimated is True
    zero = settle(SourceDate(datetime(1, 1, 1, tzinfo=UTC)), None, fallback=None, now=NOW)
    assert zero.published_at == NOW and zero.undated is True
    zero_feed = settle(None, None, fallback=datetime(1970, 1, 1, tzinfo=UTC), now=NOW)
    assert zero_feed.published_at == NOW and zero_feed.undated is True
    epoch = SourceDate(datetime(1970, 1, 1, tzinfo=UTC))
    assert settle(epoch, given_date, fallback=None, now=NOW).published_at == given_date.moment


def test_language_order_and_detection() -> None:
    languages = ("en", "ar")
    assert choose_language(["ar-SA", "en"], languages, lambda: "x").code == "ar"
    assert choose_language(["fr", None, "EN_gb"], languages, lambda: "x").code == "en"
    assert choose_language([None], languages, lambda: "أخبار اليوم").code == "ar"
    assert choose_language([None], languages, lambda: "News today").code == "en"
    assert choose_language([None], ("ar",), lambda: "News today").code == "ar"


def test_urls_without_passwords() -> None:
    assert display_url("https://user:pw@news.example/rss") == "https://user:***@news.example/rss"
    assert display_url("https://news.example/a@b") == "https://news.example/a@b"
    assert without_credentials("https://user:pw@news.example/rss") == "https://news.example/rss"
    assert default_user_agent("https://site.example").endswith(" (+https://site.example)")
    assert "(" not in default_user_agent("https://عرب.example")


def test_records_fit_their_columns_without_corruption() -> None:
    long_url = "https://news.example/" + "a" * 3000
    record = ArticleRecord(guid=long_url, title="T", published_at=NOW, url=long_url,
                           section="s" * 300)  # fmt: skip
    assert record.guid.startswith("sha256:") and len(record.guid) < 100
    assert record.url == "" and len(record.section) == 100


def test_long_titles_are_cut_at_a_word() -> None:
    title = title_text("word " * 200)
    assert len(title) <= 500 and title.endswith("word…")


HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href=" java\tscript:alert(1)">x</a>',
        '<img src="data:image/svg+xml;base64,PHN2Zz4=">',
        '<p onclick="steal()">',
        "<iframe src='https://evil.example'></iframe>",
        "<style>body{display:none}</style>",
        "<svg><script>alert(1)</script></svg>",
        "<math><mtext><style><img src=x onerror=alert(1)>",
        "\u202e",
    ]
)


@given(st.lists(st.one_of(HOSTILE, st.text(max_size=20)), max_size=8))
def test_summaries_never_carry_active_content(parts: list[str]) -> None:
    cleaned = sanitise_summary("".join(parts), "https://news.example/world/")
    lowered = cleaned.lower()
    for forbidden in ("<script", "<style", "<iframe", "<svg", "javascript:", "data:", "onerror",
                      "onclick", "\u202e"):  # fmt: skip
        assert forbidden not in lowered


@given(st.text(max_size=40))
def test_absolute_url_is_empty_or_http(value: str) -> None:
    url = absolute_url(value, "https://news.example/a/")
    assert url == "" or url.lower().startswith(("http://", "https://"))
    assert not any(ch in url for ch in "\r\n\t\x00")
