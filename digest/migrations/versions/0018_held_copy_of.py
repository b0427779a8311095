"""held copy of: which held article a held copy was held with

`digest articles hold` holds an article's copies with it: its page fetched again under
another guid, and the same text posted again at a new address under its headline
(`digest.holds`). Each copy is held in its own row (so selection, the web archive and
the editions drop it as they drop any held article), and this column names the article
whose hold it follows, so that `digest articles unhold` of that article releases it too.
A copy released on its own (`unhold` of the copy) keeps the column, with no hold: shown
again, though the article it copies stays held, until that article's own unhold.

Revision ID: 0018_held_copy_of
Revises: 0017_title_key
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_held_copy_of"
down_revision = "0017_title_key"
branch_labels = None
depends_on = None


INDEX = "ix_articles_held_copy_of"


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("held_copy_of", sa.Integer(), nullable=True))
    op.create_index(INDEX, "articles", ["held_copy_of"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("held_copy_of")
