"""Articles by headline, for the stories an outlet posts again: `repeats.first_postings`
finds a story's first posting at any date, and a hold its article's copies
(`held_copies.copies_of`). The store's own reads (`store`) are by window and id."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.orm import Session

from digest.models import Article
from digest.selection.corpus import Doc
from digest.selection.store import CHUNK, DOC_COLUMNS, doc_of_row, raw_rows

_ARTICLE = Article.__table__.c

#: Characters of a headline that find its other postings (`postings`): the index
#: `ix_articles_title_key` (migration 0017) holds them, and a key this long is no
#: accident two headlines share.
TITLE_KEY_CHARS = 200
#: The headline's key, with literal bounds: a database uses an index on an expression
#: only for that expression as written, and a bound parameter is not the number 200.
_TITLE_KEY = func.substr(_ARTICLE.title, literal_column("1"), literal_column(str(TITLE_KEY_CHARS)))


def postings(session: Session, language: str, titles: Iterable[str]) -> list[Doc]:
    """Every article of `language` (held ones aside) headlined with one of `titles`, of
    any date: where an outlet posted a story again under a new guid and address, its
    first posting, however long before (`repeats.first_postings`). One indexed query
    (`ix_articles_title_key`) per chunk of headlines, so the store's size does not
    matter; texts are read only for the few postings that could be a first one."""
    keys = sorted({title[:TITLE_KEY_CHARS] for title in titles if title})
    found: list[Doc] = []
    for offset in range(0, len(keys), CHUNK):
        for row in raw_rows(session, postings_query(keys[offset : offset + CHUNK])):
            *columns, written_in, held = row
            if written_in == language and held is None:
                found.append(doc_of_row(columns))
    return found


def titles_between(
    session: Session, language: str, start: datetime, end: datetime
) -> list[tuple[int, str, str]]:
    """(id, headline, canonical URL) of the articles of `language` published in
    [start, end], held ones aside: where a hold looks for its article's copies
    (`held_copies.copies_of`)."""
    statement = select(_ARTICLE.id, _ARTICLE.title, _ARTICLE.canonical_url).where(
        _ARTICLE.language == language,
        _ARTICLE.published_at >= start,
        _ARTICLE.published_at <= end,
        _ARTICLE.held_at.is_(None),
    )
    return [(row[0], row[1] or "", row[2] or "") for row in raw_rows(session, statement)]


def postings_query(keys: Sequence[str]) -> Select[Any]:
    """`postings`' select of the articles headlined with one of `keys` (first
    `TITLE_KEY_CHARS` characters): `DOC_COLUMNS`, then language and hold. The key is
    the only condition: given one on the language too, a database without statistics
    (SQLite's, until ANALYZE) reads the language's index, every article."""
    return select(*DOC_COLUMNS, _ARTICLE.language, _ARTICLE.held_at).where(
        _TITLE_KEY.in_(list(keys))
    )
