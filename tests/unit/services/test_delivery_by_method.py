"""A payment's deliver-by date follows how its payee is paid: electronically, or by check."""

from __future__ import annotations

from datetime import date

import pytest

from cbp.bootstrap import Cbp
from cbp.services import commands as c
from tests.unit.services.conftest import World, address

#: The mailing days these cores are configured with (five by default).
MAILING_DAYS = 7
#: A Tuesday; seven business days later, with no holiday between, is Thursday the 19th.
SEND_ON = date(2026, 3, 10)


@pytest.fixture
def core_settings() -> dict[str, object]:
    return {"check_mailing_days": MAILING_DAYS}


def add_biller(app: Cbp, name: str, method: str, lead_days: int) -> str:
    return str(
        app.handle(
            c.AddGlobalPayee(
                name=name,
                category="utilities",
                address=address(),
                payment_method=method,
                lead_days=lead_days,
            )
        )
    )


def payee_of(world: World, **details: object) -> str:
    command = c.AddPayee(
        tenant_id=world.tenant_id,
        customer_id=world.customer_id,
        account_number="77001234",
        **details,  # type: ignore[arg-type]
    )
    payee_id = str(world.app.handle(command))
    world.app.run_until_idle()
    return payee_id


def deliver_by(world: World, payee_id: str) -> date:
    payment_id = world.pay("20.00", payee_id=payee_id, send_on=SEND_ON)
    return world.app.queries.get_payment(world.tenant_id, payment_id).deliver_by


def test_an_electronic_biller_is_reached_in_its_own_lead_days(world: World) -> None:
    biller = add_biller(world.app, "Metro Water", "electronic", 2)
    assert deliver_by(world, payee_of(world, global_payee_id=biller)) == date(2026, 3, 12)


def test_a_check_biller_is_reached_in_the_mailing_days_or_its_own_if_longer(
    world: World,
) -> None:
    quick = add_biller(world.app, "County Tax", "check", 2)
    slow = add_biller(world.app, "Rural Electric", "check", 9)
    assert deliver_by(world, payee_of(world, global_payee_id=quick)) == date(2026, 3, 19)
    assert deliver_by(world, payee_of(world, global_payee_id=slow)) == date(2026, 3, 23)


def test_a_personal_payee_is_paid_by_check_and_reached_in_the_mailing_days(world: World) -> None:
    personal = payee_of(world, name="Jo Landlord", address=address())
    assert deliver_by(world, personal) == date(2026, 3, 19)
    quote = world.app.queries.quote_delivery(world.tenant_id, personal, send_on=SEND_ON)
    assert quote.deliver_by == date(2026, 3, 19)


def test_a_biller_that_turns_to_checks_takes_its_payees_with_it(world: World) -> None:
    biller = add_biller(world.app, "Metro Water", "electronic", 2)
    payee_id = payee_of(world, global_payee_id=biller)
    world.app.handle(c.UpdateGlobalPayee(global_payee_id=biller, payment_method="check"))
    world.app.run_until_idle()
    assert world.app.queries.get_payee(world.tenant_id, payee_id).lead_days == MAILING_DAYS
    assert deliver_by(world, payee_id) == date(2026, 3, 19)
