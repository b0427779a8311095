"""What selection reads from the database: light rows, not ORM objects.

A selection may look at tens of thousands of articles; loading each as an ORM object
with its whole body would cost more than the selection itself. Rows carry only what the
similarity reads: the article's counted words from the term cache (`terms`,
`cache`), or, for an article with no valid cached row, its headline and the
opening of summary and body (cut in SQL). The few articles that make the edition are
loaded as `Article` objects at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Select, String, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from digest.models import Article, ArticleTerms, Edition, EditionItem, EditionStatus
from digest.selection import terms
from digest.selection.corpus import Doc, DocText, Headlines
from digest.selection.identity import canonical_address
from digest.selection.similarity import OPENING_CHARS, TITLE_CHARS
from digest.selection.text import LINE_END, PackedWords

CHUNK = 500

# Columns of the tables, not the mapped classes': a select of ORM attributes is compiled
# by the ORM as well (a few milliseconds per statement in each new process), and these
# statements read plain rows (`raw_rows`).
_ARTICLE = Article.__table__.c
_TERMS = ArticleTerms.__table__.c
_EDITION = Edition.__table__.c
_ITEM = EditionItem.__table__.c

#: The article's address: the canonical URL ingest stores (`ingest.urls.canonical_url`),
#: "" where the link names no one article: a site's home page, or a link several items
#: of one source share ("/latest" under every item). Not the link itself there: read as
#: an address, a shared link made a feed's different stories fetches of one page, shown
#: as one story, and a hold of one of them held them all (a breaker pass).
_ADDRESS = _ARTICLE.canonical_url
DOC_COLUMNS = (
    _ARTICLE.id,
    _ARTICLE.guid,
    _ARTICLE.title,
    _ARTICLE.section,
    _ARTICLE.source,
    _ARTICLE.published_at,
    _ARTICLE.priority,
    _ARTICLE.popularity,
    _ARTICLE.url,
    _ARTICLE.date_estimated,
    _ARTICLE.ingested_at,
    _ARTICLE.estimated_on_first_fetch,
    _ADDRESS,
)
TEXT_COLUMNS = (
    func.substr(_ARTICLE.summary, 1, terms.SUMMARY_CHARS),
    func.substr(_ARTICLE.body, 1, OPENING_CHARS),
)
#: The article's cached row, if it is valid: same content hash, same version.
CACHED = and_(
    _TERMS.article_id == _ARTICLE.id,
    _TERMS.content_hash == _ARTICLE.content_hash,
    _TERMS.version == terms.VERSION,
)
_TERMS_COLUMNS = (_TERMS.words, _TERMS.counts, _TERMS.word_ids)


def _utc(value: datetime | str | None) -> datetime | None:
    """A stored time as aware UTC, from a driver's raw value (SQLite gives ISO text,
    PostgreSQL a naive datetime; both hold UTC, as `UTCDateTime` stores it).

    Tens of thousands are converted per selection: parsing the text with its zone, and
    `datetime.combine`, each take a fifth of the time of `datetime.replace` (whose
    keyword arguments are slow to parse)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:  # the text carries its own offset
            value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return datetime.combine(value.date(), value.time(), UTC)
    return value.astimezone(UTC)


def doc_of_row(row: Any) -> Doc:
    """A document from a driver's raw row of `DOC_COLUMNS`."""
    published = _utc(row[5])
    assert published is not None  # the column is NOT NULL
    return Doc(
        id=row[0],
        guid=row[1],
        title=row[2] or "",
        section=row[3] or "",
        source=row[4] or "",
        published_at=published,
        priority=row[6] or 0,
        popularity=row[7],
        url=row[8] or "",
        date_estimated=bool(row[9]),
        ingested_at=_utc(row[10]),
        backlog=bool(row[11]),
        address=row[12] or "",
    )


def raw_rows(session: Session, statement: Any) -> Sequence[Any]:
    """The driver's own rows of a select: tens of thousands of rows, where SQLAlchemy's
    per-row objects and type conversions would cost more than the query. The columns
    read this way are plain values, and times are converted by `_utc`."""
    result = session.connection().execute(statement)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _by_publication(rows: Iterable[tuple[Doc, DocText]]) -> list[tuple[Doc, DocText]]:
    """Oldest first, guid breaking ties: an order no database collation can change."""
    return sorted(rows, key=lambda pair: (pair[0].published_at, pair[0].guid))


