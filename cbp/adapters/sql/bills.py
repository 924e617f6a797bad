"""The bill_views and autopay_rules tables."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from cbp.adapters.sql import schema as t
from cbp.adapters.sql.rows import must_utc
from cbp.adapters.sql.statements import batched, state_page, upsert_row
from cbp.domain.autopay import AutopayBasis, AutopayRule
from cbp.domain.bill import BillStatus
from cbp.domain.errors import AlreadyExists
from cbp.domain.money import Money
from cbp.ports.storage.bills import BillFilter
from cbp.ports.storage.pages import Page

#: The statuses of a bill the past-due sweep looks at.
_UNPAID = (BillStatus.OPEN.value, BillStatus.SCHEDULED.value)


def _view_values(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": state["id"],
        "tenant_id": state["tenant_id"],
        "customer_id": state["customer_id"],
        "payee_id": state["payee_id"],
        "status": state["status"],
        "due_on": date.fromisoformat(state["due_on"]),
        "reference": state["reference"],
        "state": state,
    }


class SqlBillViews:
    """The bill_views table: one row per bill, its whole state as JSON."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def refresh(self, state: dict[str, Any]) -> None:
        values = _view_values(state)
        try:
            upsert_row(self.conn, t.bill_views, values)
        except IntegrityError:
            raise AlreadyExists(
                f"payee {state['payee_id']} already has a bill with reference "
                f"{state['reference']!r}"
            ) from None

    def replace_all(self, states: Iterable[dict[str, Any]]) -> None:
        self.conn.execute(delete(t.bill_views))
        for batch in batched(states, 1000):
            self.conn.execute(insert(t.bill_views), [_view_values(s) for s in batch])

    def get(self, bill_id: str) -> dict[str, Any] | None:
        v = t.bill_views.c
        return self.conn.execute(select(v.state).where(v.id == bill_id)).scalar()

    def find(self, query: BillFilter, *, cursor: str | None, limit: int) -> Page[dict[str, Any]]:
        filters = {
            "customer_id": query.customer_id,
            "payee_id": query.payee_id,
            "status": None if query.status is None else query.status.value,
        }
        return state_page(
            self.conn, t.bill_views, query.tenant_id, filters, cursor=cursor, limit=limit
        )

    def find_by_reference(self, tenant_id: str, payee_id: str, reference: str) -> str | None:
        v = t.bill_views.c
        query = select(v.id).where(
            v.tenant_id == tenant_id, v.payee_id == payee_id, v.reference == reference
        )
        return self.conn.execute(query).scalar()

    def unpaid_due_before(self, day: date, *, limit: int) -> list[tuple[str, str]]:
        v = t.bill_views.c
        query = select(v.tenant_id, v.id).where(v.status.in_(_UNPAID), v.due_on < day)
        rows = self.conn.execute(query.order_by(v.due_on, v.id).limit(limit))
        return [(row.tenant_id, row.id) for row in rows]


class SqlAutopayRules:
    """The autopay_rules table: one row per payee with a rule."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, tenant_id: str, payee_id: str) -> AutopayRule | None:
        r = t.autopay_rules.c
        row = self.conn.execute(
            select(t.autopay_rules).where(r.tenant_id == tenant_id, r.payee_id == payee_id)
        ).first()
        if row is None:
            return None

        def money(amount: str | None) -> Money | None:
            return None if amount is None else Money(Decimal(amount), row.currency)

        return AutopayRule(
            tenant_id=row.tenant_id,
            customer_id=row.customer_id,
            payee_id=row.payee_id,
            funding_account_id=row.funding_account_id,
            basis=AutopayBasis(row.basis),
            fixed_amount=money(row.fixed_amount),
            days_before_due=row.days_before_due,
            cap=money(row.cap),
            created_at=must_utc(row.created_at),
            updated_at=must_utc(row.updated_at),
        )

    def put(self, rule: AutopayRule) -> None:
        amounts = [m for m in (rule.fixed_amount, rule.cap) if m is not None]
        values: dict[str, Any] = {
            "tenant_id": rule.tenant_id,
            "payee_id": rule.payee_id,
            "customer_id": rule.customer_id,
            "funding_account_id": rule.funding_account_id,
            "basis": rule.basis.value,
            "currency": amounts[0].currency if amounts else None,
            "fixed_amount": _amount(rule.fixed_amount),
            "cap": _amount(rule.cap),
            "days_before_due": rule.days_before_due,
            "created_at": rule.created_at,
            "updated_at": rule.updated_at,
        }
        upsert_row(self.conn, t.autopay_rules, values, keys=("tenant_id", "payee_id"))

    def remove(self, tenant_id: str, payee_id: str) -> bool:
        r = t.autopay_rules.c
        result = self.conn.execute(
            delete(t.autopay_rules).where(r.tenant_id == tenant_id, r.payee_id == payee_id)
        )
        return bool(result.rowcount)


def _amount(money: Money | None) -> str | None:
    return None if money is None else str(money.amount)
