"""title key: an index on each headline's first 200 characters, to find a story's postings

An outlet that posts a story again under a new guid and address, word for word and with
that day's date, has not reported anything new; selection dates such a copy by its first
posting (`digest.selection.repeats`). The first posting may be weeks old, far outside
what a selection reads, so selection looks its headline up (`store.postings`), and this
index finds it among any number of articles. It holds the first 200 characters, not the
whole headline: PostgreSQL refuses an index row longer than about 2,700 bytes, and a
hostile feed's headline can be longer.

Revision ID: 0017_title_key
Revises: 0016_word_ids
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_title_key"
down_revision = "0016_word_ids"
branch_labels = None
depends_on = None

INDEX = "ix_articles_title_key"


def upgrade() -> None:
    op.create_index(INDEX, "articles", [sa.text("substr(title, 1, 200)")])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="articles")
