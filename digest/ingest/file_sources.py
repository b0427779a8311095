"""Which source articles record: one file, or one feed address, is one source however named.

A guid is unique within its source, and coverage counts sources, so the same file
ingested as `wire.jsonl`, `./wire.jsonl` and by its absolute path must not be three
sources of three copies of every article (a breaker pass found six rows and every story
"covered by 3 sources"). A file's articles record its absolute path, symlinks resolved.

A database filled before this recorded the path as typed. Such a spelling is not reused:
`wire.jsonl` stored from one folder and `wire.jsonl` typed in another name two files
(another breaker pass: the second file's article overwrote the first's), and nothing
says which folder the first was typed in. So a file stored under a relative path before
is a new source once: its articles with a URL are matched to the stored ones by their
canonical URL, those without one are stored again.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.orm import Session

from digest.errors import IngestError
from digest.ingest import registry
from digest.ingest.fetch import display_url
from digest.ingest.records import URL_MAX

#: A URL's scheme (`group(1)`), or no match for a path.
SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


def recorded_source(session: Session, text: str) -> str:
    """What articles from the source named `text` record as their source: a file's
    (`file_source`); a URL's normalised form (`registry.normalise_feed_url`) or, once
    registered, the registration's (`registry.find_feed`); `text` itself where it is an
    address that cannot be read."""
    if not SCHEME.match(text.strip()):
        return file_source(Path(text))
    try:
        url = registry.normalise_feed_url(text)
    except IngestError:
        return text
    feed = registry.find_feed(session, url)
    return display_url(feed.url if feed is not None else url)


def file_source(path: Path) -> str:
    """What the articles of the file at `path` (relative to the working directory)
    record as their source: its absolute path with symlinks resolved (at most
    `URL_MAX` characters, as the column holds), or `path` as given where it cannot be
    resolved (a symlink loop)."""
    try:
        return str(path.expanduser().resolve())[:URL_MAX]
    except (OSError, RuntimeError, ValueError):
        return str(path)[:URL_MAX]
