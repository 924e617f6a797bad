"""A payment keeps its bill's due date, which every change of its dates must still meet.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 07:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment_views") as table:
        table.add_column(sa.Column("due_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment_views") as table:
        table.drop_column("due_on")
