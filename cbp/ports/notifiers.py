"""Telling people and systems: customer notifications and signed webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from cbp.domain.notification import Notification
from cbp.domain.webhook_endpoint import WebhookEndpoint


class Notifier(Protocol):
    """Delivers a notification on its channel; raises DependencyError on failure."""

    def send(self, notification: Notification) -> None:
        """Deliver once."""
        ...


class WebhookSender(Protocol):
    """POSTs one notification to a tenant's endpoint, signed with its secrets.

    Raises DependencyError when the endpoint does not take it (any answer
    but 2xx, or no answer); the caller schedules the next attempt.
    """

    def vet(self, url: str) -> None:
        """Refuse, as InvalidInput, a URL it will never send to (an internal address)."""
        ...

    def send(self, endpoint: WebhookEndpoint, notification: Notification, *, at: datetime) -> None:
        """Deliver once, signed with every secret valid at ``at``."""
        ...
