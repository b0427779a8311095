"""term cache: article_terms, each article's counted words as of its content hash

Selection tokenised the ~11,000 articles it reads in full on every edition (about half
of its time in bench/select_bench.py). Ingest now stores each article's counted words
(`digest.selection.terms`), keyed by the article's content hash; rows of databases made
before this revision have none, and selection reads their text as before until the
next ingest of their source fills them in.

Revision ID: 0014_term_cache
Revises: 0011_edition_send_outcome
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_term_cache"
down_revision = "0011_edition_send_outcome"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_terms",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("counts", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_terms_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_article_terms")),
    )


def downgrade() -> None:
    op.drop_table("article_terms")
