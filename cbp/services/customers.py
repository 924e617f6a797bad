"""Customers: the tenant's end users."""

from __future__ import annotations

from cbp.domain import identifiers
from cbp.domain.customer import Customer
from cbp.ports.storage import UnitOfWorkFactory
from cbp.ports.system import Clock, IdGenerator
from cbp.services import auditing
from cbp.services.commands import CreateCustomer


def create_customer(
    command: CreateCustomer, *, unit_of_work: UnitOfWorkFactory, clock: Clock, ids: IdGenerator
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
    )
    with unit_of_work() as uow:
        uow.tenants.get(command.tenant_id)
        uow.customers.add(customer)
        auditing.record(
            uow, command, at=clock.now(), tenant_id=customer.tenant_id, subject_id=customer.id
        )
        uow.commit()
    return customer.id
