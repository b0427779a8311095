"""reader variants: edition_variants table and the edition's frozen story pool

Revision ID: 0006_reader_variants
Revises: 0009_scale_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_reader_variants"
down_revision = "0009_scale_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("editions") as batch:
        batch.add_column(sa.Column("pool", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "edition_variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("sections", sa.Text(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("preheader", sa.Text(), nullable=False),
        sa.Column("html_template", sa.Text(), nullable=False),
        sa.Column("text_template", sa.Text(), nullable=False),
        sa.Column("stories", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_edition_variants_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edition_variants")),
        sa.UniqueConstraint("edition_id", "key", name="uq_edition_variants_key"),
    )


def downgrade() -> None:
    op.drop_table("edition_variants")
    with op.batch_alter_table("editions") as batch:
        batch.drop_column("pool")
