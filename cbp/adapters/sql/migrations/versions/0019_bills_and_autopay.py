"""Bills presented for customers' payees, autopay rules, and the bill a payment pays.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 21:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "bill_views",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("payee_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("state", Json, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_bill_views"),
    )
    op.create_index(
        "ix_bill_views_tenant_id_customer_id_id", "bill_views", ["tenant_id", "customer_id", "id"]
    )
    op.create_index(
        "ix_bill_views_tenant_id_payee_id_reference",
        "bill_views",
        ["tenant_id", "payee_id", "reference"],
        unique=True,
    )
    op.create_index("ix_bill_views_status_due_on", "bill_views", ["status", "due_on"])
    op.create_table(
        "autopay_rules",
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("payee_id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("funding_account_id", sa.String(40), nullable=False),
        sa.Column("basis", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("fixed_amount", sa.String(40), nullable=True),
        sa.Column("cap", sa.String(40), nullable=True),
        sa.Column("days_before_due", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "payee_id", name="pk_autopay_rules"),
    )
    with op.batch_alter_table("payment_views") as table:
        table.add_column(sa.Column("bill_id", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment_views") as table:
        table.drop_column("bill_id")
    op.drop_table("autopay_rules")
    op.drop_table("bill_views")
