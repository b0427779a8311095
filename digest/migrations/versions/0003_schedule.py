"""schedule, tiled windows, revisions and holds, local-time delivery

Revision ID: 0003_schedule
Revises: 0008_bounces
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_schedule"
down_revision = "0008_bounces"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch_op:
        batch_op.add_column(sa.Column("held_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("hold_reason", sa.Text(), nullable=True))
        batch_op.create_index("ix_articles_held_at", ["held_at"], unique=False)
    with op.batch_alter_table("editions") as batch_op:
        batch_op.add_column(sa.Column("scheduled_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("revision", sa.Integer(), nullable=False, server_default="1")
        )
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.add_column(sa.Column("due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=True))
    op.create_table(
        "edition_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("article_guid", sa.String(length=2048), nullable=False),
        sa.Column("article_title", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_edition_revisions_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edition_revisions")),
        sa.UniqueConstraint("edition_id", "revision", name="uq_edition_revisions_revision"),
    )
    op.create_table(
        "edition_locks",
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("language", "variant", name=op.f("pk_edition_locks")),
    )
    op.create_table(
        "scheduler_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.Column("next_run_at", sa.DateTime(), nullable=True),
        sa.Column("stopped_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_state")),
    )


def downgrade() -> None:
    op.drop_table("scheduler_state")
    op.drop_table("edition_locks")
    op.drop_table("edition_revisions")
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_column("revision")
        batch_op.drop_column("due_at")
    with op.batch_alter_table("editions") as batch_op:
        batch_op.drop_column("revision")
        batch_op.drop_column("scheduled_at")
    with op.batch_alter_table("articles") as batch_op:
        batch_op.drop_index("ix_articles_held_at")
        batch_op.drop_column("hold_reason")
        batch_op.drop_column("held_at")
