"""Notifications and webhooks kept in memory, for tests and embedders."""

from __future__ import annotations

from datetime import datetime

from cbp.domain.errors import InvalidInput
from cbp.domain.notification import Notification
from cbp.domain.webhook_endpoint import WebhookEndpoint
from cbp.ports.errors import DeliveryRejected, DependencyUnavailable


class InMemoryNotifier:
    """Records what it sends; can be told to fail for some recipients, or to be down."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []
        self.failing_recipients: set[str] = set()
        self.down = False

    def send(self, notification: Notification) -> None:
        """Record the notification, or refuse it (or be down) like a real provider."""
        if self.down:
            raise DependencyUnavailable("memory", "the provider is not answering")
        if not notification.recipient or notification.recipient in self.failing_recipients:
            raise DeliveryRejected("memory", "recipient refused the message")
        self.sent.append(notification)


class InMemoryWebhookSender:
    """Records what it would POST, with the signatures; can be told an endpoint is down."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Notification, list[str]]] = []
        self.failing_urls: set[str] = set()

    def vet(self, url: str) -> None:
        """Refuse what the real sender refuses by name (the address is not resolved)."""
        if "localhost" in url or "169.254." in url:
            raise InvalidInput("url refused: the webhook URL resolves to an internal address")

    def send(self, endpoint: WebhookEndpoint, notification: Notification, *, at: datetime) -> None:
        """Record the delivery, or fail like an endpoint that is down."""
        if endpoint.url in self.failing_urls:
            raise DeliveryRejected("webhook", "the endpoint answered 503")
        self.sent.append((endpoint.url, notification, endpoint.signing_secrets(at)))
