"""Ingest's cleaning: titles safe for a Subject line, summaries safe to show."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from digest.ingest.clean import absolute_url, html_text, plain_text, sanitise_summary


def test_html_title_loses_markup_controls_and_bidi_overrides() -> None:
    title = "Breaking:\r\nBcc: x@example.com\t\u202eevil\u202c <b>bold</b> &amp; more\x00"
    assert html_text(title) == "Breaking: Bcc: x@example.com evil bold & more"


def test_html_entities_are_decoded_exactly_once() -> None:
    assert html_text("how to write &amp;lt;br&amp;gt; <i>now</i>") == "how to write &lt;br&gt; now"
    assert html_text("how to write &lt;br&gt; correctly") == "how to write <br> correctly"


def test_plain_text_is_kept_as_written() -> None:
    # Text that looks like markup is text: nothing between "<" and ">" may vanish.
    title = "Ban on energy drinks for <16s and fines >£500 & a <br> &lt;tag&gt;"
    assert plain_text(title) == title
    assert plain_text("Breaking:\r\nBcc: x\t\u202eevil\u202c\x00") == "Breaking: Bcc: x evil"


def test_only_what_is_not_text_goes() -> None:
    # Emoji newer than the runtime's unicodedata (U+1FA77, U+1FAE8, U+1FABF), a ZWJ
    # sequence, a subdivision flag (tag characters) and ZWNJ in Persian all stay.
    scotland = "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    kept = f"🩷 🫨 🪿 👩\u200d💻 {scotland} می\u200cروم"
    assert plain_text(kept) == kept
    # Format characters (bidi overrides, zero-width space, BOM), private use,
    # lone surrogates and non-characters go.
    dirty = "a\x07b\u202ec\u2066d\u200be\ufefff\ue000g\U000f0001h\ud800i\ufdd0j\uffffk"
    assert plain_text(dirty + "\U0010fffel") == "a bcdefghijkl"  # a control is a break


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
