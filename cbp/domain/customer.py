"""Tenants (the banks calling the API) and their customers."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from cbp.domain.errors import InvalidInput
from cbp.domain.policy import PaymentPolicy


class Channel(enum.StrEnum):
    """Ways to reach a customer."""

    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"


@dataclass(kw_only=True)
class Tenant:
    """A bank or fintech using the engine; owns every record it creates."""

    id: str
    name: str
    created_at: datetime
    policy: PaymentPolicy = field(default_factory=PaymentPolicy)
    contact_email: str | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("a tenant needs a name")
        if self.contact_email is not None and "@" not in self.contact_email:
            raise InvalidInput("contact email address is not valid")


@dataclass(kw_only=True)
class Customer:
    """A tenant's end user, who pays bills."""

    id: str
    tenant_id: str
    external_id: str
    name: str
    email: str | None
    phone: str | None
    created_at: datetime
    notification_channels: tuple[Channel, ...] = (Channel.EMAIL,)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("a customer needs a name")
        if not self.external_id.strip():
            raise InvalidInput("a customer needs an external id")
        if self.email is not None and "@" not in self.email:
            raise InvalidInput("email address is not valid")

    def recipient_for(self, channel: Channel) -> str | None:
        """Where to send a notification on ``channel``, if the customer has one."""
        if channel is Channel.EMAIL:
            return self.email
        if channel is Channel.SMS:
            return self.phone
        return None
