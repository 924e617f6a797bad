"""Lookups by the record they concern: the audit log by subject, notifications by exception.

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
    op.create_index("ix_notifications_exception_id", "notifications", ["exception_id"])


def downgrade() -> None:
    op.drop_index("ix_notifications_exception_id", table_name="notifications")
    op.drop_index("ix_audit_log_subject_id_sequence", table_name="audit_log")
