"""Registered feeds: what `digest ingest` with no source fetches, and their HTTP state."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.characters import escaped
from digest.errors import IngestError
from digest.ingest.clean import plain_text
from digest.ingest.fetch import Validators, display_url
from digest.ingest.language import normalise_language
from digest.ingest.records import AUTHOR_MAX, SECTION_MAX, URL_MAX
from digest.ingest.urls import percent_encoded, without_tracking
from digest.models import Feed

_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def normalise_feed_url(url: str) -> str:
    """The URL as stored: trimmed, scheme and host lower-cased, the default port, dot
    segments, escapes of unreserved characters, tracking parameters
    (`urls.without_tracking`) and the fragment removed, so that one feed is one source
    however its address was copied; only http(s) with a host."""
    text = url.strip()
    shown = escaped(display_url(text))
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        raise IngestError(f"{shown}: not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise IngestError(f"{shown}: expected an http(s) URL of a feed or page")
    if not parts.hostname or len(text) > URL_MAX or any(ch.isspace() or ch < " " for ch in text):
        raise IngestError(f"{shown}: not a valid URL")
    scheme = parts.scheme.lower()
    netloc = parts.netloc.rsplit("@", 1)
    host = netloc[-1].lower()
    if host.endswith(_DEFAULT_PORTS[scheme]):  # RFC 3986 section 6.2.3
        host = host.removesuffix(_DEFAULT_PORTS[scheme])
    netloc[-1] = host
    path = urlsplit(percent_encoded(f"{scheme}://host{parts.path}")).path  # %2E is "."
    if "/." in path:  # RFC 3986 section 5.2.4: "/./feed" and "/a/../feed" are "/feed"
        path = urlsplit(urljoin("http://host", path)).path
    return urlunsplit(  # no fragment: it is never sent to the server
        (scheme, "@".join(netloc), path, without_tracking(parts.query), "")
    )


def find_feed(session: Session, url: str) -> Feed | None:
    """The feed registered at `url` (`normalise_feed_url`d), also when it was registered
    before that removed its dot segments or tracking parameters, and whatever user and
    password either carries: a feed is its address, and its credentials change (a new
    password registered beside the old one left an entry failing every run that only
    the old password could remove, `feeds list` showing it masked)."""
    found = session.scalars(select(Feed).where(Feed.url == url)).first()
    if found is not None:
        return found
    address = _without_credentials(url)
    for feed in session.scalars(select(Feed).order_by(Feed.id)):
        try:
            if _without_credentials(normalise_feed_url(feed.url)) == address:
                return feed
        except IngestError:
            continue
    return None


def _without_credentials(url: str) -> str:
    """A normalised feed URL without its userinfo (RFC 3986 section 3.2.1)."""
    scheme, _, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"


def add_feed(
    session: Session,
    url: str,
    *,
    languages: tuple[str, ...],
    name: str | None = None,
    section: str | None = None,
    language: str | None = None,
) -> tuple[Feed, bool]:
    """Register a feed, or update the given fields of one already registered. (feed, created)"""
    url = normalise_feed_url(url)
    if language is not None and normalise_language(language, languages) != language.lower():
        raise IngestError(
            f"{language!r} is not one of the site's languages ({', '.join(languages)})",
            field="language",
        )
    feed = find_feed(session, url)
    created = feed is None
    if feed is None:
        feed = Feed(url=url, name="", section="", language="")
        session.add(feed)
    elif "@" in url.partition("://")[2].partition("/")[0]:
        feed.url = url  # new credentials for the same address
    if name is not None:
        feed.name = plain_text(name)[:AUTHOR_MAX]
    if section is not None:
        feed.section = plain_text(section)[:SECTION_MAX]
    if language is not None:
        feed.language = language.lower()
    session.flush()
    return feed, created


def list_feeds(session: Session) -> list[Feed]:
    return list(session.scalars(select(Feed).order_by(Feed.url)))


def remove_feed(session: Session, url: str) -> Feed:
    """Forget a feed (its articles stay); IngestError if it is not registered."""
    feed = find_feed(session, normalise_feed_url(url))
    if feed is None:
        raise IngestError(
            f"{escaped(display_url(url.strip()))}: no such feed registered "
            "(see 'digest feeds list')"
        )
    session.delete(feed)
    session.flush()
    return feed


def validators_of(feed: Feed) -> Validators:
    return Validators(etag=feed.etag, last_modified=feed.last_modified)


def record_success(
    session: Session, feed_id: int, validators: Validators | None, title: str, now: datetime
) -> None:
    """After the feed's articles are stored (same transaction): remember the new validators."""
    feed = session.get(Feed, feed_id)
    if feed is None:
        return  # removed while we fetched
    if validators is not None:
        feed.etag = _fitting(validators.etag, 1024)
        feed.last_modified = _fitting(validators.last_modified, 100)
    if title and not feed.name:
        feed.name = title[:AUTHOR_MAX]
    feed.last_fetched_at = now
    feed.last_error = None


def _fitting(value: str | None, limit: int) -> str | None:
    """A validator as stored; one too long for its column is dropped (a cut one never matches)."""
    return value if value and len(value) <= limit else None


def record_failure(session: Session, feed_id: int, error: str, now: datetime) -> None:
    """The validators stay as they were, so the next run fetches the feed in full again."""
    feed = session.get(Feed, feed_id)
    if feed is not None:
        feed.last_fetched_at = now
        feed.last_error = error
