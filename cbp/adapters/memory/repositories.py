"""In-memory repositories over a Transaction: the fakes of every storage port."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from cbp.adapters.memory.database import Transaction
from cbp.domain.access import ApiKey
from cbp.domain.audit import AuditEntry
from cbp.domain.customer import Channel, Customer, Tenant
from cbp.domain.directory import GlobalPayee
from cbp.domain.errors import ConcurrencyConflict, IllegalTransition, NotFound
from cbp.domain.events import DomainEvent
from cbp.domain.funding import FundingAccount
from cbp.domain.idempotency import IdempotencyRecord
from cbp.domain.notification import Notification, NotificationStatus
from cbp.domain.payee import Payee
from cbp.domain.payment import Payment, PaymentStatus
from cbp.domain.payment_exception import ExceptionStatus, PaymentException
from cbp.domain.processing import ProcessJob
from cbp.domain.webhook_endpoint import WebhookEndpoint
from cbp.ports.messages import (
    Backlog,
    Delivery,
    DeliveryStatus,
    Headers,
    Message,
    delivery_id,
)
from cbp.ports.pagination import decode_cursor, encode_cursor, search_rank
from cbp.ports.storage import EventSourcedPayments, Page, PaymentFilter, StoredEvent


def _page(
    rows: list[Any], key: Any, cursor: str | None, limit: int, *, newest_first: bool
) -> Page[Any]:
    """Keyset pagination over rows sorted by ``key``."""
    rows = sorted(rows, key=key, reverse=newest_first)
    if cursor is not None:
        after = tuple(decode_cursor(cursor))
        rows = [r for r in rows if (key(r) < after if newest_first else key(r) > after)]
    items = rows[:limit]
    more = len(rows) > limit
    return Page(items, encode_cursor(list(key(items[-1]))) if more and items else None)


def _owned(row: Any, tenant_id: str, kind: str, record_id: str) -> Any:
    if row is None or row.tenant_id != tenant_id:
        raise NotFound(kind, record_id)
    return row


class InMemoryTenantRepository:
    """Tenants in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, tenant: Tenant) -> None:
        self.tx.put("tenants", tenant.id, tenant, insert=True)

    def get(self, tenant_id: str) -> Tenant:
        tenant = self.tx.get("tenants", tenant_id)
        if tenant is None:
            raise NotFound("tenant", tenant_id)
        return tenant  # type: ignore[no-any-return]

    def save(self, tenant: Tenant) -> None:
        self.get(tenant.id)
        self.tx.put("tenants", tenant.id, tenant)

    def list(self) -> list[Tenant]:
        return sorted(self.tx.scan("tenants"), key=lambda t: (t.created_at, t.id))

    def any_exist(self) -> bool:
        return bool(self.tx.scan("tenants"))


class InMemoryCustomerRepository:
    """Customers in memory, external ids unique per tenant."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        tx.db.table("customers", external_id=lambda c: (c.tenant_id, c.external_id))

    def add(self, customer: Customer) -> None:
        if any(
            c.tenant_id == customer.tenant_id and c.external_id == customer.external_id
            for c in self.tx.scan("customers")
        ):
            from cbp.domain.errors import AlreadyExists

            raise AlreadyExists("a customer with this external_id already exists")
        self.tx.put("customers", customer.id, customer, insert=True)

    def get(self, tenant_id: str, customer_id: str) -> Customer:
        return _owned(self.tx.get("customers", customer_id), tenant_id, "customer", customer_id)  # type: ignore[no-any-return]


class InMemoryDirectoryRepository:
    """The biller directory in memory, searched by a full scan."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, payee: GlobalPayee) -> None:
        self.tx.put("directory", payee.id, payee, insert=True)

    def get(self, payee_id: str) -> GlobalPayee:
        payee = self.tx.get("directory", payee_id)
        if payee is None:
            raise NotFound("global payee", payee_id)
        return payee  # type: ignore[no-any-return]

    def save(self, payee: GlobalPayee) -> None:
        self.get(payee.id)
        self.tx.put("directory", payee.id, payee)

    def search(self, partial_name: str, *, cursor: str | None, limit: int) -> Page[GlobalPayee]:
        ranked = [
            (rank, p)
            for p in self.tx.scan("directory")
            if (rank := search_rank(p.name, p.aliases, partial_name)) is not None
        ]
        page = _page(
            ranked,
            lambda rp: (rp[0], -rp[1].popularity, rp[1].name.casefold(), rp[1].id),
            cursor,
            limit,
            newest_first=False,
        )
        return Page([p for _, p in page.items], page.next_cursor)


