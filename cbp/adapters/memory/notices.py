"""Payment exceptions, customer notifications and webhook endpoints in memory."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cbp.adapters.memory.database import Transaction
from cbp.adapters.memory.rows import keyset_page, owned
from cbp.domain.customer import Channel
from cbp.domain.errors import NotFound
from cbp.domain.notification import Notification, NotificationStatus
from cbp.domain.payment_exception import PaymentException
from cbp.domain.webhook_endpoint import EndpointStatus, WebhookEndpoint
from cbp.ports.storage.notices import ExceptionFilter
from cbp.ports.storage.pages import Page


class InMemoryExceptionRepository:
    """Payment exceptions in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, exception: PaymentException) -> None:
        self.tx.put("exceptions", exception.id, exception, insert=True)

    def get(self, tenant_id: str, exception_id: str) -> PaymentException:
        row = self.tx.get("exceptions", exception_id)
        return owned(row, tenant_id, "exception", exception_id)  # type: ignore[no-any-return]

    def save(self, exception: PaymentException) -> None:
        self.get(exception.tenant_id, exception.id)
        self.tx.put("exceptions", exception.id, exception)

    def find(
        self, query: ExceptionFilter, *, cursor: str | None, limit: int
    ) -> Page[PaymentException]:
        rows = [
            e
            for e in self.tx.scan("exceptions")
            if e.tenant_id == query.tenant_id
            and query.status in (None, e.status)
            and query.payment_id in (None, e.payment_id)
            and query.customer_id in (None, e.customer_id)
        ]
        return keyset_page(rows, lambda e: (e.id,), cursor, limit, newest_first=True)


class InMemoryNotificationRepository:
    """Notifications in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, notification: Notification) -> None:
        self.tx.put("notifications", notification.id, notification, insert=True)

    def get(self, tenant_id: str, notification_id: str) -> Notification:
        row = self.tx.get("notifications", notification_id)
        return owned(row, tenant_id, "notification", notification_id)  # type: ignore[no-any-return]

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

    def of_exceptions(self, tenant_id: str, exception_ids: Sequence[str]) -> dict[str, list[str]]:
        wanted = set(exception_ids)
        sent = sorted(
            (
                n
                for n in self.tx.scan("notifications")
                if n.tenant_id == tenant_id and n.exception_id in wanted
            ),
            key=lambda n: (n.created_at, n.id),
        )
        found: dict[str, list[str]] = {}
        for n in sent:
            found.setdefault(str(n.exception_id), []).append(n.id)
        return found

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

    def paused(self) -> int:
        return sum(
            1 for e in self.tx.scan("webhook_endpoints") if e.status is EndpointStatus.PAUSED
        )

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
