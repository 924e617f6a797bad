"""Per-customer risk limits: set in the tenant's policy, checked as each payment is made."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from cbp.domain.customer import Tenant
from cbp.domain.money import Money
from cbp.domain.payment import Payment
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.services.commands import SetCustomerLimits


def set_customer_limits(command: SetCustomerLimits, *, uow: UnitOfWork) -> None:
    """Change the limits; payments made from now on are checked against them."""
    tenant = uow.tenants.get(command.tenant_id)
    policy = replace(
        tenant.policy,
        customer_daily_limit=command.daily_limit,
        customer_payment_limit=command.payment_limit,
    )
    uow.tenants.save(replace(tenant, policy=policy))


def check_customer_limits(
    uow: UnitOfWork, tenant: Tenant, customer_id: str, amount: Money, send_on: date
) -> None:
    """Refuse a new payment that would take the customer past a limit, in the caller's transaction.

    The customer is held first, so payments made at the same moment are
    checked one after the other and cannot pass the daily limit together.
    Without a daily limit nothing is held or read.
    """
    if tenant.policy.customer_daily_limit is None:
        return
    uow.customers.hold(tenant.id, customer_id)
    check_daily_total(uow, tenant, customer_id, amount, send_on)


def check_daily_total(
    uow: UnitOfWork,
    tenant: Tenant,
    customer_id: str,
    amount: Money,
    send_on: date,
    *,
    replacing: Payment | None = None,
) -> None:
    """Refuse ``amount`` on ``send_on`` if the day's total would pass the daily limit.

    The caller holds the customer. ``replacing`` is a payment being changed:
    what it counted on its old day is not counted twice.
    """
    policy = tenant.policy
    if policy.customer_daily_limit is None:
        return
    already = uow.payments.total_sent_on(tenant.id, customer_id, send_on)
    if replacing is not None and replacing.send_on == send_on:
        already -= replacing.amount.amount
    policy.check_daily_total(already, amount, send_on)


def _text(amount: object) -> str | None:
    return None if amount is None else str(amount)
