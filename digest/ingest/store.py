"""Upserting ArticleRecords: one row per article, re-ingest is a no-op, newer content updates.

An article's identity (see DESIGN "Model"):

1. its source and guid: a guid is unique only within its source (RSS 2.0, Atom), so
   the same guid from two feeds is two articles;
2. when the source's guid is unknown, its canonical URL (digest.ingest.urls): a
   publisher whose guid changes on every fetch (a session id, a timestamp) updates the
   row it already has instead of adding one each time;
3. a canonical URL already stored by *another* source is the same page reached twice:
   the item is merged into the stored article, which that other feed owns and which is
   never overwritten; the merge is counted and named in the ingest report.

A canonical URL shared by several items of one source (a feed that links every item to
its home page) identifies none of them: such items are keyed by guid alone.

New rows go in with one multi-row INSERT per batch and changed rows with an UPDATE
by id; the ORM's per-object bookkeeping cost more than parsing the feed. The term
rows inserted or updated are handed to `on_stored` in the same transaction, with the
text being stored: the pipeline writes selection's term cache there, so selection need
not tokenise them again (ingest does not import selection; the pipeline wires them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from digest.ingest.records import ArticleRecord
from digest.ingest.urls import canonical_url
from digest.models import Article
from digest.selection.repeated_headlines import HeldHeadlines

_BATCH = 500

#: (article id, content hash, headline, summary HTML, body) of a row just stored.
StoredText = tuple[int, str, str, str, str]
#: Called with the session and the rows a store inserted or updated, in its transaction.
OnStored = Callable[[Session, list[StoredText]], None]
#: Merges named one by one in the report; beyond this only the count.
MERGES_NAMED = 20


@dataclass
class IngestCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Items not stored: nothing to show, or a second copy of a guid in the same source.
    skipped: int = 0
    #: Items already stored from another source under the same canonical URL: not stored
    #: again, and the stored article (another feed's) left as it is.
    merged: int = 0
    #: Items stored with another language than their entry or feed declared.
    retagged: int = 0
    #: One line per merge (at most MERGES_NAMED): "guid: same URL as SOURCE's article".
    merges: list[str] = field(default_factory=list)

    def add(self, other: IngestCounts) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped += other.skipped
        self.merged += other.merged
        self.retagged += other.retagged


@dataclass(frozen=True)
class _Stored:
    id: int
    source: str
    guid: str
    canonical_url: str
    content_hash: str
    published_at: datetime
    updated_at: datetime | None
    date_estimated: bool
    title: str
    held_at: datetime | None


_STORED_COLUMNS = (
    Article.id,
    Article.source,
    Article.guid,
    Article.canonical_url,
    Article.content_hash,
    Article.published_at,
    Article.updated_at,
    Article.date_estimated,
    Article.title,
    Article.held_at,
)


def store_records(
    session: Session,
    records: Iterable[ArticleRecord],
    now: datetime,
    on_stored: OnStored | None = None,
) -> IngestCounts:
    """Insert, update or merge; the caller's transaction decides whether it all lands.
    `on_stored` gets the rows inserted or updated, with their text."""
    counts = IngestCounts()
    unique: dict[tuple[str, str], ArticleRecord] = {}
    for record in _keyed_by_headline(list(records)):
        key = (record.source, record.guid)
        previous = unique.get(key)
        if previous is not None:
            # The same guid twice in one source: the newer version wins (the later on a tie).
            counts.skipped += 1
            if _stamp(record) < _stamp(previous):
                continue
        unique[key] = record
    ordered = list(unique.values())
    keyed = [(record, canonical_url(record.url)) for record in ordered]
    # A URL that several items of one source share names none of them (a home page).
    shared = Counter((record.source, url) for record, url in keyed)
    keyed = [(record, url if shared[(record.source, url)] == 1 else "") for record, url in keyed]
    first_fetch = _first_fetches(session, {record.source for record in ordered})
    touched: list[StoredText] | None = [] if on_stored is not None else None
    for start in range(0, len(keyed), _BATCH):
        _store_batch(session, keyed[start : start + _BATCH], now, counts, first_fetch, touched)
    if touched and on_stored is not None:
        on_stored(session, touched)
    return counts


def _keyed_by_headline(records: list[ArticleRecord]) -> list[ArticleRecord]:
    """Records whose guid is their link (RSS 2.0 section 5.7 makes guid optional), keyed
    by their headline instead where the link names no one item: a site's home page
    (`canonical_url` gives none), or a link several guid-less items of the source share.
    Keyed by the shared link they were one item, the newest kept and the others counted
    as skipped (a breaker pass: five stories, one stored)."""
    shared = Counter((r.source, r.guid) for r in records if r.guid_is_url)
    return [
        replace(record, guid="title:" + record.title, guid_is_url=False)
        if record.guid_is_url
        and (shared[(record.source, record.guid)] > 1 or not canonical_url(record.url))
        else record
        for record in records
    ]


def _first_fetches(session: Session, sources: set[str]) -> set[str]:
    """The sources that have no article stored yet: this is their first fetch."""
    return {
        source
        for source in sources
        if session.scalar(select(Article.id).where(Article.source == source).limit(1)) is None
    }


def _stamp(record: ArticleRecord) -> datetime:
    return record.updated_at or record.published_at


def _store_batch(
    session: Session,
    batch: list[tuple[ArticleRecord, str]],
    now: datetime,
    counts: IngestCounts,
    first_fetch: set[str],
    touched: list[StoredText] | None,
) -> None:
    """Store one batch; (id, content hash, title, summary, body) of every row inserted or
    updated is added to `touched`, if given."""
    by_key, by_url = _stored_matches(session, batch)
    new_rows: list[dict[str, Any]] = []
    # Rows matched in this batch take one item each; a guid match comes before a URL's.
    claimed = {stored.id for stored in by_key.values()}
    for record, url in batch:
        counts.retagged += record.language_retagged
        stored = by_key.get((record.source, record.guid))
        if stored is None and url:
            candidates = by_url.get(url, [])
            stored = _by_url(candidates, record.source, claimed)
            if stored is not None and stored.source != record.source:
                _merged(counts, record, stored)
                claimed.add(stored.id)
                continue
            own = [other for other in candidates if other.source == record.source]
            if own:
                stored, url = _at_own_link(session, record, url, own, claimed)
        if stored is None:
            row = {**_columns(record), "canonical_url": url, "ingested_at": now}
            row["content_hash"] = record.content_hash(url)
            row["estimated_on_first_fetch"] = record.date_undated and record.source in first_fetch
            new_rows.append(row)
            counts.new += 1
            continue
        claimed.add(stored.id)
        content_hash = _update(session, record, url, stored, counts)
        if content_hash is not None and touched is not None:
            touched.append((stored.id, content_hash, record.title, record.summary, record.body))
    if new_rows:
        session.execute(insert(Article), new_rows)
        if touched is not None:
            touched.extend(_new_ids(session, new_rows))


def _new_ids(session: Session, new_rows: list[dict[str, Any]]) -> list[StoredText]:
    """The rows just inserted, with their ids, read back by (source, guid), which is
    unique: not with INSERT ... RETURNING, which SQLite before 3.35 cannot do."""
    by_key = {(row["source"], row["guid"]): row for row in new_rows}
    found: list[StoredText] = []
    for source in sorted({row["source"] for row in new_rows}):
        guids = [guid for key_source, guid in by_key if key_source == source]
        query = select(Article.id, Article.guid).where(
            Article.source == source, Article.guid.in_(guids)
        )
        for article_id, guid in session.execute(query):
            row = by_key[(source, guid)]
            found.append(
                (article_id, row["content_hash"], row["title"], row["summary"], row["body"])
            )
    return found


def _stored_matches(
    session: Session, batch: list[tuple[ArticleRecord, str]]
) -> tuple[dict[tuple[str, str], _Stored], dict[str, list[_Stored]]]:
    """Stored rows with a batch item's (source, guid), and those with its canonical URL."""
    by_key: dict[tuple[str, str], _Stored] = {}
    sources = {record.source for record, _ in batch}
    for source in sources:
        guids = [record.guid for record, _ in batch if record.source == source]
        query = select(*_STORED_COLUMNS).where(Article.source == source, Article.guid.in_(guids))
        for row in session.execute(query):
            by_key[(row.source, row.guid)] = _Stored(*tuple(row))
    urls = {url for record, url in batch if url and (record.source, record.guid) not in by_key}
    by_url: dict[str, list[_Stored]] = {}
    if urls:
        query = select(*_STORED_COLUMNS).where(Article.canonical_url.in_(urls))
        for row in session.execute(query.order_by(Article.id)):
            by_url.setdefault(row.canonical_url, []).append(_Stored(*tuple(row)))
    return by_key, by_url


