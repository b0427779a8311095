"""Turning untrusted text into what the store may hold.

Titles become plain single-line text that cannot spoof or break a Subject header;
summaries become sanitised HTML with absolute links; nothing here decides relevance.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import urljoin, urlsplit

import nh3

#: Bidi embeddings/overrides/isolates: they can reorder a Subject line visually.
_BIDI_CONTROLS = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C], None
)
_WHITESPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")

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


def plain_text(value: str | None) -> str:
    """Markup-free, entity-decoded, single-line text without control or bidi characters."""
    if not value:
        return ""
    text = nh3.clean(value, tags=set(), strip_comments=True) if "<" in value else value
    text = html.unescape(html.unescape(text)) if "&" in text else text
    text = _TAG.sub(" ", text)
    text = text.translate(_BIDI_CONTROLS)
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in text
        if unicodedata.category(ch) != "Cf" or ch in "\u200c\u200d"
    )
    return _WHITESPACE.sub(" ", text).strip()


def body_text(value: str | None) -> str:
    """Plain text that keeps paragraph breaks (for bodies): blank line between paragraphs."""
    if not value:
        return ""
    text = value
    if "<" in text:
        text = re.sub(r"(?i)<\s*(br|/p|/div|/h[1-6]|/li|/blockquote)\b[^>]*>", "\n\n", text)
        text = nh3.clean(text, tags=set(), strip_comments=True)
    text = html.unescape(text).translate(_BIDI_CONTROLS)
    paragraphs = [_WHITESPACE.sub(" ", p).strip() for p in re.split(r"\n\s*\n|\r\n\s*\r\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def absolute_url(value: str | None, base: str | None) -> str:
    """An absolute http(s) URL, or "" for anything else (javascript:, data:, garbage)."""
    if not value:
        return ""
    value = value.strip()
    joined = urljoin(base or "", value) if base else value
    parts = urlsplit(joined)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return joined


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
        value,
        tags=SUMMARY_TAGS,
        attributes=SUMMARY_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=resolve,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return cleaned.translate(_BIDI_CONTROLS).strip()
