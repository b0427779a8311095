"""Canonical URLs: one spelling per article page, whatever tracking a feed adds to its links.

Publishers add campaign parameters (`utm_*`, `fbclid`, `gclid`, `mc_cid`...), session ids
and fragments to the links in their feeds, and some change them on every fetch. An
article's canonical URL drops those, lower-cases scheme and host, drops the default port
and sorts what is left of the query, so the same page always has the same key (RFC 3986
section 6.2.2-6.2.3 normalisation). The tracker list is courlan's (already installed with
trafilatura), which follows the ClearURLs and AdGuard tracking-parameter filters.
"""

from __future__ import annotations

import re
import string
from urllib.parse import quote, urlsplit, urlunsplit

#: Query parameters that never name a page; checked before courlan's broader pattern.
_TRACKING_PREFIXES = ("utm_", "mc_", "_hs", "mkt_", "pk_", "mtm_", "itm_", "oly_")
#: Session ids and cache-busters: they change on every fetch, the page does not. Not
#: "sid": PHP-Nuke's descendants name a story by it (modules.php?...&sid=3), and
#: dropping it merged two stories, where keeping a session id costs a duplicate row.
_VOLATILE = {"phpsessid", "jsessionid", "aspsessionid", "_", "cachebuster", "timestamp"}


#: Already canonical: lower-case host without port, a path of characters courlan keeps as
#: they are, no query, no fragment (most article links): returned unchanged, no parsing.
_ALREADY_CANONICAL = re.compile(r"https?://[a-z0-9.-]+(?:/(?!\.\.)[A-Za-z0-9_.~/%!=:,-]*)?")


_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
#: Everything a URL may carry unescaped besides unreserved characters (RFC 3986 section
#: 2.2), and "%" of the escapes already there.
_KEEP = "!#$%&'()*+,/:;=?@[]"


def percent_encoded(url: str) -> str:
    """`url` with one spelling of its escapes, after the host: RFC 3986 section 6.2.2.1
    (hex digits upper-case: "%d8%b2" and "%D8%B2" are one escape), 6.2.2.2 (an escaped
    unreserved character is that character: "%7E" is "~") and RFC 3987 section 3.1
    (raw non-ASCII characters are their UTF-8 bytes, escaped). A CMS writes an Arabic
    slug raw, WordPress escapes it in lower case, most libraries in upper case: one page.
    """
    if "%" not in url and url.isascii():
        return url
    scheme, found, rest = url.partition("://")
    if not found:
        scheme, rest = "", url
    host, slash, path = rest.partition("/")
    if not slash:
        return url

    def one_spelling(escape: re.Match[str]) -> str:
        character = chr(int(escape.group(1), 16))
        return character if character in _UNRESERVED else "%" + escape.group(1).upper()

    path = _PERCENT.sub(one_spelling, quote(path, safe=_KEEP))
    return f"{scheme}{found}{host}/{path}"


def without_tracking(query: str) -> str:
    """A URL's query without the parameters known to track a click (`utm_*`, `fbclid`,
    ...) or to change on every fetch (session ids, cache-busters); the others sorted."""
    kept = "&".join(
        pair
        for pair in query.split("&")
        if pair
        and not pair.lower().startswith(_TRACKING_PREFIXES)
        and pair.split("=", 1)[0].lower() not in _VOLATILE
    )
    if not kept:
        return kept
    from courlan.clean import clean_query  # ClearURLs' list (fbclid, gclid, ...), sorted

    return str(clean_query(kept))


def canonical_url(url: str) -> str:
    """The article page `url` names, spelled one way; "" for an empty or unusable URL,
    and for a site's home page.

    Example: ``HTTPS://News.Example:443/a/?b=2&utm_source=x&a=1#top`` ->
    ``https://news.example/a/?a=1&b=2``. Paths keep their case and trailing slash
    (servers may distinguish them); only parameters known to track are removed.

    A home page (no path, no query: ``https://news.example/``) is where a feed links an
    item that has no page of its own, one item a day as well as many in one fetch; as
    a key it made each day's item overwrite the day before's (a breaker pass), so it
    keys nothing and the item is known by its guid.
    """
    if not url:
        return ""
    url = percent_encoded(url)
    if _ALREADY_CANONICAL.fullmatch(url) and "//" not in url[8:]:
        return "" if _is_home_page(url) else url
    from courlan import normalize_url  # here: ingest only, and it imports a few modules

    try:
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return ""
        query = without_tracking(parts.query)
        found = str(normalize_url(urlunsplit(parts._replace(query=query, fragment=""))))
    except (ValueError, AttributeError):
        return ""
    return "" if _is_home_page(found) else found


def _is_home_page(url: str) -> bool:
    """Whether an absolute http(s) URL without a fragment names a site's root: nothing
    after the host but a slash."""
    rest = url.partition("://")[2]
    return rest.partition("/")[2] == "" and "?" not in rest
