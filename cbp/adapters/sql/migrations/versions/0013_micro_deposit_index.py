"""Funding accounts by verification: the expiry job reads those awaiting micro-deposits.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 18:40:00
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_NAME = "ix_funding_accounts_verification_method_verification_status_id"


def upgrade() -> None:
    op.create_index(_NAME, "funding_accounts", ["verification_method", "verification_status", "id"])


def downgrade() -> None:
    op.drop_index(_NAME, table_name="funding_accounts")
