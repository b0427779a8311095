"""indexes for millions of rows: claims in id order, subscriber filters, cascades

Revision ID: 0009_scale_indexes
Revises: 0007_signup_confirmation

- deliveries (edition_id, status, id) replaces (edition_id, status): a claim takes the
  lowest ids of one status, so the index hands them over in order with no sort;
- deliveries (subscriber_id): deleting a subscriber cascades to their deliveries, which
  otherwise scans every delivery ever made (PostgreSQL does not index foreign keys);
- subscribers (language, status): an edition's audience, and `subscribers count`/`list`
  with both filters;
- PostgreSQL only: autovacuum analyses `deliveries` after 0.5% of its rows change (not
  10%). A claim's plan depends on how many rows the statistics say are pending; right
  after an edition's million rows are created they all are, and a planner that still
  believes so walks the primary key over every row already sent, on every claim
  (bench/scale_bench.py prints that cost, and the cost once analysed).
"""

from alembic import op

revision = "0009_scale_indexes"
down_revision = "0007_signup_confirmation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_claim", ["edition_id", "status", "id"])
        batch_op.create_index("ix_deliveries_subscriber_id", ["subscriber_id"])
        batch_op.drop_index("ix_deliveries_edition_status")
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.create_index("ix_subscribers_language_status", ["language", "status"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE deliveries SET (autovacuum_analyze_scale_factor = 0.005, "
            "autovacuum_vacuum_scale_factor = 0.02)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE deliveries RESET (autovacuum_analyze_scale_factor, "
            "autovacuum_vacuum_scale_factor)"
        )
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_index("ix_subscribers_language_status")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_edition_status", ["edition_id", "status"])
        batch_op.drop_index("ix_deliveries_subscriber_id")
        batch_op.drop_index("ix_deliveries_claim")
