"""The event store and the event-sourced payments over it, in memory."""

from __future__ import annotations

from datetime import date
from typing import Any

from cbp.adapters.memory.database import Transaction
from cbp.adapters.memory.rows import keyset_page
from cbp.domain.errors import ConcurrencyConflict
from cbp.domain.events import DomainEvent
from cbp.domain.payment import Payment, PaymentStatus
from cbp.ports.messages import (
    Headers,
)
from cbp.ports.storage import Page, PaymentFilter, StoredEvent


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
        staged = [StoredEvent(position=0, event=e, headers=headers) for e in events]
        self.tx.appends.append((stream_id, expected_version, staged))

    def load_many(self, stream_ids: list[str]) -> dict[str, list[DomainEvent]]:
        return {stream_id: self.load(stream_id) for stream_id in stream_ids}

    def load(self, stream_id: str) -> list[DomainEvent]:
        return [stored.event for stored in self.tx.stream(stream_id)]

    def last_position(self) -> int:
        with self.tx.db.lock:
            return len(self.tx.db.events)

    def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        with self.tx.db.lock:
            return self.tx.db.events[after_position : after_position + limit]


class InMemoryPaymentViews:
    """Payment views in memory: what lists and sweeps select payments by."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def refresh(self, payment: Payment) -> None:
        self.tx.put(
            "payment_views",
            payment.id,
            {
                "id": payment.id,
                "tenant_id": payment.tenant_id,
                "customer_id": payment.customer_id,
                "status": payment.status,
                "send_on": payment.send_on,
            },
        )

    def reset(self) -> None:
        for view in self._views():
            self.tx.delete("payment_views", view["id"])

    def _views(self) -> list[dict[str, Any]]:
        return self.tx.scan("payment_views")

    def find(self, query: PaymentFilter, *, cursor: str | None, limit: int) -> Page[str]:
        rows = [
            v
            for v in self._views()
            if v["tenant_id"] == query.tenant_id
            and query.customer_id in (None, v["customer_id"])
            and query.status in (None, v["status"])
        ]
        page = keyset_page(rows, lambda v: (v["id"],), cursor, limit, newest_first=True)
        return Page([v["id"] for v in page.items], page.next_cursor)

    def due(self, on: date, *, tenant_id: str | None, limit: int) -> list[str]:
        ids = sorted(
            v["id"]
            for v in self._views()
            if v["status"] is PaymentStatus.SCHEDULED
            and v["send_on"] <= on
            and tenant_id in (None, v["tenant_id"])
        )
        return ids[:limit]

    def in_status(self, status: PaymentStatus, *, limit: int) -> list[str]:
        return sorted(v["id"] for v in self._views() if v["status"] is status)[:limit]