class InMemoryPayeeRepository:
    """Customers' payees in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, payee: Payee) -> None:
        self.tx.put("payees", payee.id, payee, insert=True)

    def get(self, tenant_id: str, payee_id: str) -> Payee:
        return _owned(self.tx.get("payees", payee_id), tenant_id, "payee", payee_id)  # type: ignore[no-any-return]

    def save(self, payee: Payee) -> None:
        self.get(payee.tenant_id, payee.id)
        self.tx.put("payees", payee.id, payee)

    def find(
        self, tenant_id: str, *, customer_id: str | None, cursor: str | None, limit: int
    ) -> Page[Payee]:
        rows = [
            p
            for p in self.tx.scan("payees")
            if p.tenant_id == tenant_id and customer_id in (None, p.customer_id)
        ]
        return _page(rows, lambda p: (p.id,), cursor, limit, newest_first=False)


class InMemoryFundingAccountRepository:
    """Funding accounts in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, account: FundingAccount) -> None:
        self.tx.put("funding_accounts", account.id, account, insert=True)

    def get(self, tenant_id: str, account_id: str) -> FundingAccount:
        row = self.tx.get("funding_accounts", account_id)
        return _owned(row, tenant_id, "funding account", account_id)  # type: ignore[no-any-return]

    def save(self, account: FundingAccount) -> None:
        self.get(account.tenant_id, account.id)
        self.tx.put("funding_accounts", account.id, account)


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

    def load(self, stream_id: str) -> list[DomainEvent]:
        return [stored.event for stored in self.tx.stream(stream_id)]

    def last_position(self) -> int:
        with self.tx.db.lock:
            return len(self.tx.db.events)

    def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        with self.tx.db.lock:
            return self.tx.db.events[after_position : after_position + limit]


class InMemoryPaymentRepository(EventSourcedPayments):
    """Payments rebuilt from the event store, with a status view for listing."""

    def __init__(self, tx: Transaction, events: InMemoryEventStore) -> None:
        self.tx = tx
        self.events = events

    def rebuild_view(self, payment: Payment) -> None:
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

    def reset_views(self) -> None:
        for view in self._views():
            self.tx.delete("payment_views", view["id"])

    def _views(self) -> list[dict[str, Any]]:
        return self.tx.scan("payment_views")

    def _load(self, view: dict[str, Any]) -> Payment:
        return Payment.replay(view["id"], self.events.load(view["id"]))

    def find(self, query: PaymentFilter, *, cursor: str | None, limit: int) -> Page[Payment]:
        rows = [
            v
            for v in self._views()
            if v["tenant_id"] == query.tenant_id
            and query.customer_id in (None, v["customer_id"])
            and query.status in (None, v["status"])
        ]
        page = _page(rows, lambda v: (v["id"],), cursor, limit, newest_first=True)
        return Page([self._load(v) for v in page.items], page.next_cursor)

    def due(self, on: date, *, tenant_id: str | None = None, limit: int = 1000) -> list[Payment]:
        rows = sorted(
            (
                v
                for v in self._views()
                if v["status"] is PaymentStatus.SCHEDULED
                and v["send_on"] <= on
                and tenant_id in (None, v["tenant_id"])
            ),
            key=lambda v: v["id"],
        )
        return [self._load(v) for v in rows[:limit]]

    def in_status(self, status: PaymentStatus, *, limit: int = 1000) -> list[Payment]:
        rows = sorted((v for v in self._views() if v["status"] is status), key=lambda v: v["id"])
        return [self._load(v) for v in rows[:limit]]


class InMemoryExceptionRepository:
    """Payment exceptions in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, exception: PaymentException) -> None:
        self.tx.put("exceptions", exception.id, exception, insert=True)

    def get(self, tenant_id: str, exception_id: str) -> PaymentException:
        row = self.tx.get("exceptions", exception_id)
        return _owned(row, tenant_id, "exception", exception_id)  # type: ignore[no-any-return]

    def save(self, exception: PaymentException) -> None:
        self.get(exception.tenant_id, exception.id)
        self.tx.put("exceptions", exception.id, exception)

    def find(
        self, tenant_id: str, *, status: ExceptionStatus | None, cursor: str | None, limit: int
    ) -> Page[PaymentException]:
        rows = [
            e
            for e in self.tx.scan("exceptions")
            if e.tenant_id == tenant_id and status in (None, e.status)
        ]
        return _page(rows, lambda e: (e.id,), cursor, limit, newest_first=True)


class InMemoryNotificationRepository:
    """Notifications in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, notification: Notification) -> None:
        self.tx.put("notifications", notification.id, notification, insert=True)

    def get(self, tenant_id: str, notification_id: str) -> Notification:
        row = self.tx.get("notifications", notification_id)
        return _owned(row, tenant_id, "notification", notification_id)  # type: ignore[no-any-return]

    def get_any(self, notification_id: str) -> Notification:
        row = self.tx.get("notifications", notification_id)
        if row is None:
            raise NotFound("notification", notification_id)
        return row  # type: ignore[no-any-return]

    def for_replay(
        self, tenant_id: str, channel: Channel, since: datetime, *, unsent_only: bool, limit: int
    ) -> list[Notification]:
        found = [
            n
            for n in self.tx.scan("notifications")
            if n.tenant_id == tenant_id
            and n.channel is channel
            and n.created_at >= since
            and not (unsent_only and n.status is NotificationStatus.SENT)
        ]
        return sorted(found, key=lambda n: (n.created_at, n.id))[:limit]

    def save(self, notification: Notification) -> None:
        self.get_any(notification.id)
        self.tx.put("notifications", notification.id, notification)


