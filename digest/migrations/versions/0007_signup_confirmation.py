"""sign-up confirmation: the nonce an outstanding confirmation link must carry

Revision ID: 0007_signup_confirmation
Revises: 0003_schedule
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_signup_confirmation'
down_revision = '0003_schedule'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirm_nonce', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_column('confirm_nonce')
