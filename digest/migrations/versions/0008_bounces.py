"""bounce processing: bounce events (each inbound report applied once), Message-ID lookups

Revision ID: 0008_bounces
Revises: 0005_selection_headlines
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_bounces'
down_revision = '0005_selection_headlines'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bounce_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=200), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('inbound_message_id', sa.String(length=998), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('failure_kind', sa.String(length=16), nullable=True),
    sa.Column('delivery_id', sa.Integer(), nullable=True),
    sa.Column('subscriber_id', sa.Integer(), nullable=True),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('diagnostic', sa.Text(), nullable=False),
    sa.Column('matched_by', sa.String(length=16), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_bounce_events_delivery_id_deliveries'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_bounce_events_subscriber_id_subscribers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bounce_events')),
    sa.UniqueConstraint('digest', name=op.f('uq_bounce_events_digest'))
    )
    with op.batch_alter_table('bounce_events', schema=None) as batch_op:
        batch_op.create_index('ix_bounce_events_delivery', ['delivery_id', 'kind'], unique=False)
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_message_id', ['message_id'], unique=False)
        batch_op.create_index('ix_deliveries_subscriber', ['subscriber_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_subscriber')
        batch_op.drop_index('ix_deliveries_message_id')
    op.drop_table('bounce_events')
