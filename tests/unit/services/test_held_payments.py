"""Payments to a payee still being verified: held, then released or failed on the answer."""

from __future__ import annotations

from datetime import date

import pytest

from cbp.adapters.memory.clock import InMemoryClock
from cbp.adapters.memory.customers import InMemoryCustomerRepository
from cbp.domain.errors import InvalidInput
from cbp.ports.storage.notices import ExceptionFilter
from cbp.services import commands as c
from tests.unit.services.conftest import (
    FUNDING_ACCOUNT_NUMBER,
    ROUTING_NUMBER,
    ScriptedVerifier,
    World,
    make_world,
    memory_core,
)

NEW_ACCOUNT = "5550001111"


def change_account(world: World, account_number: str = NEW_ACCOUNT) -> None:
    """Give the payee a new account number: it is pending until the verifier answers."""
    world.app.handle(
        c.UpdatePayee(
            tenant_id=world.tenant_id, payee_id=world.payee_id, account_number=account_number
        )
    )


def event_types(world: World, payment_id: str) -> list[str]:
    return [e.type for e in world.app.queries.payment_events(world.tenant_id, payment_id)]


def outbox_types(world: World) -> list[str]:
    with world.app.deps.unit_of_work() as uow:
        return [m.type for m in uow.outbox.pending(1000)]


def test_a_payment_to_a_pending_payee_is_held_and_released_once_verified(world: World) -> None:
    change_account(world)
    payment_id = world.pay("40.00")
    assert world.status(payment_id) == "held"
    assert "payment.process" not in outbox_types(world)  # NOTE: due today, but not queued
    world.app.run_until_idle()
    assert world.status(payment_id) == "completed"
    assert event_types(world, payment_id) == [
        "PaymentCreated",
        "PaymentHeld",
        "PaymentReleased",
        "PaymentProcessed",
        "PaymentCompleted",
    ]


def test_a_failed_verification_fails_the_held_payment_with_an_exception(
    world: World, verifier: ScriptedVerifier
) -> None:
    verifier.refused.add(NEW_ACCOUNT)
    change_account(world)
    payment_id = world.pay("40.00")
    world.app.run_until_idle()
    payment = world.app.queries.get_payment(world.tenant_id, payment_id)
    assert (payment.status.value, payment.failure_code) == ("failed", "payee_verification_failed")
    exceptions = world.app.queries.list_exceptions(ExceptionFilter(tenant_id=world.tenant_id)).items
    assert [(e.payment_id, e.kind.value, e.reason_code) for e in exceptions] == [
        (payment_id, "invalid_account", "payee_verification_failed")
    ]


def test_a_payment_held_past_its_date_is_released_to_the_earliest_date_left(
    world: World, clock: InMemoryClock
) -> None:
    change_account(world)
    payment_id = world.pay("40.00", send_on=date(2026, 3, 3))
    clock.advance(days=2)  # NOTE: Wednesday 2026-03-04, 09:00 in New York
    world.app.run_until_idle()
    released = world.app.queries.payment_events(world.tenant_id, payment_id)[2]
    assert (released.type, released.data()["send_on"], released.data()["deliver_by"]) == (
        "PaymentReleased",
        "2026-03-04",
        "2026-03-06",  # NOTE: the biller's two business days of lead time, from the new date
    )
    assert world.status(payment_id) == "completed"


def test_the_sweep_settles_holds_the_verification_event_missed(world: World) -> None:
    """A payment held while its payee's answer was committing is released by the sweep."""
    change_account(world)
    held = world.pay("40.00")
    world.app.handle(c.VerifyPayeeAccount(tenant_id=world.tenant_id, payee_id=world.payee_id))
    assert world.app.handle(c.SettleHeldPayments()) == 1
    assert world.status(held) == "scheduled"
    assert world.app.handle(c.SettleHeldPayments()) == 0
    world.app.run_until_idle()  # NOTE: the verification event comes too: nothing to release
    assert world.status(held) == "completed"
    assert event_types(world, held).count("PaymentReleased") == 1


