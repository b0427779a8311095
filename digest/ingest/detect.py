"""Which parser a source needs, from its content (a file name or Content-Type can lie)."""

from __future__ import annotations

import json
import re

FEED = "feed"
JSON = "json"
JSONL = "jsonl"
HTML = "html"

#: What `--format` accepts, and the parser each name means.
FORMATS = {"rss": FEED, "atom": FEED, "json": JSON, "jsonl": JSONL, "html": HTML}

_FEED_ROOTS = {"rss", "feed", "rdf", "channel"}
_HTML_ROOTS = {
    "html", "head", "body", "meta", "title", "link", "div", "article", "main", "section",
    "header", "nav", "p", "h1", "h2", "script", "style", "table", "span", "a", "img",
}  # fmt: skip
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
#: Prolog constructs before the root element: declarations, comments, doctypes.
_PROLOG = re.compile(r"\s*(<\?.*?\?>|<!--.*?-->|<!doctype[^>]*>)", re.IGNORECASE | re.DOTALL)
_ROOT = re.compile(r"\s*<([a-zA-Z_][\w.:-]*)")


def detect_format(content: bytes) -> str | None:
    """FEED, JSON, JSONL or HTML from the first bytes; None when it is none of them."""
    head = _head_text(content)
    if not head:
        return None
    first = head[0]
    if first == "[":
        return JSON
    if first == "{":
        return JSONL if _first_line_is_object(content) else JSON
    if first == "<":
        return _markup_kind(head)
    return None


def _head_text(content: bytes) -> str:
    sample = content[:8192]
    encoding = "utf-8"
    for bom, name in _BOMS:
        if sample.startswith(bom):
            sample, encoding = sample[len(bom) :], name
            break
    return sample.decode(encoding, errors="ignore").lstrip()


def _first_line_is_object(content: bytes) -> bool:
    """JSON Lines starts with a whole object on its first line; a pretty-printed one does not."""
    start = len(content) - len(content.lstrip())
    end = content.find(b"\n", start)
    line = content[start : end if end >= 0 else len(content)]
    try:
        return isinstance(json.loads(line.decode("utf-8-sig", errors="replace")), dict)
    except RecursionError:
        return True  # a whole line, nested too deeply: the JSON Lines parser will say so
    except ValueError:
        return False


def _markup_kind(head: str) -> str:
    position, doctype_html = 0, False
    while match := _PROLOG.match(head, position):
        if match.group(1).lower().startswith("<!doctype html"):
            doctype_html = True
        position = match.end()
    root = _ROOT.match(head, position)
    name = root.group(1).lower() if root else ""
    local = name.rsplit(":", 1)[-1]
    if local in _FEED_ROOTS:
        return FEED
    if doctype_html or local in _HTML_ROOTS:
        return HTML
    return FEED  # other XML: feedparser decides, and says what is wrong
