"""Commands about exceptions, customer notifications and webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cbp.services.commands.base import Audited, Command


@dataclass(frozen=True, kw_only=True)
class HandleException(Command):
    """Decide how to tell the customer about a new exception."""

    tenant_id: str
    exception_id: str
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResolveException(Command):
    """Close an exception with a resolution."""

    audit = Audited(subject="exception_id", fields=("resolution",))

    tenant_id: str
    exception_id: str
    resolution: str


@dataclass(frozen=True, kw_only=True)
class SendCustomerNotification(Command):
    """Tell a customer about an exception; delivery happens in the background."""

    audit = Audited(subject="exception_id", fields=("channels", "template"))

    tenant_id: str
    exception_id: str
    channels: tuple[str, ...] = ()
    template: str = "payment_exception"


@dataclass(frozen=True, kw_only=True)
class RegisterWebhookEndpoint(Command):
    """Send the tenant's webhooks to ``url``, signed with a new secret."""

    audit = Audited(subject="tenant_id")

    tenant_id: str
    url: str


@dataclass(frozen=True, kw_only=True)
class ChangeWebhookEndpoint(Command):
    """Send the tenant's webhooks to another URL, with the same secrets."""

    audit = Audited(subject="tenant_id")

    tenant_id: str
    url: str


@dataclass(frozen=True, kw_only=True)
class RotateWebhookSecret(Command):
    """Sign with a new secret; the old one also signs for the overlap."""

    audit = Audited(subject="tenant_id")

    tenant_id: str


@dataclass(frozen=True, kw_only=True)
class RemoveWebhookEndpoint(Command):
    """Stop sending the tenant's webhooks anywhere."""

    audit = Audited(subject="tenant_id")

    tenant_id: str


@dataclass(frozen=True, kw_only=True)
class ResumeWebhookEndpoint(Command):
    """Send to a paused endpoint again, and send it what it missed."""

    audit = Audited(subject="tenant_id")

    tenant_id: str


@dataclass(frozen=True, kw_only=True)
class ReplayWebhooks(Command):
    """Send the tenant's webhooks made since ``since`` again (all, or only undelivered)."""

    audit = Audited(subject="tenant_id", fields=("since", "unsent_only"))

    tenant_id: str
    since: datetime
    unsent_only: bool = False


@dataclass(frozen=True, kw_only=True)
class DeliverNotification(Command):
    """Make one delivery attempt of a notification."""

    notification_id: str
    message_id: str | None = None