def _with_terms(session: Session, where: Any, *, unheld: bool = False) -> list[tuple[Doc, DocText]]:
    """The documents `where` selects, each with its cached words or, where the cache has
    no valid row, its matching text (read in a second query, by id); with `unheld`,
    none that is a held article's page (`held_pages`): what a selection may show."""
    statement = select(*DOC_COLUMNS, *_TERMS_COLUMNS).outerjoin(ArticleTerms.__table__, CACHED)
    rows = raw_rows(session, statement.where(where))
    found: list[tuple[Doc, DocText]] = []
    uncached: dict[int, Doc] = {}
    for row in rows:
        doc = doc_of_row(row)
        words, counts, numbers = row[len(DOC_COLUMNS) :]
        if words is None:
            uncached[doc.id] = doc
        else:
            numbers = None if numbers is None else bytes(numbers)
            found.append((doc, PackedWords(words, bytes(counts), numbers)))
    ids = sorted(uncached)
    for offset in range(0, len(ids), CHUNK):
        chunk = ids[offset : offset + CHUNK]
        statement = select(_ARTICLE.id, *TEXT_COLUMNS).where(_ARTICLE.id.in_(chunk))
        for article_id, summary, body in raw_rows(session, statement):
            found.append((uncached[article_id], terms.article_text(summary or "", body or "")))
    held = held_pages(session) if unheld else frozenset()
    if held:
        released = released_copies(session)
        found = [
            pair
            for pair in found
            if pair[0].id in released or canonical_address(pair[0].page) not in held
        ]
    return found


def held_pages(session: Session) -> frozenset[str]:
    """The pages of the held articles (`identity.canonical_address`): a page fetched again
    under a new guid is the same article (README, Selection, step 1), held as its first
    fetch is. Without this, a held page that its feed served again under a new guid and an
    address spelt anew ("www.", a tracking parameter) was a new row, and led the next
    edition. Held articles are few: their ids are read from the index on `held_at` alone
    (asked for their addresses at once, SQLite scanned the window's covering index
    instead: 15 ms a call on the bench's 60,000 articles), then their addresses."""
    held = held_ids(session)
    found: set[str] = set()
    for offset in range(0, len(held), CHUNK):
        chunk = _ARTICLE.id.in_(held[offset : offset + CHUNK])
        for (address,) in raw_rows(session, select(_ADDRESS).where(chunk)):
            found.add(canonical_address(address or ""))
    return frozenset(found - {""})


def held_docs(session: Session) -> list[Doc]:
    """The held articles: what their copies at other addresses are known by
    (`held_copies`). Read through the index on `held_at`, then by id."""
    ids = held_ids(session)
    found: list[Doc] = []
    for offset in range(0, len(ids), CHUNK):
        chunk = _ARTICLE.id.in_(ids[offset : offset + CHUNK])
        found.extend(map(doc_of_row, raw_rows(session, select(*DOC_COLUMNS).where(chunk))))
    return found


def released_copies(session: Session) -> frozenset[int]:
    """Ids of the copies released on their own while the article they copy stays held
    (`holds.unhold`): never left out as its copies. Read through `held_copy_of`'s index
    (`released_query`), once per selection and per fetch while something is held."""
    return frozenset(row[0] for row in raw_rows(session, released_query()) if row[1] is None)


def released_query() -> Select[Any]:
    """`released_copies`' select: (id, hold) of the copies held with or released from a
    hold. As a range, and the hold looked at outside it: asked for articles with no
    hold, or with `held_copy_of` IS NOT NULL, SQLite (no statistics) read every article
    (95 ms a call on the bench's 60,000)."""
    return select(_ARTICLE.id, _ARTICLE.held_at).where(_ARTICLE.held_copy_of > 0)


def held_ids(session: Session) -> list[int]:
    """Ids of the held articles, from the index on `held_at` alone (few)."""
    statement = select(_ARTICLE.id).where(_ARTICLE.held_at.is_not(None))
    return [row[0] for row in raw_rows(session, statement)]


def window_docs(
    session: Session, language: str, start: datetime, end: datetime
) -> list[tuple[Doc, DocText]]:
    """Articles of the language published in [start, end), with their words or text."""
    return _by_publication(
        _with_terms(
            session,
            and_(
                _ARTICLE.language == language,
                _ARTICLE.published_at >= start,
                _ARTICLE.published_at < end,
                _ARTICLE.held_at.is_(None),
            ),
            unheld=True,
        )
    )


