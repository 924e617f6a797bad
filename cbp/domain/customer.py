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


class StatusAlert(enum.StrEnum):
    """A step of a payment's or a bill's life that a customer may ask to be told of."""

    SCHEDULED = "scheduled"
    SENT = "sent"
    COMPLETED = "completed"
    FAILED = "failed"
    RETURNED = "returned"
    BILL_PRESENTED = "bill_presented"
    BILL_PAST_DUE = "bill_past_due"


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
    #: The payment status changes the customer opted into; none unless asked.
    notify_on: tuple[StatusAlert, ...] = ()

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

    def reachable_on(self, channel: Channel, *, webhook_endpoint: bool) -> bool:
        """Whether a notification on ``channel`` can reach the customer."""
        if channel is Channel.WEBHOOK:
            return webhook_endpoint
        return self.recipient_for(channel) is not None

    def channels_kept(self, *, webhook_endpoint: bool) -> tuple[Channel, ...]:
        """The chosen channels that still reach the customer, else email or SMS, as they can.

        What a change that names no channels keeps: a customer who has only
        a phone number is not held to an email channel they cannot have.
        """
        kept = tuple(
            channel
            for channel in self.notification_channels
            if self.reachable_on(channel, webhook_endpoint=webhook_endpoint)
        )
        return kept or default_channels(self.email, self.phone)

    def set_notification_preferences(
        self,
        channels: tuple[Channel, ...],
        notify_on: tuple[StatusAlert, ...],
        *,
        webhook_endpoint: bool,
    ) -> None:
        """Choose the channels the customer is told on, and which payment changes.

        Each channel must reach the customer: an email address for email, a
        phone number for SMS, the tenant's webhook endpoint for webhooks.
        """
        if not channels:
            raise InvalidInput("choose at least one channel")
        unreachable = {
            Channel.EMAIL: "the customer has no email address",
            Channel.SMS: "the customer has no phone number",
            Channel.WEBHOOK: "the tenant has no webhook endpoint",
        }
        for channel in channels:
            if not self.reachable_on(channel, webhook_endpoint=webhook_endpoint):
                raise InvalidInput(f"cannot notify on {channel.value}: {unreachable[channel]}")
        self.notification_channels = tuple(dict.fromkeys(channels))
        self.notify_on = tuple(dict.fromkeys(notify_on))


def default_channels(email: str | None, phone: str | None) -> tuple[Channel, ...]:
    """The channels a new customer is told on: email if they gave an address, else SMS."""
    if email:
        return (Channel.EMAIL,)
    if phone:
        return (Channel.SMS,)
    return (Channel.EMAIL,)
