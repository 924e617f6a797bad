"""The event store and the event-sourced payments over it, in memory."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from cbp.adapters.memory.database import Transaction
from cbp.adapters.memory.rows import keyset_page
from cbp.domain.errors import ConcurrencyConflict
from cbp.domain.events import DomainEvent
from cbp.domain.payment import MOVES_NO_MONEY, Payment, PaymentSnapshot, PaymentStatus
from cbp.domain.verification import VerificationStatus
from cbp.ports.messages import (
    Headers,
)
from cbp.ports.storage.events import StoredEvent
from cbp.ports.storage.pages import Page
from cbp.ports.storage.payments import DueKey, PaymentFilter, ScheduleFilter


class InMemoryEventStore:
    """Event streams in memory with optimistic concurrency at append and commit."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def append(
        self, stream_id: str, events: list[DomainEvent], *, expected_version: int, headers: Headers
    ) -> None:
        current = len(self.tx.stream(stream_id))
        if current != expected_version:
            raise ConcurrencyConflict(
                f"stream {stream_id} is at version {current}, expected {expected_version}"
            )
        for offset, event in enumerate(events, start=1):
            if event.version != expected_version + offset:
                raise ValueError(f"event version {event.version} is out of sequence")
        staged = [StoredEvent(position=0, event=e) for e in events]
        self.tx.appends.append((stream_id, expected_version, staged))

    def stamp_cause(self, correlation_id: str | None, traceparent: str | None) -> None:
        """Nothing to do: this store keeps no headers with its events."""

    def load(self, stream_id: str) -> list[DomainEvent]:
        return [stored.event for stored in self.tx.stream(stream_id)]

    def last_position(self) -> int:
        with self.tx.db.lock:
            return len(self.tx.db.events)

    def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        with self.tx.db.lock:
            return self.tx.db.events[after_position : after_position + limit]


class InMemoryPaymentViews:
    """Payment snapshots in memory, one per payment."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def refresh(self, payment: Payment) -> None:
        self.tx.put("payment_views", payment.id, payment.snapshot())

    def replace_all(self, snapshots: Iterable[PaymentSnapshot]) -> None:
        for view in self._views():
            self.tx.delete("payment_views", view.id)
        for snapshot in snapshots:
            self.tx.put("payment_views", snapshot.id, snapshot)

    def _views(self) -> list[PaymentSnapshot]:
        return self.tx.scan("payment_views")

    def get(self, payment_id: str) -> PaymentSnapshot | None:
        return self.tx.get("payment_views", payment_id)

    def find(
        self, query: PaymentFilter, *, cursor: str | None, limit: int
    ) -> Page[PaymentSnapshot]:
        rows = [
            v
            for v in self._views()
            if v.tenant_id == query.tenant_id
            and query.customer_id in (None, v.customer_id)
            and query.payee_id in (None, v.payee_id)
            and query.status in (None, v.status)
        ]
        return keyset_page(rows, lambda v: (v.id,), cursor, limit, newest_first=True)

    def statuses(self, tenant_id: str, payment_ids: Sequence[str]) -> list[PaymentStatus]:
        wanted = set(payment_ids)
        return [v.status for v in self._views() if v.id in wanted and v.tenant_id == tenant_id]

    def due(
        self, on: date, *, tenant_id: str | None, limit: int, after: DueKey | None = None
    ) -> list[PaymentSnapshot]:
        due = [
            v
            for v in self._views()
            if v.status is PaymentStatus.SCHEDULED
            and v.send_on <= on
            and tenant_id in (None, v.tenant_id)
            and (after is None or (v.send_on, v.id) > after)
        ]
        return sorted(due, key=lambda v: (v.send_on, v.id))[:limit]

    def in_status(
        self, status: PaymentStatus, *, limit: int, after: str | None = None
    ) -> list[PaymentSnapshot]:
        found = (v for v in self._views() if v.status is status and (after is None or v.id > after))
        return sorted(found, key=lambda v: v.id)[:limit]

    def overdue(self, before: date) -> int:
        return sum(
            1 for v in self._views() if v.status is PaymentStatus.SCHEDULED and v.send_on < before
        )

    def oldest_change(self, status: PaymentStatus) -> datetime | None:
        return min((v.updated_at for v in self._views() if v.status is status), default=None)

    def held_on_answered_payees(self, *, limit: int) -> list[PaymentSnapshot]:
        answered = {
            (p.tenant_id, p.id)
            for p in self.tx.scan("payees")
            if p.verification_status is not VerificationStatus.PENDING and not p.is_suspended
        }
        held = (
            v
            for v in self._views()
            if v.status is PaymentStatus.HELD and (v.tenant_id, v.payee_id) in answered
        )
        return sorted(held, key=lambda v: v.id)[:limit]

    def amounts_sent_on(self, tenant_id: str, customer_id: str, send_on: date) -> list[Decimal]:
        return [
            v.amount.amount
            for v in self._views()
            if (v.tenant_id, v.customer_id, v.send_on) == (tenant_id, customer_id, send_on)
            and v.status not in MOVES_NO_MONEY
        ]


class InMemoryScheduleViews:
    """Recurring schedules' states in memory, one per schedule."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def refresh(self, state: dict[str, Any], next_send_on: date | None) -> None:
        self.tx.put("schedule_views", state["id"], (dict(state), next_send_on))

    def _rows(self) -> list[tuple[dict[str, Any], date | None]]:
        return self.tx.scan("schedule_views")

    def get(self, schedule_id: str) -> dict[str, Any] | None:
        row = self.tx.get("schedule_views", schedule_id)
        return None if row is None else dict(row[0])

    def find(
        self, query: ScheduleFilter, *, cursor: str | None, limit: int
    ) -> Page[dict[str, Any]]:
        rows = [
            state
            for state, _ in self._rows()
            if state["tenant_id"] == query.tenant_id
            and query.customer_id in (None, state["customer_id"])
            and (query.status is None or query.status.value == state["status"])
        ]
        return keyset_page(rows, lambda s: (s["id"],), cursor, limit, newest_first=True)

    def due(self, by: date, *, limit: int) -> list[tuple[str, str]]:
        due = sorted(
            (when, state["id"], state["tenant_id"])
            for state, when in self._rows()
            if when is not None and when <= by
        )
        return [(tenant_id, schedule_id) for _, schedule_id, tenant_id in due[:limit]]
