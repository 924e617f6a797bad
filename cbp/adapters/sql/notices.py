"""Payment exceptions, customer notifications and webhook endpoints in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    delete,
    func,
    select,
    update,
)

from cbp.adapters.sql import codecs
from cbp.adapters.sql import schema as t
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.statements import (
    insert_row,
    keyset_page,
    row_by_id,
    sortable,
    update_by_id,
)
from cbp.domain.customer import Channel
from cbp.domain.errors import (
    NotFound,
)
from cbp.domain.notification import Notification, NotificationStatus
from cbp.domain.payment_exception import PaymentException
from cbp.domain.webhook_endpoint import EndpointStatus, WebhookEndpoint
from cbp.ports.storage.notices import ExceptionFilter
from cbp.ports.storage.pages import Page


class SqlExceptionRepository:
    """Payment exceptions in SQL."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, exception: PaymentException) -> None:
        insert_row(self.conn, t.payment_exceptions, codecs.exception_values(exception), "exception")

    def get(self, tenant_id: str, exception_id: str) -> PaymentException:
        row = row_by_id(
            self.conn, t.payment_exceptions, "exception", exception_id, tenant_id=tenant_id
        )
        return codecs.exception_from_row(row)

    def save(self, exception: PaymentException) -> None:
        values = codecs.exception_values(exception)
        update_by_id(
            self.conn,
            t.payment_exceptions,
            "exception",
            exception.id,
            values,
            tenant_id=exception.tenant_id,
        )

    def find(
        self, query: ExceptionFilter, *, cursor: str | None, limit: int
    ) -> Page[PaymentException]:
        c = t.payment_exceptions.c
        selected = select(t.payment_exceptions).where(c.tenant_id == query.tenant_id)
        if query.status is not None:
            selected = selected.where(c.status == query.status.value)
        if query.payment_id is not None:
            selected = selected.where(c.payment_id == query.payment_id)
        if query.customer_id is not None:
            selected = selected.where(c.customer_id == query.customer_id)
        keys = [c.id]
        rows, next_cursor = keyset_page(
            self.conn, sortable(selected, keys), keys, cursor, limit, newest_first=True
        )
        return Page([codecs.exception_from_row(row) for row in rows], next_cursor)


class SqlNotificationRepository:
    """Notifications in SQL."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, notification: Notification) -> None:
        insert_row(
            self.conn, t.notifications, codecs.notification_values(notification), "notification"
        )

    def get(self, tenant_id: str, notification_id: str) -> Notification:
        row = row_by_id(
            self.conn, t.notifications, "notification", notification_id, tenant_id=tenant_id
        )
        return codecs.notification_from_row(row)

    def get_any(self, notification_id: str) -> Notification:
        row = row_by_id(self.conn, t.notifications, "notification", notification_id)
        return codecs.notification_from_row(row)

    def for_replay(
        self, tenant_id: str, channel: Channel, since: datetime, *, unsent_only: bool, limit: int
    ) -> list[Notification]:
        c = t.notifications.c
        query = (
            select(t.notifications)
            .where(c.tenant_id == tenant_id, c.channel == channel.value, c.created_at >= since)
            .order_by(c.created_at, c.id)
            .limit(limit)
        )
        if unsent_only:
            query = query.where(c.status != NotificationStatus.SENT.value)
        return [codecs.notification_from_row(row) for row in self.conn.execute(query)]

    def of_exceptions(self, tenant_id: str, exception_ids: Sequence[str]) -> dict[str, list[str]]:
        if not exception_ids:
            return {}
        c = t.notifications.c
        rows = self.conn.execute(
            select(c.id, c.exception_id)
            .where(c.tenant_id == tenant_id, c.exception_id.in_(list(exception_ids)))
            .order_by(c.created_at, c.id)
        )
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row.exception_id, []).append(row.id)
        return found

    def save(self, notification: Notification) -> None:
        values = codecs.notification_values(notification)
        update_by_id(self.conn, t.notifications, "notification", notification.id, values)


class SqlWebhookEndpointRepository:
    """Webhook endpoints in SQL, one per tenant, their secrets encrypted."""

    def __init__(self, conn: Connection, cipher: FieldCipher) -> None:
        self.conn = conn
        self.cipher = cipher

    def add(self, endpoint: WebhookEndpoint) -> None:
        values = codecs.webhook_endpoint_values(endpoint, self.cipher)
        insert_row(self.conn, t.webhook_endpoints, values, "webhook endpoint")

    def for_tenant(self, tenant_id: str) -> WebhookEndpoint | None:
        query = select(t.webhook_endpoints).where(t.webhook_endpoints.c.tenant_id == tenant_id)
        row = self.conn.execute(query).first()
        return None if row is None else codecs.webhook_endpoint_from_row(row, self.cipher)

    def save(self, endpoint: WebhookEndpoint) -> None:
        self._update(endpoint, codecs.webhook_endpoint_values(endpoint, self.cipher))

    def paused(self) -> int:
        c = t.webhook_endpoints.c
        query = select(func.count()).where(c.status == EndpointStatus.PAUSED.value)
        return int(self.conn.execute(query).scalar_one())

    def save_health(self, endpoint: WebhookEndpoint) -> None:
        self._update(endpoint, codecs.webhook_health_values(endpoint), missing_ok=True)

    def remove(self, tenant_id: str) -> None:
        c = t.webhook_endpoints.c
        if (
            self.conn.execute(delete(t.webhook_endpoints).where(c.tenant_id == tenant_id)).rowcount
            == 0
        ):
            raise NotFound("webhook endpoint", tenant_id)

    def _update(
        self, endpoint: WebhookEndpoint, values: dict[str, Any], *, missing_ok: bool = False
    ) -> None:
        c = t.webhook_endpoints.c
        result = self.conn.execute(
            update(t.webhook_endpoints).where(c.id == endpoint.id).values(**values)
        )
        if result.rowcount == 0 and not missing_ok:
            raise NotFound("webhook endpoint", endpoint.tenant_id)