def archive_docs(
    session: Session,
    language: str,
    start: datetime,
    end: datetime,
    full: int,
    *,
    after: tuple[datetime, datetime] | None = None,
) -> tuple[list[tuple[Doc, DocText]], Headlines]:
    """The archive [start, end) (and the range `after` too, if given): the `full`
    nearest to the window (the newest before it; with `after`, the nearest on either
    side) with their words or text, in publication order (`_by_publication`); the
    others' headlines, screened (`corpus.Headlines`), in the order the database read
    them (the screen's choice does not depend on it, `corpus.Corpus.search`). Which are
    nearest is decided by publication time, then id (an integer: no collation can change
    the order).
    """
    shown = and_(_ARTICLE.language == language, _ARTICLE.held_at.is_(None))
    if after is None:
        when = and_(shown, _ARTICLE.published_at >= start, _ARTICLE.published_at < end)
        newest = raw_rows(
            session,
            select(_ARTICLE.id, _ARTICLE.published_at)
            .where(when)
            .order_by(_ARTICLE.published_at.desc(), _ARTICLE.id.desc())
            .limit(full),
        )
        if not newest:
            return [], _headlines(session, when) if full <= 0 else Headlines([], "")
        # Those from the oldest of them on are read in full, those before it screened:
        # (published, id) compared as an index range and a filter in it.
        time, number = _ARTICLE.published_at, _ARTICLE.id
        oldest, oldest_id = _utc(newest[-1][1]), newest[-1][0]
        # (Each with one bound on each side: SQLite reads its index range by one.)
        newer = and_(shown, time >= oldest, time < end, or_(time > oldest, number >= oldest_id))
        read = _by_publication(_with_terms(session, newer, unheld=True))
        if len(newest) < full:  # no older article
            return read, Headlines([], "")
        older = and_(shown, time >= start, time <= oldest, or_(time < oldest, number < oldest_id))
        return read, _headlines(session, older)
    when = or_(
        and_(_ARTICLE.published_at >= start, _ARTICLE.published_at < end),
        and_(_ARTICLE.published_at >= after[0], _ARTICLE.published_at < after[1]),
    )
    rows = raw_rows(
        session,
        select(_ARTICLE.id, _ARTICLE.title, _ARTICLE.published_at)
        .where(shown, when)
        .order_by(_ARTICLE.published_at, _ARTICLE.id),
    )
    nearest = _nearest(rows, end, after[0], full)
    chosen = set(nearest)
    screened = [(row[0], row[1] or "") for row in rows if row[0] not in chosen]
    return docs_with_terms(session, nearest, unheld=True), Headlines.of(screened)


def _headlines(session: Session, where: Any) -> Headlines:
    """The headlines of the articles `where` selects, joined by the database (as
    `corpus.Headlines.of` joins them), with their ids in the same order (two aggregates
    of one scan). Headlines are joined as they are, then checked: one longer than
    `TITLE_CHARS` is cut here, and only if one holds a `LINE_END` (a hostile feed) are
    they read again, cleaned by the database (a test on every row costs half the scan)."""
    separator = f" {LINE_END} "
    numbers, text = _joined(session, where, _ARTICLE.title)
    if _plain(text, len(numbers)):
        return Headlines(numbers, text + separator if numbers else "")
    titles = text.split(separator) if numbers else []
    if len(titles) == len(numbers) and text.count(LINE_END) == len(numbers) - 1:
        if max(map(len, titles)) <= TITLE_CHARS:  # another script's, none too long
            return Headlines(numbers, text + separator)
        return Headlines.of(zip(numbers, titles, strict=True))
    title = func.coalesce(_ARTICLE.title, "")
    cleaned = func.replace(func.substr(title, 1, TITLE_CHARS), LINE_END, " ")
    numbers, text = _joined(session, where, cleaned)
    return Headlines(numbers, text + separator if numbers else "")


def _joined(session: Session, where: Any, title: Any) -> tuple[list[int], str]:
    """The ids and the `title`s (joined by " LINE_END ") of the articles `where` selects."""
    ids, text = raw_rows(
        session,
        select(
            func.aggregate_strings(cast(_ARTICLE.id, String), ","),
            func.aggregate_strings(title, f" {LINE_END} "),
        ).where(where),
    )[0]
    if ids is None:
        return [], ""
    return np.fromstring(ids, dtype=np.int64, sep=",").tolist(), text


def _plain(text: str, count: int) -> bool:
    """Whether `count` ASCII headlines joined by " LINE_END " hold no LINE_END of their own
    and none is longer than `TITLE_CHARS` (read off the positions of the LINE_ENDs with
    numpy: splitting fifty thousand headlines to measure them cost 15 ms). Another
    script's headlines are measured one by one (`_headlines`)."""
    if not count or not text.isascii():
        return not count
    ends = np.flatnonzero(np.frombuffer(text.encode("ascii"), dtype=np.uint8) == ord(LINE_END))
    if len(ends) != count - 1:
        return False
    bounds = np.concatenate(([-1], ends, [len(text)]))
    return int(np.diff(bounds).max()) - 1 <= TITLE_CHARS  # a headline and its spaces


