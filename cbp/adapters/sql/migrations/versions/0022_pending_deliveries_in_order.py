"""Pending deliveries by subscriber, ordering key and sequence, apart from done ones.

A delivery waits while an earlier one of its key is pending. That check read
every earlier delivery of the key, done ones included, whenever the planner
chose the key's index: one customer's thousandth notice read the 999 before.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 06:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_pending_in_order",
        "deliveries",
        ["subscriber", "ordering_key", "seq"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_pending_in_order", table_name="deliveries")
