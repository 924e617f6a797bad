"""A biller's directory entry changes: the payees linked to it follow it, or are suspended."""

from __future__ import annotations

from datetime import date

import pytest

from cbp.adapters.memory.notifiers import InMemoryNotifier
from cbp.domain.errors import InvalidInput, PayeeNotPayable
from cbp.services import commands as c
from cbp.services import payees
from tests.unit.services.conftest import ACCOUNT_NUMBER, World

#: A Tuesday, a business day well after the world's Monday 2 March 2026.
SEND_ON = date(2026, 3, 10)
#: A format the world's payee account number (ten digits) does not fit.
NEW_FORMAT = ("SP99999999",)


def change_biller(world: World, **details: object) -> None:
    world.app.handle(c.UpdateGlobalPayee(global_payee_id=world.biller_id, **details))  # type: ignore[arg-type]
    world.app.run_until_idle()


def payee(world: World) -> tuple[str, str, str, int]:
    found = world.app.queries.get_payee(world.tenant_id, world.payee_id)
    return found.name, found.status.value, found.verification_status.value, found.lead_days


def test_a_payee_follows_its_biller_s_name_and_lead_days_and_its_payments_wait_on(
    world: World,
) -> None:
    payment_id = world.pay("30.00", send_on=SEND_ON)
    change_biller(world, name="Springfield Energy", lead_days=4, account_masks=("9999999999",))
    assert payee(world) == ("Springfield Energy", "active", "verified", 4)
    assert world.status(payment_id) == "scheduled"


def test_a_payee_whose_number_no_longer_fits_is_suspended_its_payments_held_and_its_customer_told(
    world: World, notifier: InMemoryNotifier
) -> None:
    payment_id = world.pay("30.00", send_on=SEND_ON)
    change_biller(world, account_masks=NEW_FORMAT)
    assert payee(world)[1] == "suspended"
    assert world.status(payment_id) == "held"
    told = [n for n in notifier.sent if n.template == "payee_needs_update"]
    assert [(n.customer_id, n.payload["payee_id"]) for n in told] == [
        (world.customer_id, world.payee_id)
    ]
    assert ACCOUNT_NUMBER not in repr(told[0].payload)
    with pytest.raises(PayeeNotPayable):
        world.pay("5.00", send_on=SEND_ON)
    with pytest.raises(InvalidInput, match="new account number"):
        world.app.handle(
            c.UpdatePayee(tenant_id=world.tenant_id, payee_id=world.payee_id, status="active")
        )

    change_biller(world, name="Springfield Energy")  # NOTE: a second change tells no one again
    assert len([n for n in notifier.sent if n.template == "payee_needs_update"]) == 1
    assert world.status(payment_id) == "held"


def test_a_new_number_that_fits_makes_the_payee_active_and_releases_its_payments(
    world: World,
) -> None:
    payment_id = world.pay("30.00", send_on=SEND_ON)
    change_biller(world, account_masks=NEW_FORMAT)
    with pytest.raises(InvalidInput):
        world.app.handle(
            c.UpdatePayee(
                tenant_id=world.tenant_id, payee_id=world.payee_id, account_number="4417123457"
            )
        )
    world.app.handle(
        c.UpdatePayee(
            tenant_id=world.tenant_id,
            payee_id=world.payee_id,
            account_number="SP12345678",
            status="active",
        )
    )
    world.app.run_until_idle()
    assert payee(world)[1:3] == ("active", "verified")
    assert world.status(payment_id) == "scheduled"
    events = [e.type for e in world.app.queries.payment_events(world.tenant_id, payment_id)]
    assert events == ["PaymentCreated", "PaymentValidated", "PaymentHeld", "PaymentReleased"]


def test_a_biller_changed_back_reinstates_its_suspended_payees(world: World) -> None:
    payment_id = world.pay("30.00", send_on=SEND_ON)
    change_biller(world, account_masks=NEW_FORMAT)
    assert (payee(world)[1], world.status(payment_id)) == ("suspended", "held")
    change_biller(world, account_masks=("9999999999", *NEW_FORMAT))
    assert payee(world)[1:3] == ("active", "verified")
    assert world.status(payment_id) == "scheduled"


def test_a_biller_s_many_payees_follow_it_a_page_per_transaction(
    world: World, notifier: InMemoryNotifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(payees, "FOLLOW_BILLER_PAGE", 2)
    others = [
        world.app.handle(
            c.AddPayee(
                tenant_id=world.tenant_id,
                customer_id=world.customer_id,
                global_payee_id=world.biller_id,
                account_number=f"441712345{n}",
            )
        )
        for n in range(7, 10)
    ]
    world.app.run_until_idle()
    change_biller(world, account_masks=NEW_FORMAT)
    statuses = [
        world.app.queries.get_payee(world.tenant_id, p).status.value
        for p in (world.payee_id, *others)
    ]
    assert statuses == ["suspended"] * 4
    told = sorted(
        n.payload["payee_id"] for n in notifier.sent if n.template == "payee_needs_update"
    )
    assert told == sorted([world.payee_id, *others])