def _nearest(rows: Sequence[Any], before: datetime, after: datetime, count: int) -> list[int]:
    """Ids of the `count` rows (id, headline, published; oldest first) published nearest
    to the gap [before, after): the newest before it and the oldest after it, whichever
    is closer first."""
    times = [_utc(row[2]) or after for row in rows]
    split = sum(1 for when in times if when < before)  # rows are in publication order
    first_after = next((i for i in range(split, len(rows)) if times[i] >= after), len(rows))
    earlier, later = split - 1, first_after
    picked: list[int] = []
    while len(picked) < count and (earlier >= 0 or later < len(rows)):
        take_later = later < len(rows) and (
            earlier < 0 or times[later] - after <= before - times[earlier]
        )
        if take_later:
            picked.append(rows[later][0])
            later += 1
        else:
            picked.append(rows[earlier][0])
            earlier -= 1
    return picked


def docs_with_terms(
    session: Session, ids: Sequence[int], *, unheld: bool = False
) -> list[tuple[Doc, DocText]]:
    """Documents with their words or text for a few articles (for example past top
    stories); with `unheld`, none that is a held article's page (`_with_terms`)."""
    found: list[tuple[Doc, DocText]] = []
    for offset in range(0, len(ids), CHUNK):
        chunk = _ARTICLE.id.in_(list(ids[offset : offset + CHUNK]))
        found.extend(_with_terms(session, chunk, unheld=unheld))
    return _by_publication(found)


def articles(session: Session, ids: Iterable[int]) -> dict[int, Article]:
    """The ORM objects for the articles that made the plan."""
    wanted = sorted(set(ids))
    found: dict[int, Article] = {}
    for offset in range(0, len(wanted), CHUNK):
        chunk = wanted[offset : offset + CHUNK]
        for article in session.scalars(select(Article).where(Article.id.in_(chunk))):
            found[article.id] = article
    return found


def texts(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
    """Article id -> (headline, summary HTML, body) for a few hundred articles."""
    found: dict[int, tuple[str, str, str]] = {}
    for offset in range(0, len(ids), CHUNK):
        chunk = list(ids[offset : offset + CHUNK])
        statement = select(_ARTICLE.id, _ARTICLE.title, _ARTICLE.summary, _ARTICLE.body).where(
            _ARTICLE.id.in_(chunk)
        )
        for number, title, summary, body in raw_rows(session, statement):
            found[number] = (title or "", summary or "", body or "")
    return found


def nearest_of_language(
    session: Session, language: str, when: datetime, count: int, exclude: Iterable[int]
) -> dict[int, str]:
    """Id -> source of the `count` articles of `language` published nearest `when`, from
    the whole store (any window), the ids in `exclude` left out: `count` before it and
    `count` after it are read, the nearest kept."""
    left_out = set(exclude)
    wanted = count + len(left_out)
    columns = (_ARTICLE.id, _ARTICLE.source, _ARTICLE.published_at)
    of_language = _ARTICLE.language == language
    before = select(*columns).where(of_language, _ARTICLE.published_at < when)
    after = select(*columns).where(of_language, _ARTICLE.published_at >= when)
    rows = list(raw_rows(session, before.order_by(_ARTICLE.published_at.desc()).limit(wanted)))
    rows += raw_rows(session, after.order_by(_ARTICLE.published_at).limit(wanted))
    moment = _utc(when) or when
    rows.sort(key=lambda row: (abs(((_utc(row[2]) or moment) - moment).total_seconds()), row[0]))
    found = {row[0]: row[1] for row in rows if row[0] not in left_out}
    return dict(list(found.items())[:count])


def articles_by_guid(session: Session, guid: str, source: str | None = None) -> list[Article]:
    """The articles with `guid` (a guid is unique within one source), of `source` only
    when given; oldest first."""
    query = select(Article).where(Article.guid == guid)
    if source is not None:
        query = query.where(Article.source == source)
    return list(session.scalars(query.order_by(Article.id)))


def recent_top_story_ids(session: Session, day: date, language: str, days: int) -> list[int]:
    """Articles that led an edition sent (or being sent) in the `days` before `day`."""
    if days <= 0:
        return []
    rows = session.scalars(
        select(_ITEM.article_id)
        .join(Edition.__table__, _ITEM.edition_id == _EDITION.id)
        .where(
            _EDITION.language == language,
            _EDITION.date < day,
            _EDITION.date >= day - timedelta(days=days),
            _EDITION.status.in_([EditionStatus.SENDING, EditionStatus.SENT]),
            _ITEM.role == "top",
        )
    )
    return sorted(set(rows))
