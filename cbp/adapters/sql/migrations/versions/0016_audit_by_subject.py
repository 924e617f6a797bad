"""A record's audit trail read by its id: the audit log indexed by subject.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 00:40:00
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_log_subject_id_sequence", "audit_log", ["subject_id", "sequence"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_subject_id_sequence", table_name="audit_log")
