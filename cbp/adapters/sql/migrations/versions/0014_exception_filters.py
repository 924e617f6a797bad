"""Exceptions by payment and by customer: the filters of GET /exception.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 19:05:00
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_INDEXES = {
    "ix_payment_exceptions_tenant_id_payment_id_id": ["tenant_id", "payment_id", "id"],
    "ix_payment_exceptions_tenant_id_customer_id_id": ["tenant_id", "customer_id", "id"],
}


def upgrade() -> None:
    for name, columns in _INDEXES.items():
        op.create_index(name, "payment_exceptions", columns)


def downgrade() -> None:
    for name in _INDEXES:
        op.drop_index(name, table_name="payment_exceptions")
