"""selection window: the archive headlines' covering index widened to the window's rows (SQLite)

Selection reads every article of its window (ten thousand in bench/select_bench.py): a
dozen short columns, and its words from the term cache. SQLite stores a row's columns in
the order the table declares them, and `articles` declares `summary` and `body` before
`section`, `source` and the dates: to read those, SQLite reads past the body, into the
row's overflow pages where the body is longer than a page. This index holds the short
columns the window query reads, after the (language, published_at, id, title) of
`0005_selection_headlines`, which it replaces (the archive's headline query is answered
by it as before). The window query then reads no body: 10,000 rows in 0.055 s instead of
0.09 s with bodies of about 3,400 characters, 0.075 s instead of 0.14 s with bodies of
13,000. PostgreSQL keeps long bodies out of line (TOAST), so the index is made on SQLite
only, as 0005's was.

Revision ID: 0015_selection_window
Revises: 0014_term_cache
"""

from __future__ import annotations

from alembic import op

revision = "0015_selection_window"
down_revision = "0014_term_cache"
branch_labels = None
depends_on = None

HEADLINES = "ix_articles_selection_headlines"
HEADLINE_COLUMNS = ["language", "published_at", "id", "title"]
INDEX = "ix_articles_selection_window"
#: What `digest.selection.store` reads of a window article, and the term cache's join key.
COLUMNS = [
    *HEADLINE_COLUMNS,
    "guid",
    "section",
    "source",
    "priority",
    "popularity",
    "canonical_url",
    "url",
    "date_estimated",
    "ingested_at",
    "estimated_on_first_fetch",
    "content_hash",
    "held_at",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_index(INDEX, "articles", COLUMNS)
        op.drop_index(HEADLINES, table_name="articles")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_index(HEADLINES, "articles", HEADLINE_COLUMNS)
        op.drop_index(INDEX, table_name="articles")
