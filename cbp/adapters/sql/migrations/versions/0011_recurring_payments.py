"""Recurring payments: a read model of each schedule, its events being in the event store.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 15:30:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedule_views",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("next_send_on", sa.Date(), nullable=True),
        sa.Column(
            "state",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name="pk_schedule_views"),
    )
    op.create_index(
        "ix_schedule_views_tenant_id_customer_id_id",
        "schedule_views",
        ["tenant_id", "customer_id", "id"],
    )
    op.create_index("ix_schedule_views_next_send_on", "schedule_views", ["next_send_on"])


def downgrade() -> None:
    op.drop_table("schedule_views")
