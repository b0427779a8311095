"""Who reported an article and which address it lives at, for counting and de-duplication.

Coverage counts distinct *sources*, not rows: a feed that publishes a story twice, an
outlet that carries it in three feeds, or an article fetched again under a new guid is
still one report (`reporters`). An article's address is its canonical URL, as ingest
keys articles by (`ingest.urls.canonical_url`: tracking parameters and the fragment
dropped, host lower-cased, escapes spelled one way, every other parameter kept, since
"show.aspx?NewsID=7" and "?NewsID=8" are two articles); then scheme, a leading "www."
and a trailing slash are ignored, so http/https and www variants of one page meet.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from courlan import extract_domain

from digest.ingest.urls import canonical_url

#: An address ingest has already made canonical, as most stored ones are: a lower-case
#: host, a path of plain characters (no escape, no dot segment, no empty segment), no
#: query, no fragment; `ingest.urls.canonical_url` returns it unchanged. Its key is read
#: off the match (10,000 per selection: a fifth of the time of the general way).
_PLAIN_ADDRESS = re.compile(
    r"https?://(?:www\.)?(?P<host>[a-z0-9.-]+)(?P<path>/(?!\.\.)(?!/)(?:[A-Za-z0-9_.~!=:,-]|/(?!/))*)"
)


@lru_cache(maxsize=2**15)  # a selection asks for each window article's address 2-3 times
def canonical_address(url: str) -> str:
    """A key that two fetches of one web page share; "" for no URL, and for a web
    address that names no article (a site's home page: `ingest.urls.canonical_url`),
    which a feed's items without a page of their own share."""
    plain = _PLAIN_ADDRESS.fullmatch(url)
    if plain is not None and plain["path"].strip("/"):
        return plain["host"] + plain["path"].rstrip("/")
    return _address(url)


def _address(url: str) -> str:
    """`canonical_address` of any URL, the general way."""
    text = url.strip()
    if not text:
        return ""
    canonical = canonical_url(text)
    if not canonical and text.lower().startswith(("http://", "https://")):
        return ""
    text = canonical or text.lower()
    text = text.split("#", 1)[0]
    _, found, rest = text.partition("://")  # http and https: one page
    if not found:
        return text
    host, slash, path = rest.partition("/")
    path, question, query = (slash + path).partition("?")
    host = host.lower().removeprefix("www.")
    return f"{host}{path.rstrip('/')}{question}{query}"


def source_identity(source: str, url: str) -> str:
    """The reporter of an article on its own: its source, or failing that its URL's site.
    A source that is a web address is its `canonical_address`: one feed fetched by http
    and by https, with "www." or without, is one source (a breaker pass: a feed whose
    items have no link of their own counted twice, and its story led on that)."""
    source = source.strip()
    if source.lower().startswith(("http://", "https://")):
        return canonical_address(source) or source
    return source or site(url)


def site(url: str) -> str:
    """The site a URL is on: its registrable domain ("edition.cnn.com" and "www.cnn.com"
    are "cnn.com", by the public suffix list courlan reads), or its host without "www."
    where the list has no suffix for it ("localhost" for any loopback address); "" for
    no host. (The host is cut out with string operations: a selection asks for ten
    thousand, and urlsplit is the slower part.)"""
    _, found, rest = url.strip().partition("://")
    if not found:
        return ""
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rpartition("@")[2]
    if authority.startswith("["):  # an IPv6 literal
        host = authority[1:].split("]", 1)[0]
    else:
        host = authority.split(":", 1)[0]
    return _registrable(host.lower().removeprefix("www."))


#: Names of this machine: a feed served from it is served from one place however named.
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


@lru_cache(maxsize=4096)
def _registrable(host: str) -> str:
    """The registrable domain of a host: a public suffix and one label before it. A host
    of two labels is its own, whether its last label is the suffix ("aljazeera.net") or
    both are ("co.uk", where there is none and the host stands for itself), so the
    public suffix list (loaded once per process, 0.04 s) is read only for longer ones."""
    if host in _LOOPBACK:
        return "localhost"
    if host.count(".") <= 1:
        return host
    return extract_domain(f"http://{host}/") or host


def reporters(articles: Sequence[tuple[str, str]]) -> list[str]:
    """The reporter of each (source, URL) article, for counting distinct sources.

    A reporter is the site the article lives on *and* where it was got from: the site of
    its feed or page when that is a web address (a file says nothing of where it came
    from: it counts as its articles' site's own feed). So an outlet's several feeds (or
    its feed by http and https, www or not), its several files, and its file beside its
    own feed are one source; feeds served from one place for
    several outlets (a mirror, a proxy, a test server) are as many sources as the sites
    their articles live on; and feeds of several outlets whose articles share one address
    space are still several. A page fetched twice (one `canonical_address`, under two
    guids or from two feeds) is one report: every fetch takes the reporter of the first.
    Without a URL, `source_identity`.
    """
    first: dict[str, str] = {}
    origins: dict[str, str] = {}
    found = []
    for source, url in articles:
        where = site(url)
        if not where:
            found.append(source_identity(source, url))
            continue
        origin = origins.get(source)
        if origin is None:
            origin = source.strip()
            origin = site(origin) if origin.startswith(("http://", "https://")) else ""
            origins[source] = origin
        reporter = f"{where} {origin or where}"  # a file: as the site's own feed
        address = canonical_address(url)
        found.append(first.setdefault(address, reporter) if address else reporter)
    return found
