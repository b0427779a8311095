"""selection headlines: a covering index for reading the archive's headlines (SQLite)

Selection reads the headline of every archive article of the last days (tens of
thousands) to screen them. SQLite keeps an article's body in the row's own pages, so
reading headlines from the table reads every body too; an index holding (language,
published_at, id, title) answers the query from the index alone (50,000 headlines:
0.11 s -> 0.03 s of CPU in bench/select_bench.py's database). PostgreSQL moves long
bodies out of line (TOAST), and its index entries have a size limit a long title
could exceed, so the index is made on SQLite only.

Revision ID: 0005_selection_headlines
Revises: 0002_delivery_outcomes
"""

from __future__ import annotations

from alembic import op

revision = "0005_selection_headlines"
down_revision = "0002_delivery_outcomes"
branch_labels = None
depends_on = None

INDEX = "ix_articles_selection_headlines"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_index(INDEX, "articles", ["language", "published_at", "id", "title"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index(INDEX, table_name="articles")
