"""Ingest's cleaning: titles safe for a Subject line, summaries safe to show."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from digest.ingest.clean import absolute_url, plain_text, sanitise_summary


def test_title_loses_markup_controls_and_bidi_overrides() -> None:
    title = "Breaking:\r\nBcc: x@example.com\t\u202eevil\u202c <b>bold</b> &amp; more\x00"
    assert plain_text(title) == "Breaking: Bcc: x@example.com evil bold & more"


def test_arabic_diacritics_are_kept_in_titles() -> None:
    title = "روسيا تُبدي قلقها"
    assert plain_text(title) == title


@given(st.text())
def test_plain_text_is_always_one_safe_line(value: str) -> None:
    cleaned = plain_text(value)
    assert "\r" not in cleaned and "\n" not in cleaned
    assert not any(0x202A <= ord(ch) <= 0x202E or 0x2066 <= ord(ch) <= 0x2069 for ch in cleaned)
    assert cleaned == cleaned.strip()


def test_summary_is_sanitised_and_links_made_absolute() -> None:
    dirty = (
        '<p onclick="x()">Hi <script>alert(1)</script><style>p{}</style>'
        '<iframe src="https://evil.example/"></iframe>'
        '<a href="javascript:alert(2)">js</a> <a href="data:text/html,hi">data</a> '
        '<a href="/more">more</a> <img src="pic.png" onerror="y()"></p>'
    )
    clean = sanitise_summary(dirty, "https://news.example/world/story")
    for forbidden in ("script", "style", "iframe", "onclick", "onerror", "javascript:", "data:"):
        assert forbidden not in clean
    assert 'href="https://news.example/more"' in clean
    assert 'src="https://news.example/world/pic.png"' in clean


def test_absolute_url_accepts_only_http() -> None:
    assert absolute_url("/a", "https://x.example/b/") == "https://x.example/a"
    assert absolute_url("javascript:alert(1)", "https://x.example/") == ""
    assert absolute_url("ftp://x.example/f", None) == ""