def _by_url(candidates: list[_Stored], source: str, claimed: set[int]) -> _Stored | None:
    """The stored article a URL identifies: this source's own if it has exactly one
    there (its guid changed), else the oldest other source's; None if ambiguous."""
    own = [stored for stored in candidates if stored.source == source]
    if own:
        return own[0] if len(own) == 1 and own[0].id not in claimed else None
    return candidates[0] if candidates else None


def _at_own_link(
    session: Session, record: ArticleRecord, url: str, own: list[_Stored], claimed: set[int]
) -> tuple[_Stored | None, str]:
    """The stored article a record under a new guid updates, among those its source
    stored at its canonical URL (`own`) or at the same link (`record.url`, whatever
    canonical URL each was given), and the canonical URL to give the record (`url`, the
    one ingest computed, or ""). Its guid changed, as some feeds' do on every
    fetch: the newest row, not held and not claimed in this batch, whose headline the
    record's repeats (`repeated_headlines`), keeping that row's canonical URL. Else a
    new article: where a row there is held, at the link, so that it stays held as that
    page ("whatever its headline now says"; a held row is never rewritten); where none
    is, at no page, another story under a link the source's items share across
    fetches (its "latest" page, one item at a time: a breaker pass lost each story to
    the next)."""
    statement = select(*_STORED_COLUMNS).where(
        Article.source == record.source, Article.url == record.url
    )
    found = {row.id: row for row in own}
    found.update((row.id, _Stored(*tuple(row))) for row in session.execute(statement))
    rows = [found[number] for number in sorted(found)]
    same = [
        row
        for row in rows
        if row.held_at is None
        and row.id not in claimed
        and HeldHeadlines([row.title]).repeats(record.title)
    ]
    if same:
        return same[-1], same[-1].canonical_url
    if any(row.held_at is not None for row in rows):
        return None, url
    return None, ""


