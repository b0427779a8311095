"""Turning untrusted text into what the store may hold.

Text is kept as written: a field that is plain text (an RSS title feedparser reports as
`text/plain`, a JSON title, a page's `<title>`) is never searched for tags or decoded a
second time, so "<16s and fines >£500" survives. Only fields that really are HTML lose
their markup, and their entities are decoded exactly once. Titles become single-line
text that cannot spoof or break a Subject header; summaries become sanitised HTML with
absolute links; bodies become plain paragraphs. Nothing here decides relevance, and
Arabic diacritics are text, so they stay.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin

import nh3
import regex

from digest.characters import one_line, remove_not_text

_WHITESPACE = re.compile(r"\s+")
_URL_NOISE = re.compile(r"[\t\n]")
#: http(s)://, optional user info, then a host (a name or a bracketed IPv6 address).
_HTTP_URL = re.compile(r"(?i)https?://(?:[^/?#@\s]*@)?(?:\[[0-9a-f:.]+\]|[^/?#@:\[\]\s]+)")
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")
_ORIGIN = re.compile(r"(?i)(https?)://[^/?#]+")
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
    """Remove characters that are not text (`digest.characters`); line breaks become \\n."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return remove_not_text(text, keep="\t\n")


def plain_text(value: str | None) -> str:
    """Plain text as one line: nothing but non-text characters removed, spaces collapsed.

    The value is taken as written: `<`, `>` and `&lt;` are text here, never markup.
    """
    if not value:
        return ""
    if value.isprintable():  # no control, format, private-use... character: nothing to drop
        return " ".join(value.split())
    return one_line(value)


def html_text(value: str | None) -> str:
    """An HTML fragment as one line of plain text: tags dropped, entities decoded once.

    nh3 parses the fragment as a browser would (script and style go with their content)
    and serialises the text escaped; one `unescape` then gives what a reader saw.
    """
    if not value:
        return ""
    if "<" in value:
        value = nh3.clean(value, tags=set(), strip_comments=True)
    return plain_text(html.unescape(value) if "&" in value else value)


#: Markup no headline writes as text: a whole script/style/iframe... element, or a tag with
#: an event handler. Text carrying one is an injection attempt (or a feed mislabelling
#: HTML as text), so it is read as HTML and the element goes; "<16s", "<br>" and
#: "How to use <script> tags" are text and stay.
_EXECUTABLE = regex.compile(
    r"(?is)<\s*(script|style|iframe|frame|object|embed|applet|svg|math|form|template|noscript)"
    r"\b[^>]*>.*?<\s*/\s*\1\s*>|<[a-z][^>]*\son[a-z]+\s*=[^>]*>"
)


def text_field(value: str | None) -> str:
    """A field that is plain text (a JSON title, a page title, an RSS text/plain title) as
    one line, kept as written, unless it carries executable markup (see `_EXECUTABLE`)."""
    if value and "<" in value and _EXECUTABLE.search(value):
        return html_text(value)
    return plain_text(value)


def is_html(content_type: object) -> bool:
    """Whether a feedparser content type (`text/html`, `application/xhtml+xml`) is HTML."""
    return isinstance(content_type, str) and "html" in content_type.lower()


def title_text(value: str | None, *, markup: bool = False, decoded: bool = False) -> str:
    """A headline on one line (`markup`: the value is HTML; `decoded`: it is text decoded
    from HTML already, read as it is), cut at a word if absurdly long."""
    text = plain_text(value) if decoded else html_text(value) if markup else text_field(value)
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
            if tag == "img" and not is_image_url(url):
                return None  # <img src="…mp3">: no mail client shows it; the element goes
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
    if "<img" in cleaned:
        cleaned = _IMG_WITHOUT_SOURCE.sub("", cleaned)
    return cleaned.strip()


#: File name endings of sound, video and documents: never the source of an <img>.
_NOT_IMAGE = regex.compile(
    r"(?i)\.(?:mp3|m4a|m4b|aac|oga|ogg|opus|wav|flac|weba|mp4|m4v|mov|webm|ogv|mkv|avi|wmv"
    r"|mpe?g|3gp|m3u8?|mpd|pdf|zip|epub)$"
)
_IMG_WITHOUT_SOURCE = regex.compile(r"<img\b(?![^>]*\ssrc=)[^>]*>")


def is_image_url(url: str) -> bool:
    """False for an empty URL or one whose path names sound, video or a document.

    A feed's `<img src>` or image field says nothing of the type; the path's ending is the
    one clue, and a podcast's `.mp3` must never become `<img src="….mp3">` in the email.
    """
    if not url:
        return False
    path = url.split("#", 1)[0].split("?", 1)[0]
    return not _NOT_IMAGE.search(path)


def text_summary(value: str | None) -> str:
    """Plain text (a meta description, a first paragraph) as a safe HTML summary."""
    text = plain_text(value)
    return f"<p>{html.escape(text, quote=False)}</p>" if text else ""
