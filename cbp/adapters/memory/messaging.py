"""The outbox, the inbox and the delivery store in memory."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from cbp.adapters.memory.database import Transaction
from cbp.domain.errors import IllegalTransition, NotFound
from cbp.ports.messages import Backlog, Delivery, DeliveryStatus, Message, delivery_id, stamped


class InMemoryOutbox:
    """Outbox messages in memory, committed with the unit of work."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, message: Message) -> None:
        self.tx.outbox.append(message)

    def stamp_cause(self, correlation_id: str | None, traceparent: str | None) -> None:
        self.tx.outbox[:] = stamped(self.tx.outbox, correlation_id, traceparent)

    def pending(self, limit: int) -> list[Message]:
        with self.tx.db.lock:
            waiting = [
                m for mid, m in self.tx.db.outbox.items() if mid not in self.tx.db.dispatched
            ]
        return waiting[:limit]

    def mark_dispatched(self, message_ids: list[str], at: datetime) -> None:
        self.tx.dispatched.update(message_ids)

    def backlog(self) -> Backlog:
        with self.tx.db.lock:
            times = [
                m.created_at
                for mid, m in self.tx.db.outbox.items()
                if mid not in self.tx.db.dispatched
            ]
        return Backlog(pending=len(times), oldest_created_at=min(times, default=None))

    def purge(self, before: datetime, *, limit: int) -> int:
        needed = {row["message"].message_id for row in self.tx.scan("deliveries")}
        with self.tx.db.lock:
            old = [
                mid
                for mid, m in self.tx.db.outbox.items()
                if mid in self.tx.db.dispatched and m.created_at < before and mid not in needed
            ][:limit]
        self.tx.purged.update(old)
        return len(old)