def _merged(counts: IngestCounts, record: ArticleRecord, stored: _Stored) -> None:
    counts.merged += 1
    if len(counts.merges) < MERGES_NAMED:
        counts.merges.append(
            f"item {record.guid!r} has the same URL as {stored.source}'s article "
            f"{stored.guid!r}: merged into it (kept as stored)"
        )


def _update(
    session: Session, record: ArticleRecord, url: str, stored: _Stored, counts: IngestCounts
) -> str | None:
    """Update a row of this source when the record is newer or different; the new
    content hash if it did."""
    content_hash = record.content_hash(url)
    if _is_older(record, stored) or (
        stored.content_hash == content_hash and not _is_newer(record, stored)
    ):
        counts.unchanged += 1  # the same, or an older copy (e.g. a stale mirror)
        return None
    values = {**_columns(record), "content_hash": content_hash, "canonical_url": url}
    # The stored guid stays: a publisher's changing guid must not move the article's key.
    values["guid"] = stored.guid
    relisted = record.guid != stored.guid and record.published_at > stored.published_at
    if record.date_estimated or relisted:
        # With no date from the source, the time we first saw the article stays its date.
        # Listed again under another guid with a later date, it is the same article
        # updated, not news of today: its first publication date stands, or a re-listing
        # would lead today's edition. (Under its own guid a new date is the publisher's
        # correction, and is taken.)
        values["published_at"] = stored.published_at
        values["date_estimated"] = stored.date_estimated
        if not record.date_estimated and record.updated_at is None:
            values["updated_at"] = record.published_at
    session.execute(update(Article).where(Article.id == stored.id).values(**values))
    counts.updated += 1
    return content_hash


def _is_newer(record: ArticleRecord, stored: _Stored) -> bool:
    return record.updated_at is not None and (
        stored.updated_at is None or record.updated_at > stored.updated_at
    )


def _is_older(record: ArticleRecord, stored: _Stored) -> bool:
    return (
        record.updated_at is not None
        and stored.updated_at is not None
        and record.updated_at < stored.updated_at
    )


def _columns(record: ArticleRecord) -> dict[str, Any]:
    return {
        "guid": record.guid,
        "url": record.url,
        "title": record.title,
        "summary": record.summary,
        "body": record.body,
        "section": record.section,
        "author": record.author,
        "language": record.language,
        "image_url": record.image_url,
        "published_at": record.published_at,
        "updated_at": record.updated_at,
        "date_estimated": record.date_estimated,
        "source": record.source,
        "priority": record.priority,
        "popularity": record.popularity,
    }
