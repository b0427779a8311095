"""Writing the term cache (`models.ArticleTerms`): at ingest, at upgrade, on demand.

Every writer computes the words with `terms.article_words` from the article's headline,
summary and body as stored, so a row is the same whoever wrote it; selection reads it
only while its content hash and version match (`store.CACHED`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

import numpy as np
from sqlalchemy import Connection, Table, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from digest.models import Article, ArticleTerms, Word
from digest.selection import terms
from digest.selection.store import CACHED, TEXT_COLUMNS, raw_rows
from digest.selection.text import pack

_CHUNK = 500

#: (article id, content hash, headline, summary HTML, body) of one article.
ArticleText = tuple[int, str, str, str, str]


def write_terms(
    session: Session, articles: Sequence[ArticleText], numbered: dict[str, int] | None = None
) -> None:
    """Compute and store the term cache of these articles, replacing any row they have.

    INSERT ... ON CONFLICT DO UPDATE (SQLite and PostgreSQL), one statement executed for
    many rows: two runs writing the same article at once do not fail. `numbered`: words
    already numbered in this transaction (`word_ids`), kept up to date, so a caller
    writing many batches asks the database for each word once.
    """
    table = cast(Table, ArticleTerms.__table__)  # Core, not the ORM's per-row bookkeeping
    statement = _insert(session.get_bind().dialect.name)(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.article_id],
        set_={
            "content_hash": statement.excluded.content_hash,
            "version": statement.excluded.version,
            "words": statement.excluded.words,
            "counts": statement.excluded.counts,
            "word_ids": statement.excluded.word_ids,
        },
    )
    numbers = {} if numbered is None else numbered
    for offset in range(0, len(articles), _CHUNK):
        chunk = articles[offset : offset + _CHUNK]
        counted = terms.article_words([article[2:] for article in chunk])
        new = {word for words in counted for word in words.words if word not in numbers}
        numbers.update(word_ids(session, new))
        values: list[dict[str, Any]] = []
        for (article_id, content_hash, *_), words in zip(chunk, counted, strict=True):
            joined, counts, _ = pack(words)
            ids = np.array([numbers[word] for word in words.words], dtype="<u4")
            values.append(
                {
                    "article_id": article_id,
                    "content_hash": content_hash,
                    "version": terms.VERSION,
                    "words": joined,
                    "counts": counts,
                    "word_ids": ids.tobytes(),
                }
            )
        session.execute(statement, values)


def word_key(word: str) -> str:
    """A word's `models.Word.key`: its 128-bit BLAKE2b digest (RFC 7693) in hexadecimal.
    Two words share one with a probability of about one in 10^28 for a million words."""
    return hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def word_ids(session: Session, words: Iterable[str]) -> dict[str, int]:
    """The `models.Word` number of each of `words`, a word not numbered yet given the
    next (INSERT ... ON CONFLICT DO NOTHING, then read again: two ingests numbering one
    new word at once both get the number that landed).

    On PostgreSQL new words are numbered on a connection of their own, committed at
    once: inside ingest's transaction a new word's key stayed locked until it ended,
    and two ingests numbering overlapping words batch by batch each waited for the
    other's (a deadlock). A number that outlives a rolled-back ingest is harmless:
    numbers only name words. SQLite has one writer at a time, and a second connection
    would wait for this one's: there they are written in the session's transaction."""
    keyed = {word_key(word): word for word in set(words)}
    if not keyed:
        return {}
    keys = sorted(keyed)
    found = dict(_numbers(session.connection(), keys))
    missing = [key for key in keys if key not in found]
    if missing:
        bind = session.get_bind()
        if bind.dialect.name == "postgresql":
            with bind.engine.connect() as own:
                _add(own, missing)
                own.commit()
                found.update(_numbers(own, missing))
        else:
            _add(session.connection(), missing)
            found.update(_numbers(session.connection(), missing))
    return {keyed[key]: number for key, number in found.items()}


def _add(connection: Connection, keys: list[str]) -> None:
    """Insert the keys not in `words` yet, in sorted order (two writers cannot each wait
    for a key the other holds)."""
    table = cast(Table, Word.__table__)
    statement = _insert(connection.dialect.name)(table)
    statement = statement.on_conflict_do_nothing(index_elements=[table.c.key])
    connection.execute(statement, [{"key": key} for key in sorted(keys)])


def _numbers(connection: Connection, keys: list[str]) -> list[tuple[str, int]]:
    """(key, number) of the keys in `words`, in one statement with the keys as one
    parameter (an array, or JSON for SQLite's json_each): an IN list of thousands of
    parameters cost SQLAlchemy more to build than the database to answer."""
    if connection.dialect.name == "postgresql":
        statement = text("SELECT key, id FROM words WHERE key = ANY(:keys)")
        found = connection.execute(statement, {"keys": keys})
    else:
        statement = text(
            "SELECT key, id FROM words WHERE key IN (SELECT value FROM json_each(:keys))"
        )
        found = connection.execute(statement, {"keys": json.dumps(keys)})
    return [(key, number) for key, number in found]


def _insert(dialect: str) -> Any:
    """The dialect's INSERT (PostgreSQL's or SQLite's: both have ON CONFLICT)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def fill_terms(session: Session, ids: Iterable[int] | None = None) -> int:
    """Write the term cache of the articles `ids` (every article if None) that have no
    valid row (none, or one of older content or an older `terms.VERSION`); the number
    written. Articles are read `_CHUNK` at a time (bounded memory); the caller's
    transaction decides whether the rows land."""
    if ids is None:
        ids = session.scalars(select(Article.id)).all()
    wanted = sorted(set(ids))
    written = 0
    numbered: dict[str, int] = {}  # words numbered in this transaction (`write_terms`)
    for offset in range(0, len(wanted), _CHUNK):
        statement = (
            select(Article.id, Article.content_hash, Article.title, *TEXT_COLUMNS)
            .outerjoin(ArticleTerms, CACHED)
            .where(
                ArticleTerms.article_id.is_(None),
                Article.id.in_(wanted[offset : offset + _CHUNK]),
            )
        )
        rows = [
            (row[0], row[1], row[2] or "", row[3] or "", row[4] or "")
            for row in raw_rows(session, statement)
        ]
        write_terms(session, rows, numbered)
        written += len(rows)
    return written


def fill_recent_terms(session: Session, since: datetime) -> int:
    """`fill_terms` for the articles published since `since` (what selection reads):
    `digest init` runs it after an upgrade, so a database made before the term cache
    does not select at the cold speed until its articles are ingested again."""
    return fill_terms(
        session, session.scalars(select(Article.id).where(Article.published_at >= since)).all()
    )
