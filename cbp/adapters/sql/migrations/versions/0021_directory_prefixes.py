"""Where each word of a biller's name and aliases starts, in search order.

A directory search reads name and word prefixes off one index range in
rank order and stops at the page's end, instead of ranking every match;
the rest of its matches off an index in popularity order; and knows
without a scan when no biller holds a character it is asked for.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 03:30:00
"""

import sqlalchemy as sa
from alembic import op

from cbp.adapters.sql.codecs import directory_characters, directory_prefix_rows

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

#: Billers indexed per statement while the existing directory is filled in.
BATCH = 1000


def upgrade() -> None:
    prefixes = op.create_table(
        "directory_prefixes",
        sa.Column("prefix", sa.String(3), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("name_folded", sa.String(200), nullable=False),
        sa.Column("global_payee_id", sa.String(40), nullable=False),
        sa.Column("rest", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_directory_prefixes_in_order",
        "directory_prefixes",
        ["prefix", "tier", "weight", "name_folded", "global_payee_id", "rest"],
    )
    op.create_index("ix_directory_prefixes_biller", "directory_prefixes", ["global_payee_id"])
    characters = op.create_table(
        "directory_characters",
        sa.Column("character", sa.String(1), nullable=False),
        sa.PrimaryKeyConstraint("character", name="pk_directory_characters"),
    )
    op.create_index(
        "ix_global_payees_in_search_order",
        "global_payees",
        [sa.text("(-popularity)"), "name_folded", "id"],
    )
    billers = sa.table(
        "global_payees",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("aliases", sa.JSON),
        sa.column("popularity", sa.Integer),
    )
    connection = op.get_bind()
    rows: list[dict[str, object]] = []
    held: set[str] = set()
    for biller in connection.execute(sa.select(billers).order_by(billers.c.id)):
        rows += directory_prefix_rows(
            biller.id, biller.name, biller.aliases or [], biller.popularity
        )
        held |= directory_characters(biller.name, biller.aliases or [])
        if len(rows) >= BATCH * 10:
            connection.execute(prefixes.insert(), rows)
            rows.clear()
    if rows:
        connection.execute(prefixes.insert(), rows)
    if held:
        connection.execute(characters.insert(), [{"character": c} for c in sorted(held)])


def downgrade() -> None:
    op.drop_index("ix_global_payees_in_search_order", table_name="global_payees")
    op.drop_table("directory_characters")
    op.drop_index("ix_directory_prefixes_biller", table_name="directory_prefixes")
    op.drop_index("ix_directory_prefixes_in_order", table_name="directory_prefixes")
    op.drop_table("directory_prefixes")
