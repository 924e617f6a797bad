"""Operator keys: API keys bound to no tenant; tenants' keys lose the operator scopes.

The biller directory is shared by every tenant, and a process's status is
the operator's, so ``directory:admin`` and ``operations:read`` now belong to
operator keys only. Tenant keys that held ``directory:admin`` keep their
other scopes; an operator makes an operator key (``cbp api-key create
--operator``) for directory work.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 14:37:21.836045
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OPERATOR_ONLY = {"directory:admin", "operations:read"}


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.alter_column("tenant_id", existing_type=sa.VARCHAR(length=40), nullable=True)
    keys = sa.table("api_keys", sa.column("id", sa.String), sa.column("scopes", sa.JSON))
    conn = op.get_bind()
    for key_id, scopes in conn.execute(sa.select(keys.c.id, keys.c.scopes)).all():
        held = json.loads(scopes) if isinstance(scopes, str) else list(scopes)
        kept = [scope for scope in held if scope not in OPERATOR_ONLY]
        if kept != held:
            conn.execute(sa.update(keys).where(keys.c.id == key_id).values(scopes=kept))


def downgrade() -> None:
    op.execute("DELETE FROM api_keys WHERE tenant_id IS NULL")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.alter_column("tenant_id", existing_type=sa.VARCHAR(length=40), nullable=False)