def test_the_sweep_leaves_payments_held_while_their_payee_is_pending(world: World) -> None:
    change_account(world)
    held = world.pay("40.00")
    assert world.app.handle(c.SettleHeldPayments()) == 0
    assert world.status(held) == "held"


def test_the_sweep_reaches_answered_payees_past_any_number_still_pending(world: World) -> None:
    """Payments held on a pending payee do not use up the sweep's limit."""
    change_account(world)
    waiting = world.pay("40.00")  # NOTE: the oldest held payment, on a payee still pending
    answered_payee = world.app.handle(
        c.AddPayee(
            tenant_id=world.tenant_id,
            customer_id=world.customer_id,
            global_payee_id=world.biller_id,
            account_number="5550002222",
        )
    )
    answered = world.pay("41.00", payee_id=answered_payee)
    world.app.handle(c.VerifyPayeeAccount(tenant_id=world.tenant_id, payee_id=answered_payee))
    assert world.app.handle(c.SettleHeldPayments(limit=1)) == 1
    assert (world.status(waiting), world.status(answered)) == ("held", "scheduled")


def test_a_held_payment_can_be_changed_or_cancelled_but_not_sent(world: World) -> None:
    change_account(world)
    changed, cancelled = world.pay("40.00", send_on=date(2026, 3, 9)), world.pay("41.00")
    world.app.handle(c.ChangePayment(tenant_id=world.tenant_id, payment_id=changed, amount="45.00"))
    world.app.handle(c.CancelPayment(tenant_id=world.tenant_id, payment_id=cancelled))
    with pytest.raises(InvalidInput, match="no longer scheduled"):
        world.app.handle(
            c.StartProcessingJob(tenant_id=world.tenant_id, payment_ids=(changed,), send_now=True)
        )
    world.app.run_until_idle()
    payment = world.app.queries.get_payment(world.tenant_id, changed)
    assert (payment.status.value, str(payment.amount.amount)) == ("scheduled", "45.00")
    assert world.status(cancelled) == "cancelled"


def test_the_sweep_holds_every_customer_first_in_the_one_order_all_holders_take(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Customers in one order, whatever order their payees come in: no circle of waits."""
    app = memory_core(InMemoryClock())
    world = make_world(app)
    other = app.handle(
        c.CreateCustomer(
            tenant_id=world.tenant_id, external_id="cust-2", name="Bo", email="bo@example.com"
        )
    )
    other_funding = app.handle(
        c.AddFundingAccount(
            tenant_id=world.tenant_id,
            customer_id=other,
            routing_number=ROUTING_NUMBER,
            account_number=FUNDING_ACCOUNT_NUMBER,
            account_type="checking",
            holder_name="Bo",
        )
    )
    payees = {}
    for customer_id in (other, world.customer_id):  # NOTE: the later customer's payee first
        payees[customer_id] = app.handle(
            c.AddPayee(
                tenant_id=world.tenant_id,
                customer_id=customer_id,
                global_payee_id=world.biller_id,
                account_number=NEW_ACCOUNT,
            )
        )
    for customer_id, funding_id in ((other, other_funding), (world.customer_id, world.funding_id)):
        app.handle(
            c.CreateOneTimePayment(
                tenant_id=world.tenant_id,
                customer_id=customer_id,
                payee_id=payees[customer_id],
                funding_account_id=funding_id,
                amount="40.00",
            )
        )
        app.handle(c.VerifyPayeeAccount(tenant_id=world.tenant_id, payee_id=payees[customer_id]))
    held: list[str] = []
    hold = InMemoryCustomerRepository.hold

    def recording(self: InMemoryCustomerRepository, tenant_id: str, customer_id: str) -> None:
        held.append(customer_id)
        hold(self, tenant_id, customer_id)

    monkeypatch.setattr(InMemoryCustomerRepository, "hold", recording)
    assert app.handle(c.SettleHeldPayments()) == 2
    assert held == sorted([world.customer_id, other])
    app.close()
