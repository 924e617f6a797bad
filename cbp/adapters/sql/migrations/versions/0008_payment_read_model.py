"""Payment views hold a payment's whole state, so reads never replay events.

The new columns are filled from each payment's events here, with the
events' own stored fields, so the migration needs none of the code that
may change after it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 17:20:00
"""

from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: Columns added: name, type, and whether each ends up required.
_COLUMNS: list[tuple[str, Any, bool]] = [
    ("payee_id", sa.String(40), True),
    ("funding_account_id", sa.String(40), True),
    ("amount", sa.String(40), True),
    ("currency", sa.String(3), True),
    ("requested_send_on", sa.Date(), False),
    ("deliver_by", sa.Date(), True),
    ("memo", sa.Text(), False),
    ("failure_code", sa.Text(), False),
    ("processor_reference", sa.Text(), False),
    ("created_at", sa.DateTime(timezone=True), True),
    ("updated_at", sa.DateTime(timezone=True), True),
]


def upgrade() -> None:
    with op.batch_alter_table("payment_views") as batch_op:
        for name, type_, _ in _COLUMNS:
            batch_op.add_column(sa.Column(name, type_))
    _fill_from_events(op.get_bind())
    with op.batch_alter_table("payment_views") as batch_op:
        for name, type_, required in _COLUMNS:
            if required:
                batch_op.alter_column(name, existing_type=type_, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("payment_views") as batch_op:
        for name, _, _ in _COLUMNS:
            batch_op.drop_column(name)


def _fill_from_events(conn: sa.Connection) -> None:
    """Fold each viewed payment's events into the new columns."""
    events = sa.table(
        "events",
        sa.column("stream_id"),
        sa.column("version"),
        sa.column("type"),
        sa.column("data", sa.JSON),
        sa.column("occurred_at", sa.DateTime(timezone=True)),
    )
    views = sa.table(
        "payment_views", sa.column("id"), *(sa.column(name) for name, _, _ in _COLUMNS)
    )
    viewed = sa.select(views.c.id)
    rows = conn.execute(
        sa.select(events)
        .where(events.c.stream_id.in_(viewed))
        .order_by(events.c.stream_id, events.c.version)
    )
    state: dict[str, dict[str, Any]] = {}
    for row in rows:
        values = state.setdefault(row.stream_id, {})
        data = row.data
        if row.type == "PaymentCreated":
            values.update(
                payee_id=data["payee_id"],
                funding_account_id=data["funding_account_id"],
                amount=data["amount"],
                currency=data["currency"],
                requested_send_on=_day(data.get("requested_send_on")),
                deliver_by=_day(data["deliver_by"]),
                memo=data.get("memo"),
                created_at=row.occurred_at,
            )
        elif row.type == "PaymentProcessed":
            values["processor_reference"] = data["processor_reference"]
        elif row.type == "PaymentFailed":
            values["failure_code"] = data["failure_code"]
        elif row.type == "PaymentReturned":
            values["failure_code"] = data["return_code"]
        values["updated_at"] = row.occurred_at
    for payment_id, values in state.items():
        conn.execute(sa.update(views).where(views.c.id == payment_id).values(**values))


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)