class InMemoryInbox:
    """Handled message ids in memory, committed with the consumer's effect."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def seen(self, consumer: str, message_id: str) -> bool:
        if (consumer, message_id) in self.tx.inbox:
            return True
        with self.tx.db.lock:
            return (consumer, message_id) in self.tx.db.inbox

    def seen_among(self, consumer: str, message_ids: Collection[str]) -> set[str]:
        return {message_id for message_id in message_ids if self.seen(consumer, message_id)}

    def claim(self, consumer: str, message_id: str, at: datetime) -> bool:
        if self.seen(consumer, message_id):
            return False
        self.tx.inbox.add((consumer, message_id))  # NOTE: a concurrent claim fails at commit
        return True

    def claim_on_commit(self, consumer: str, message_id: str, at: datetime) -> None:
        self.tx.inbox.add((consumer, message_id))  # NOTE: one handled already fails at commit

    def note(self, consumer: str, message_id: str, at: datetime) -> None:
        self.claim(consumer, message_id, at)


class InMemoryDeliveryStore:
    """Deliveries in memory; leases are compare-and-set at commit."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def schedule(self, message: Message, subscribers: list[str], *, at: datetime) -> None:
        for subscriber in subscribers:
            key = delivery_id(message.message_id, subscriber)
            row = {
                "seq": self.tx.db.next_sequence(),
                "id": key,
                "message": message,
                "subscriber": subscriber,
                "ordering_key": message.ordering_key,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "available_at": at,
                "created_at": at,
                "leased_until": None,
                "last_error": None,
                "version": 0,
            }
            self.tx.put("deliveries", key, row, insert=True)

    def get(self, delivery_id: str) -> Delivery:
        return _delivery(self._row(delivery_id))

    def get_many(self, delivery_ids: Sequence[str]) -> list[Delivery]:
        return [self.get(delivery_id) for delivery_id in delivery_ids]

    def claim_due(self, now: datetime, *, lease_seconds: float, limit: int) -> list[Delivery]:
        rows = sorted(self.tx.scan("deliveries"), key=lambda r: r["seq"])
        blocked: set[tuple[str, str]] = set()
        claimed: list[Delivery] = []
        for row in rows:
            if row["status"] is not DeliveryStatus.PENDING:
                continue
            lane = (row["subscriber"], row["ordering_key"])
            if row["ordering_key"] is not None:
                if lane in blocked:
                    continue
                blocked.add(lane)
            free = row["leased_until"] is None or row["leased_until"] <= now
            if row["available_at"] > now or not free or len(claimed) >= limit:
                continue
            leased = {
                **row,
                "attempts": row["attempts"] + 1,
                "leased_until": now + timedelta(seconds=lease_seconds),
                "version": row["version"] + 1,
            }
            self.tx.put("deliveries", row["id"], leased, expect_version=row["version"])
            claimed.append(_delivery(leased))
        return claimed

    def complete(self, delivery_id: str, *, at: datetime) -> None:
        row = self._row(delivery_id)
        self.tx.put(
            "deliveries",
            delivery_id,
            {**row, "status": DeliveryStatus.DONE, "version": row["version"] + 1},
        )

    def fail(self, delivery_id: str, *, error: str, retry_at: datetime | None) -> None:
        row = self._row(delivery_id)
        changed = {
            **row,
            "status": DeliveryStatus.DEAD if retry_at is None else DeliveryStatus.PENDING,
            "available_at": retry_at or row["available_at"],
            "leased_until": None,
            "last_error": error,
            "version": row["version"] + 1,
        }
        self.tx.put("deliveries", delivery_id, changed)

    def defer(self, delivery_id: str, *, until: datetime, reason: str) -> None:
        row = self._row(delivery_id)
        changed = {
            **row,
            "available_at": until,
            "leased_until": None,
            "last_error": reason,
            "attempts": max(0, row["attempts"] - 1),
            "version": row["version"] + 1,
        }
        self.tx.put("deliveries", delivery_id, changed)

    def owed(self, destination: str, subscriber: str, ordering_keys: Collection[str]) -> set[str]:
        wanted = set(ordering_keys)
        with self.tx.db.lock:
            committed = [
                m for mid, m in self.tx.db.outbox.items() if mid not in self.tx.db.dispatched
            ]
        unrelayed = {
            m.ordering_key
            for m in [*committed, *self.tx.outbox]
            if m.destination == destination and m.ordering_key in wanted
        }
        pending = {
            r["ordering_key"]
            for r in self.tx.scan("deliveries")
            if r["subscriber"] == subscriber
            and r["ordering_key"] in wanted
            and r["status"] is DeliveryStatus.PENDING
        }
        return {key for key in unrelayed | pending if key is not None}

    def dead_letters(self, *, limit: int, tenant_id: str | None = None) -> list[Delivery]:
        rows = sorted(
            (
                r
                for r in self.tx.scan("deliveries")
                if r["status"] is DeliveryStatus.DEAD
                and (tenant_id is None or r["message"].headers.tenant_id == tenant_id)
            ),
            key=lambda r: r["seq"],
        )
        return [_delivery(r) for r in rows[:limit]]

    def revive(self, delivery_id: str, *, at: datetime) -> None:
        row = self._row(delivery_id)
        if row["status"] is not DeliveryStatus.DEAD:
            raise IllegalTransition("delivery", row["status"].value, "revive")
        revived = {
            **row,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "available_at": at,
            "leased_until": None,
            "version": row["version"] + 1,
        }
        self.tx.put("deliveries", delivery_id, revived)

    def counts(self) -> dict[DeliveryStatus, int]:
        counted = Counter(row["status"] for row in self.tx.scan("deliveries"))
        return {status: counted.get(status, 0) for status in DeliveryStatus}

    def purge_done(self, before: datetime, *, limit: int) -> int:
        rows = sorted(self.tx.scan("deliveries"), key=lambda r: r["seq"])
        old = [
            r["id"] for r in rows if r["status"] is DeliveryStatus.DONE and r["created_at"] < before
        ][:limit]
        for key in old:
            self.tx.delete("deliveries", key)
        return len(old)

    def _row(self, delivery_id: str) -> dict[str, Any]:
        row = self.tx.get("deliveries", delivery_id)
        if row is None:
            raise NotFound("delivery", delivery_id)
        return row  # type: ignore[no-any-return]


def _delivery(row: dict[str, Any]) -> Delivery:
    return Delivery(
        id=row["id"],
        message=row["message"],
        subscriber=row["subscriber"],
        status=row["status"],
        attempts=row["attempts"],
        available_at=row["available_at"],
        leased_until=row["leased_until"],
        last_error=row["last_error"],
    )
