"""Per-customer risk limits: set in the tenant's policy, checked as payments are made."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cbp.domain.errors import LimitExceeded, NotFound
from cbp.services import commands as c
from cbp.services.auditing import chain_audit_log
from tests.unit.services.conftest import World


def limit(world: World, daily: str | None, per_payment: str | None = None) -> None:
    world.app.handle(
        c.SetCustomerLimits(
            tenant_id=world.tenant_id,
            daily_limit=None if daily is None else Decimal(daily),
            payment_limit=None if per_payment is None else Decimal(per_payment),
        )
    )


DAY = date(2026, 3, 10)


def test_a_day_takes_payments_until_its_limit_and_no_further(world: World) -> None:
    limit(world, "100.00")
    world.pay("60.00", send_on=DAY)
    world.pay("40.00", send_on=DAY)
    with pytest.raises(LimitExceeded, match=r"0\.00 USD is left that day"):
        world.pay("0.01", send_on=DAY)
    world.pay("100.00", send_on=date(2026, 3, 11))  # NOTE: another day has its own limit


def test_a_cancelled_payment_gives_its_amount_back_to_the_day(world: World) -> None:
    limit(world, "100.00")
    first = world.pay("100.00", send_on=DAY)
    with pytest.raises(LimitExceeded):
        world.pay("10.00", send_on=DAY)
    world.app.handle(c.CancelPayment(tenant_id=world.tenant_id, payment_id=first, reason="x"))
    world.pay("100.00", send_on=DAY)


def test_one_payment_may_not_pass_the_per_payment_limit(world: World) -> None:
    limit(world, None, "50.00")
    world.pay("50.00")
    with pytest.raises(LimitExceeded, match=r"at most 50\.00 USD"):
        world.pay("50.01")


def test_limits_are_lifted_with_none_and_the_change_is_audited(world: World) -> None:
    limit(world, "10.00", "5.00")
    limit(world, None, None)
    world.pay("500.00", send_on=DAY)
    world.pay("500.00", send_on=DAY)
    chain_audit_log(world.app.deps)
    with world.app.deps.unit_of_work() as uow:
        policy = uow.tenants.get(world.tenant_id).policy
        changes = [e for e in uow.audit.entries() if e.action == "SetCustomerLimits"]
    assert (policy.customer_daily_limit, policy.customer_payment_limit) == (None, None)
    assert [e.data for e in changes] == [
        {"daily_limit": "10.00", "payment_limit": "5.00"},
        {"daily_limit": None, "payment_limit": None},
    ]


def test_limits_of_an_unknown_tenant_are_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        world.app.handle(
            c.SetCustomerLimits(tenant_id="ten_missing", daily_limit=None, payment_limit=None)
        )
