"""Funding accounts verified by micro-deposits: the method, and the challenge (encrypted).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 15:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "funding_accounts",
        sa.Column(
            "verification_method",
            sa.String(length=20),
            nullable=False,
            server_default="instant",
        ),
    )
    op.add_column("funding_accounts", sa.Column("micro_deposits_enc", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("funding_accounts", "micro_deposits_enc")
    op.drop_column("funding_accounts", "verification_method")
