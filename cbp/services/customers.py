"""Customers: the tenant's end users."""

from __future__ import annotations

from cbp.domain import identifiers
from cbp.domain.customer import Channel, Customer, StatusAlert, default_channels
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.ports.system import Clock, IdGenerator
from cbp.services.choices import all_of
from cbp.services.commands import CreateCustomer, SetNotificationPreferences


def create_customer(
    command: CreateCustomer, *, uow: UnitOfWork, clock: Clock, ids: IdGenerator
) -> str:
    """Register a customer; the external id is unique within the tenant."""
    customer = Customer(
        id=ids.new(identifiers.CUSTOMER),
        tenant_id=command.tenant_id,
        external_id=command.external_id,
        name=command.name,
        email=command.email,
        phone=command.phone,
        created_at=clock.now(),
        notification_channels=default_channels(command.email, command.phone),
    )
    uow.tenants.get(command.tenant_id)
    uow.customers.add(customer)
    return customer.id


def set_notification_preferences(command: SetNotificationPreferences, *, uow: UnitOfWork) -> None:
    """Store the channels a customer is told on and the payment changes they opted into."""
    customer = uow.customers.get(command.tenant_id, command.customer_id)
    endpoint = uow.webhook_endpoints.for_tenant(customer.tenant_id) is not None
    channels = customer.channels_kept(webhook_endpoint=endpoint)
    if command.notification_channels is not None:
        channels = all_of(Channel, command.notification_channels, "notification_channels")
    notify_on = customer.notify_on
    if command.notify_on is not None:
        notify_on = all_of(StatusAlert, command.notify_on, "notify_on")
    customer.set_notification_preferences(channels, notify_on, webhook_endpoint=endpoint)
    uow.customers.save(customer)