class InMemoryWebhookEndpointRepository:
    """Webhook endpoints in memory, one per tenant."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, endpoint: WebhookEndpoint) -> None:
        self.tx.put("webhook_endpoints", endpoint.tenant_id, endpoint, insert=True)

    def for_tenant(self, tenant_id: str) -> WebhookEndpoint | None:
        endpoint: WebhookEndpoint | None = self.tx.get("webhook_endpoints", tenant_id)
        return endpoint

    def save(self, endpoint: WebhookEndpoint) -> None:
        if self.for_tenant(endpoint.tenant_id) is None:
            raise NotFound("webhook endpoint", endpoint.tenant_id)
        self.tx.put("webhook_endpoints", endpoint.tenant_id, endpoint)

    def save_health(self, endpoint: WebhookEndpoint) -> None:
        stored = self.for_tenant(endpoint.tenant_id)
        if stored is None or stored.id != endpoint.id:
            return  # NOTE: removed or replaced meanwhile; its health is moot
        stored.status = endpoint.status
        stored.failing_since = endpoint.failing_since
        stored.paused_at = endpoint.paused_at
        self.tx.put("webhook_endpoints", endpoint.tenant_id, stored)

    def remove(self, tenant_id: str) -> None:
        if self.for_tenant(tenant_id) is None:
            raise NotFound("webhook endpoint", tenant_id)
        self.tx.delete("webhook_endpoints", tenant_id)


class InMemoryProcessJobRepository:
    """Processing jobs in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, job: ProcessJob) -> None:
        self.tx.put("jobs", job.id, job, insert=True)

    def get(self, tenant_id: str, job_id: str) -> ProcessJob:
        return _owned(self.tx.get("jobs", job_id), tenant_id, "job", job_id)  # type: ignore[no-any-return]


class InMemoryApiKeyRepository:
    """API keys in memory (hashes only)."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, key: ApiKey) -> None:
        self.tx.put("api_keys", key.id, key, insert=True)

    def get(self, key_id: str) -> ApiKey:
        key = self.tx.get("api_keys", key_id)
        if key is None:
            raise NotFound("api key", key_id)
        return key  # type: ignore[no-any-return]

    def list(self, tenant_id: str | None = None) -> list[ApiKey]:
        keys = [k for k in self.tx.scan("api_keys") if tenant_id in (None, k.tenant_id)]
        return sorted(keys, key=lambda k: (k.created_at, k.id))

    def save(self, key: ApiKey) -> None:
        self.get(key.id)
        self.tx.put("api_keys", key.id, key)


class InMemoryIdempotencyStore:
    """Idempotency records in memory, one per tenant and key."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        existing = self.tx.get("idempotency", (record.tenant_id, record.key))
        if existing is not None:
            return existing  # type: ignore[no-any-return]
        self.tx.put("idempotency", (record.tenant_id, record.key), record, insert=True)
        return None

    def save(self, record: IdempotencyRecord) -> None:
        self.tx.put("idempotency", (record.tenant_id, record.key), record)

    def release(self, tenant_id: str, key: str) -> None:
        self.tx.delete("idempotency", (tenant_id, key))

    def purge_expired(self, now: datetime) -> int:
        expired = [r for r in self.tx.scan("idempotency") if r.expires_at <= now]
        for record in expired:
            self.tx.delete("idempotency", (record.tenant_id, record.key))
        return len(expired)


class InMemoryAuditLog:
    """The audit chain in memory; entries are chained in commit order."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def last(self) -> AuditEntry | None:
        if self.tx.audit:
            return self.tx.audit[-1]
        with self.tx.db.lock:
            return self.tx.db.audit[-1] if self.tx.db.audit else None

    def append(self, entry: AuditEntry) -> None:
        self.tx.audit.append(entry)

    def entries(self, *, after_sequence: int = 0, limit: int = 1000) -> list[AuditEntry]:
        with self.tx.db.lock:
            return self.tx.db.audit[after_sequence : after_sequence + limit]


class InMemoryOutbox:
    """Outbox messages in memory, committed with the unit of work."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, message: Message) -> None:
        self.tx.outbox.append(message)

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

    def record(self, consumer: str, message_id: str, at: datetime) -> None:
        self.tx.inbox.add((consumer, message_id))


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

    def owed(self, destination: str, subscriber: str, ordering_key: str) -> bool:
        with self.tx.db.lock:
            committed = [
                m for mid, m in self.tx.db.outbox.items() if mid not in self.tx.db.dispatched
            ]
        if any(
            m.destination == destination and m.ordering_key == ordering_key
            for m in [*committed, *self.tx.outbox]
        ):
            return True
        return any(
            r["subscriber"] == subscriber
            and r["ordering_key"] == ordering_key
            and r["status"] is DeliveryStatus.PENDING
            for r in self.tx.scan("deliveries")
        )

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
