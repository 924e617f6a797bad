"""Exceptions, the notifications that tell of them, and webhook endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cbp.domain.customer import Channel
from cbp.domain.notification import Notification
from cbp.domain.payment_exception import ExceptionStatus, PaymentException
from cbp.domain.webhook_endpoint import WebhookEndpoint
from cbp.ports.storage.pages import Page


@dataclass(frozen=True, kw_only=True)
class ExceptionFilter:
    """What to list exceptions by; ``None`` matches everything."""

    tenant_id: str
    status: ExceptionStatus | None = None
    payment_id: str | None = None
    customer_id: str | None = None


class ExceptionRepository(Protocol):
    """Payment exceptions."""

    def add(self, exception: PaymentException) -> None:
        """Store a new exception."""
        ...

    def get(self, tenant_id: str, exception_id: str) -> PaymentException:
        """The exception, or NotFound."""
        ...

    def save(self, exception: PaymentException) -> None:
        """Store the exception's changes."""
        ...

    def find(
        self, query: ExceptionFilter, *, cursor: str | None, limit: int
    ) -> Page[PaymentException]:
        """A tenant's exceptions matching ``query``, newest first."""
        ...


class NotificationRepository(Protocol):
    """Notifications and their delivery state."""

    def add(self, notification: Notification) -> None:
        """Store a new notification."""
        ...

    def get(self, tenant_id: str, notification_id: str) -> Notification:
        """The notification, or NotFound."""
        ...

    def get_any(self, notification_id: str) -> Notification:
        """The notification whatever its tenant (for delivery workers)."""
        ...

    def for_replay(
        self, tenant_id: str, channel: Channel, since: datetime, *, unsent_only: bool, limit: int
    ) -> list[Notification]:
        """The tenant's notifications on ``channel`` made since ``since``, oldest first.

        With ``unsent_only``, only those not delivered (failed or dead):
        what a replay after an outage must send again.
        """
        ...

    def of_exceptions(self, tenant_id: str, exception_ids: Sequence[str]) -> dict[str, list[str]]:
        """The ids of the notifications each of these exceptions sent, oldest first."""
        ...

    def save(self, notification: Notification) -> None:
        """Store the notification's changes."""
        ...


class WebhookEndpointRepository(Protocol):
    """Each tenant's webhook endpoint (at most one), secrets encrypted at rest."""

    def add(self, endpoint: WebhookEndpoint) -> None:
        """Store a new endpoint; AlreadyExists if the tenant has one."""
        ...

    def for_tenant(self, tenant_id: str) -> WebhookEndpoint | None:
        """The tenant's endpoint, if it registered one."""
        ...

    def save(self, endpoint: WebhookEndpoint) -> None:
        """Store a changed endpoint."""
        ...

    def paused(self) -> int:
        """How many endpoints, every tenant's, are paused."""
        ...

    def save_health(self, endpoint: WebhookEndpoint) -> None:
        """Store only its status and failures, so a delivery never undoes a rotation."""
        ...

    def remove(self, tenant_id: str) -> None:
        """Forget the tenant's endpoint; NotFound if there is none."""
        ...
