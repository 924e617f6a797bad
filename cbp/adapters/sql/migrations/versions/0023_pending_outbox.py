"""Unrelayed outbox rows in their own index, in position order.

The relay's read of what waits (dispatched_at IS NULL, by position) went
through an index on (dispatched_at, position) as a bitmap scan: it visited
every entry a relayed row had left behind in that index's NULL section, and
a bitmap scan never marks such entries dead for the next reader. An index
of the unrelayed rows alone, in position order, is read in order and stops
at the page's end.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 13:35:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

UNRELAYED = sa.text("dispatched_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_outbox_unrelayed",
        "outbox",
        ["position"],
        postgresql_where=UNRELAYED,
        sqlite_where=UNRELAYED,
    )
    op.drop_index("ix_outbox_dispatched_at_position", table_name="outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_dispatched_at_position", "outbox", ["dispatched_at", "position"])
    op.drop_index("ix_outbox_unrelayed", table_name="outbox")
