"""Bills' views and autopay rules, in memory."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from cbp.adapters.memory.database import Transaction
from cbp.adapters.memory.rows import keyset_page
from cbp.domain.autopay import AutopayRule
from cbp.domain.bill import BillStatus
from cbp.ports.storage.bills import BillFilter
from cbp.ports.storage.pages import Page

#: The statuses of a bill the past-due sweep looks at.
_UNPAID = (BillStatus.OPEN.value, BillStatus.SCHEDULED.value)


class InMemoryBillViews:
    """Bills' states in memory, one per bill."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def refresh(self, state: dict[str, Any]) -> None:
        self.tx.put("bill_views", state["id"], dict(state))

    def replace_all(self, states: Iterable[dict[str, Any]]) -> None:
        for state in self.tx.scan("bill_views"):
            self.tx.delete("bill_views", state["id"])
        for state in states:
            self.refresh(state)

    def get(self, bill_id: str) -> dict[str, Any] | None:
        return self.tx.get("bill_views", bill_id)

    def find(self, query: BillFilter, *, cursor: str | None, limit: int) -> Page[dict[str, Any]]:
        rows = [
            state
            for state in self.tx.scan("bill_views")
            if state["tenant_id"] == query.tenant_id
            and query.customer_id in (None, state["customer_id"])
            and query.payee_id in (None, state["payee_id"])
            and (query.status is None or query.status.value == state["status"])
        ]
        return keyset_page(rows, lambda s: (s["id"],), cursor, limit, newest_first=True)

    def find_by_reference(self, tenant_id: str, payee_id: str, reference: str) -> str | None:
        return next(
            (
                state["id"]
                for state in self.tx.scan("bill_views")
                if (state["tenant_id"], state["payee_id"], state["reference"])
                == (tenant_id, payee_id, reference)
            ),
            None,
        )

    def unpaid_due_before(self, day: date, *, limit: int) -> list[tuple[str, str]]:
        due = sorted(
            (state["due_on"], state["id"], state["tenant_id"])
            for state in self.tx.scan("bill_views")
            if state["status"] in _UNPAID and date.fromisoformat(state["due_on"]) < day
        )
        return [(tenant_id, bill_id) for _, bill_id, tenant_id in due[:limit]]


class InMemoryAutopayRules:
    """Autopay rules in memory, one per payee."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def get(self, tenant_id: str, payee_id: str) -> AutopayRule | None:
        return self.tx.get("autopay_rules", (tenant_id, payee_id))

    def put(self, rule: AutopayRule) -> None:
        self.tx.put("autopay_rules", (rule.tenant_id, rule.payee_id), rule)

    def remove(self, tenant_id: str, payee_id: str) -> bool:
        if self.get(tenant_id, payee_id) is None:
            return False
        self.tx.delete("autopay_rules", (tenant_id, payee_id))
        return True
