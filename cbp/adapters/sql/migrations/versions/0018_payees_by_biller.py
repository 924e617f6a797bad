"""Payees are found by the directory biller they are linked to, when it changes.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 17:40:00
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_payees_global_payee_id_id", "payees", ["global_payee_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_payees_global_payee_id_id", table_name="payees")
