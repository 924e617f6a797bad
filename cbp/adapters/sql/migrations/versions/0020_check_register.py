"""The check register: checks issued, each tenant's last check number, and the files made.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 21:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "checks",
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("check_number", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("payee_name", sa.Text(), nullable=False),
        sa.Column("mail_to", Json, nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("issued_at", Moment, nullable=False),
        sa.Column("print_file", sa.Text(), nullable=True),
        sa.Column("printed_on", sa.Date(), nullable=True),
        sa.Column("mailed_on", sa.Date(), nullable=True),
        sa.Column("cashed_on", sa.Date(), nullable=True),
        sa.Column("closed_at", Moment, nullable=True),
        sa.Column("void_reported", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("reference", name="pk_checks"),
        sa.UniqueConstraint("tenant_id", "check_number", name="uq_checks_tenant_id_check_number"),
    )
    op.create_index(
        "ix_checks_status_tenant_id_check_number", "checks", ["status", "tenant_id", "check_number"]
    )
    op.create_table(
        "check_numbers",
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_check_numbers"),
    )
    op.create_table(
        "check_files",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("written", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_check_files"),
    )


def downgrade() -> None:
    op.drop_table("check_files")
    op.drop_table("check_numbers")
    op.drop_table("checks")
