"""delivery outcomes: failure kind per delivery, stored site identity

Revision ID: 0002_delivery_outcomes
Revises: 0004_article_identity
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_delivery_outcomes"
down_revision = "0004_article_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure_kind", sa.String(length=16), nullable=True))
    op.create_table(
        "site_identity",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_site_identity")),
    )


def downgrade() -> None:
    op.drop_table("site_identity")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("failure_kind")
