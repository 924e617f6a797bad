"""Bills and autopay rules as stored: the bill's stream and view, and each payee's rule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from cbp.domain.autopay import AutopayRule
from cbp.domain.bill import Bill, BillStatus
from cbp.domain.events import DomainEvent
from cbp.ports.storage.pages import Page


@dataclass(frozen=True, kw_only=True)
class BillFilter:
    """What to list bills by; ``None`` matches everything."""

    tenant_id: str
    customer_id: str | None = None
    payee_id: str | None = None
    status: BillStatus | None = None


class BillViews(Protocol):
    """The read model of bills: each one's state, found by customer, payee and due date."""

    def refresh(self, state: dict[str, Any]) -> None:
        """Write one bill's state (its ``snapshot()``)."""
        ...

    def replace_all(self, states: Iterable[dict[str, Any]]) -> None:
        """Forget every bill's state and store these instead (a replay's result)."""
        ...

    def get(self, bill_id: str) -> dict[str, Any] | None:
        """One bill's state, or None."""
        ...

    def find(self, query: BillFilter, *, cursor: str | None, limit: int) -> Page[dict[str, Any]]:
        """A tenant's bills matching ``query``, newest first."""
        ...

    def find_by_reference(self, tenant_id: str, payee_id: str, reference: str) -> str | None:
        """The id of the payee's bill with the biller's ``reference``, if one was presented."""
        ...

    def unpaid_due_before(self, day: date, *, limit: int) -> list[tuple[str, str]]:
        """Tenant and id of each open or scheduled bill due before ``day``, earliest first."""
        ...


class BillRepository(Protocol):
    """Bills: replayed from their events to change them, read from their view."""

    def get(self, tenant_id: str, bill_id: str) -> Bill:
        """The bill replayed from its events, or NotFound (also for another tenant's)."""
        ...

    def add(self, bill: Bill) -> list[DomainEvent]:
        """Store a new bill; DuplicateBill if its payee already has one with its reference."""
        ...

    def save(self, bill: Bill) -> list[DomainEvent]:
        """Append the bill's pending events and refresh its view; return them."""
        ...

    def view(self, tenant_id: str, bill_id: str) -> Bill:
        """The bill as its read model holds it, or NotFound."""
        ...

    def find(self, query: BillFilter, *, cursor: str | None, limit: int) -> Page[Bill]:
        """The tenant's bills matching ``query``, newest first."""
        ...

    def unpaid_due_before(self, day: date, *, limit: int = 500) -> list[tuple[str, str]]:
        """Tenant and id of each open or scheduled bill due before ``day``."""
        ...

    def rebuild_views(self, bills: Iterable[Bill]) -> None:
        """Replace every stored view with those of ``bills`` (used by replay)."""
        ...


class AutopayRules(Protocol):
    """Each payee's autopay rule, at most one."""

    def get(self, tenant_id: str, payee_id: str) -> AutopayRule | None:
        """The payee's rule, if it has one."""
        ...

    def put(self, rule: AutopayRule) -> None:
        """Store the payee's rule, replacing the one it had."""
        ...

    def remove(self, tenant_id: str, payee_id: str) -> bool:
        """Forget the payee's rule; whether it had one."""
        ...
