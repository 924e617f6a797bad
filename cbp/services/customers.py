"""Customers: the tenant's end users."""

from __future__ import annotations

from cbp.domain import identifiers
from cbp.domain.customer import Customer
from cbp.services import auditing
from cbp.services.commands import CreateCustomer
from cbp.services.dependencies import Dependencies


def create_customer(command: CreateCustomer, deps: Dependencies) -> str:
    """Register a customer; the external id is unique within the tenant."""
    customer = Customer(
        id=deps.ids.new(identifiers.CUSTOMER),
        tenant_id=command.tenant_id,
        external_id=command.external_id,
        name=command.name,
        email=command.email,
        phone=command.phone,
        created_at=deps.clock.now(),
    )
    with deps.uow() as uow:
        uow.tenants.get(command.tenant_id)
        uow.customers.add(customer)
        auditing.record(uow, deps, command, tenant_id=customer.tenant_id, subject_id=customer.id)
        uow.commit()
    return customer.id
