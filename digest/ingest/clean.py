"""Turning untrusted text into what the store may hold.

Titles become plain single-line text that cannot spoof or break a Subject header;
summaries become sanitised HTML with absolute links; bodies become plain paragraphs.
Nothing here decides relevance, and Arabic diacritics are text, so they stay.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin

import nh3
import regex

#: Bidi embeddings/overrides/isolates and marks: they can reorder a Subject line visually.
_BIDI_CONTROLS = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C], None
)
#: C0/C1 controls (but tab and newline), lone surrogates, non-characters and bidi controls:
#: none of them is text, some break databases (NUL in PostgreSQL) or encoders (surrogates).
_NOT_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
    "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]"
)
_WHITESPACE = re.compile(r"\s+")
_URL_NOISE = re.compile(r"[\t\n]")
#: http(s)://, optional user info, then a host (a name or a bracketed IPv6 address).
_HTTP_URL = re.compile(r"(?i)https?://(?:[^/?#@\s]*@)?(?:\[[0-9a-f:.]+\]|[^/?#@:\[\]\s]+)")
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")
_ORIGIN = re.compile(r"(?i)(https?)://[^/?#]+")
_TAG = re.compile(r"<[^>]*>")
_BLOCK_END = re.compile(r"(?i)<\s*(br|/p|/div|/h[1-6]|/li|/blockquote|/tr|/pre)\b[^>]*>")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")

#: A title longer than this is not a headline; it is cut at a word so a Subject stays sane.
TITLE_MAX = 500

SUMMARY_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "em", "i", "img", "li", "ol",
    "p", "q", "s", "small", "strong", "sub", "sup", "u", "ul",
}  # fmt: skip
SUMMARY_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "abbr": {"title"},
    "q": {"cite"},
    "blockquote": {"cite"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def scrub(text: str) -> str:
    """Remove characters that are not text (controls, surrogates, bidi overrides)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _NOT_TEXT.sub("", text)


#: Line breaks and controls become spaces; format characters (bidi controls, zero-width
#: spaces...) and lone surrogates go, but ZWNJ/ZWJ, which shape Arabic and Persian text.
_BREAKS = regex.compile(r"[\p{Cc}\p{Zl}\p{Zp}]")
_INVISIBLE = regex.compile(r"(?![\u200c\u200d])[\p{Cf}\p{Cs}]")


def plain_text(value: str | None) -> str:
    """Markup-free, entity-decoded, single-line text without control or bidi characters."""
    if not value:
        return ""
    text = nh3.clean(value, tags=set(), strip_comments=True) if "<" in value else value
    text = html.unescape(html.unescape(text)) if "&" in text else text
    text = _TAG.sub(" ", text) if "<" in text else text
    text = _INVISIBLE.sub("", _BREAKS.sub(" ", text))
    return _WHITESPACE.sub(" ", text).strip()


def title_text(value: str | None) -> str:
    """A headline: plain text, cut at a word boundary if absurdly long."""
    text = plain_text(value)
    if len(text) <= TITLE_MAX:
        return text
    cut = text[: TITLE_MAX - 1].rsplit(" ", 1)[0] or text[: TITLE_MAX - 1]
    return cut + "…"


def body_text(value: str | None) -> str:
    """Plain text from HTML (or text) that keeps paragraphs: a blank line between them."""
    if not value:
        return ""
    text = value
    if "<" in text:
        text = _BLOCK_END.sub("\n\n", text)
        text = nh3.clean(text, tags=set(), strip_comments=True)
    return paragraphs(html.unescape(text))


def paragraphs(text: str | None) -> str:
    """Already-plain text tidied: one paragraph per block, blank line between, no controls."""
    if not text:
        return ""
    blocks = _PARAGRAPH_BREAK.split(scrub(text))
    cleaned = (_WHITESPACE.sub(" ", block).strip() for block in blocks)
    return "\n\n".join(block for block in cleaned if block)


def absolute_url(value: str | None, base: str | None) -> str:
    """An absolute http(s) URL, or "" for anything else (javascript:, data:, garbage)."""
    if not value:
        return ""
    # As browsers do: surrounding space and tabs/newlines inside are not part of a URL.
    value = _URL_NOISE.sub("", scrub(value).strip()).replace(" ", "%20")
    if not _HTTP_URL.match(value):
        if not base or _SCHEME.match(value):
            return ""  # another scheme (javascript:, data:, ftp:) or nothing to resolve against
        value = _join(base, value)
        if not _HTTP_URL.match(value):
            return ""
    return value


def _join(base: str, value: str) -> str:
    """urljoin, with a shortcut for the common root-relative link (urljoin is slow)."""
    origin = _ORIGIN.match(base)
    if origin and value.startswith("/") and "/." not in value and "\\" not in value:
        if value.startswith("//"):
            return origin.group(1) + ":" + value
        return origin.group(0) + value
    try:
        return urljoin(base, value)
    except ValueError:  # e.g. an invalid IPv6 literal
        return ""


def sanitise_summary(value: str | None, base: str | None) -> str:
    """Sanitised HTML: no script/style/iframe, handlers or unsafe URLs; links made absolute."""
    if not value:
        return ""

    def resolve(tag: str, attribute: str, attr_value: str) -> str | None:
        if attribute in ("href", "src", "cite"):
            if attr_value.strip().lower().startswith("mailto:") and tag == "a":
                return attr_value.strip()
            url = absolute_url(attr_value, base)
            return url or None
        return attr_value

    cleaned = nh3.clean(
        scrub(value),
        tags=SUMMARY_TAGS,
        attributes=SUMMARY_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=resolve,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return cleaned.strip()


def text_summary(value: str | None) -> str:
    """Plain text (a meta description, a first paragraph) as a safe HTML summary."""
    text = plain_text(value)
    return f"<p>{html.escape(text, quote=False)}</p>" if text else ""
