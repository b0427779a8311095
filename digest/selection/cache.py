"""Writing the term cache (`models.ArticleTerms`): at ingest, at upgrade, on demand.

Every writer computes the words with `terms.article_words` from the article's headline,
summary and body as stored, so a row is the same whoever wrote it; selection reads it
only while its content hash and version match (`store.CACHED`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from digest.models import Article, ArticleTerms
from digest.selection import terms
from digest.selection.store import CACHED, TEXT_COLUMNS, raw_rows
from digest.selection.text import pack

_CHUNK = 500

#: (article id, content hash, headline, summary HTML, body) of one article.
ArticleText = tuple[int, str, str, str, str]


def write_terms(session: Session, articles: Sequence[ArticleText]) -> None:
    """Compute and store the term cache of these articles, replacing any row they have.

    INSERT ... ON CONFLICT DO UPDATE (SQLite and PostgreSQL), one statement executed for
    many rows: two runs writing the same article at once do not fail, and ingest pays
    a few tens of microseconds per article.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = cast(Table, ArticleTerms.__table__)  # Core, not the ORM's per-row bookkeeping
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.article_id],
        set_={
            "content_hash": statement.excluded.content_hash,
            "version": statement.excluded.version,
            "words": statement.excluded.words,
            "counts": statement.excluded.counts,
        },
    )
    for offset in range(0, len(articles), _CHUNK):
        chunk = articles[offset : offset + _CHUNK]
        counted = terms.article_words([article[2:] for article in chunk])
        values: list[dict[str, Any]] = []
        for (article_id, content_hash, *_), words in zip(chunk, counted, strict=True):
            text, counts = pack(words)
            values.append(
                {
                    "article_id": article_id,
                    "content_hash": content_hash,
                    "version": terms.VERSION,
                    "words": text,
                    "counts": counts,
                }
            )
        session.execute(statement, values)


def fill_terms(session: Session, ids: Iterable[int] | None = None) -> int:
    """Write the term cache of the articles `ids` (every article if None) that have no
    valid row (none, or one of older content or an older `terms.VERSION`); the number
    written. Articles are read `_CHUNK` at a time (bounded memory); the caller's
    transaction decides whether the rows land."""
    if ids is None:
        ids = session.scalars(select(Article.id)).all()
    wanted = sorted(set(ids))
    written = 0
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
        write_terms(session, rows)
        written += len(rows)
    return written


def fill_recent_terms(session: Session, since: datetime) -> int:
    """`fill_terms` for the articles published since `since` (what selection reads):
    `digest init` runs it after an upgrade, so a database made before the term cache
    does not select at the cold speed until its articles are ingested again."""
    return fill_terms(
        session, session.scalars(select(Article.id).where(Article.published_at >= since)).all()
    )
