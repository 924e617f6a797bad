"""The nacha processor's books in the main database: entries, files and cut-offs.

Account numbers and file contents are stored encrypted. An earlier
version's ledger file is moved in by ``cbp ach import-ledger``, which holds
the encryption keys that a schema migration does not.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 00:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ach_entries",
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("transaction_code", sa.Integer(), nullable=False),
        sa.Column("routing_number", sa.String(length=9), nullable=False),
        sa.Column("account_number_enc", sa.Text(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("file_name", sa.String(length=100), nullable=True),
        sa.Column("trace_number", sa.String(length=15), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("return_code", sa.String(length=3), nullable=True),
        sa.PrimaryKeyConstraint("reference", name="pk_ach_entries"),
        sa.UniqueConstraint("trace_number", name="uq_ach_entries_trace_number"),
    )
    op.create_index("ix_ach_entries_file_name_taken_at", "ach_entries", ["file_name", "taken_at"])
    op.create_table(
        "ach_files",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_enc", sa.Text(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("total_debit_cents", sa.BigInteger(), nullable=False),
        sa.Column("total_credit_cents", sa.BigInteger(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("announced", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_ach_files"),
    )
    op.create_table(
        "ach_cut_offs",
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("at", name="pk_ach_cut_offs"),
    )


def downgrade() -> None:
    op.drop_table("ach_cut_offs")
    op.drop_table("ach_files")
    op.drop_index("ix_ach_entries_file_name_taken_at", table_name="ach_entries")
    op.drop_table("ach_entries")
