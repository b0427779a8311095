"""word ids: one number per distinct word of the term cache, stored with its words

A selection numbered the half-million cached words of its window by hashing each as a
Python string (0.12 s of a 1.1 s selection in bench/select_bench.py); with each word's
number stored beside it, it reads them as one array. `words` gives the numbers (ingest
adds a word the first time it stores it); `article_terms.word_ids` holds a row's. Rows
written before this revision have none, and their `version` is an older one: they are
read as text (the same results, at the cold speed). `digest init` writes them again for
the articles a selection reads (its window and archive, the last days'), and ingest for
every new or changed article; an older article keeps its old row, read as text when
`digest articles related` asks about it.

Revision ID: 0016_word_ids
Revises: 0015_selection_window
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_word_ids"
down_revision = "0015_selection_window"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "words",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_words")),
        sa.UniqueConstraint("key", name=op.f("uq_words_key")),
    )
    with op.batch_alter_table("article_terms") as batch:
        batch.add_column(sa.Column("word_ids", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("article_terms") as batch:
        batch.drop_column("word_ids")
    op.drop_table("words")
