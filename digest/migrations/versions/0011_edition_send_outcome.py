"""edition send outcome: how the edition's last send run ended, and the send time a
scheduler runs with (`--at`/`--tz`), for `digest status`

Revision ID: 0011_edition_send_outcome
Revises: 0006_reader_variants
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_edition_send_outcome"
down_revision = "0006_reader_variants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("editions") as batch:
        batch.add_column(sa.Column("last_send_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("last_send_error", sa.Text(), nullable=True))
    with op.batch_alter_table("scheduler_state") as batch:
        batch.add_column(sa.Column("schedule_at", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("schedule_timezone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scheduler_state") as batch:
        batch.drop_column("schedule_timezone")
        batch.drop_column("schedule_at")
    with op.batch_alter_table("editions") as batch:
        batch.drop_column("last_send_error")
        batch.drop_column("last_send_at")
