"""Who reported an article and which address it lives at, for counting and de-duplication.

Coverage counts distinct *sources*, not rows: a feed that publishes a story twice, or an
article fetched again under a new guid, is still one report. A row's source is its
`source` field (where ingest got it); without one, the host of its URL. Its address is
the URL normalised by courlan (the URL library trafilatura uses): tracking parameters
(utm_*, fbclid, ...) and the fragment dropped, host lower-cased; then scheme, a leading
"www." and a trailing slash are ignored, so http/https and www variants of one page meet.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from courlan import normalize_url


def canonical_address(url: str) -> str:
    """A key that two fetches of one web page share; "" for no URL."""
    text = url.strip()
    if not text:
        return ""
    if "?" in text or "%" in text:  # only then is courlan's (slower) work needed
        try:
            text = normalize_url(text, strict=True)
        except (ValueError, AttributeError):  # courlan raises on some malformed URLs
            text = text.lower()
    text = text.split("#", 1)[0]
    _, found, rest = text.partition("://")  # http and https: one page
    if not found:
        return text
    host, slash, path = rest.partition("/")
    path, question, query = (slash + path).partition("?")
    host = host.lower().removeprefix("www.")
    return f"{host}{path.rstrip('/')}{question}{query}"


def source_identity(source: str, url: str) -> str:
    """The reporter of an article: its source, or failing that its URL's host."""
    if source.strip():
        return source.strip()
    return urlsplit(url.strip()).netloc.lower().removeprefix("www.")
