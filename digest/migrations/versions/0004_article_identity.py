"""article identity: (source, guid) key, canonical URL, first-fetch estimate flag

A guid is only unique within its source, so the unique key becomes (source, guid); the
old key (guid alone) implies the new one, so existing rows stay valid. `canonical_url`
is filled from each row's `url`; `estimated_on_first_fetch` starts false (what the old
schema stored cannot tell a backlog item from a fresh one). A story image or summary
`<img>` that is really sound or video (stored before images were checked) is removed.

Revision ID: 0004_article_identity
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from digest.ingest.clean import is_image_url, sanitise_summary
from digest.ingest.urls import canonical_url

revision = "0004_article_identity"
down_revision = "0001"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("canonical_url", sa.String(length=2048), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column(
                "estimated_on_first_fetch",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
        batch_op.drop_constraint("uq_articles_guid", type_="unique")
        batch_op.create_unique_constraint("uq_articles_source_guid", ["source", "guid"])
        batch_op.create_index("ix_articles_guid", ["guid"], unique=False)
        batch_op.create_index("ix_articles_canonical_url", ["canonical_url"], unique=False)
    _fill_canonical_urls()


def _fill_canonical_urls() -> None:
    connection = op.get_bind()
    articles = sa.table(
        "articles",
        sa.column("id", sa.Integer),
        sa.column("url", sa.String),
        sa.column("canonical_url", sa.String),
        sa.column("image_url", sa.String),
        sa.column("summary", sa.Text),
    )
    columns = (articles.c.id, articles.c.url, articles.c.image_url, articles.c.summary)
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(*columns).where(articles.c.id > last_id).order_by(articles.c.id).limit(_BATCH)
        ).all()
        if not rows:
            break
        last_id = rows[-1].id
        values = [
            {
                "row_id": row.id,
                "canonical": canonical_url(row.url),
                "image": row.image_url if is_image_url(row.image_url) else "",
                "text": sanitise_summary(row.summary, row.url or None)
                if "<img" in row.summary
                else row.summary,
            }
            for row in rows
        ]
        connection.execute(
            articles.update()
            .where(articles.c.id == sa.bindparam("row_id"))
            .values(
                canonical_url=sa.bindparam("canonical"),
                image_url=sa.bindparam("image"),
                summary=sa.bindparam("text"),
            ),
            values,
        )


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index("ix_articles_canonical_url")
        batch_op.drop_index("ix_articles_guid")
        batch_op.drop_constraint("uq_articles_source_guid", type_="unique")
        batch_op.create_unique_constraint("uq_articles_guid", ["guid"])
        batch_op.drop_column("estimated_on_first_fetch")
        batch_op.drop_column("canonical_url")
