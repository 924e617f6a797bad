"""Changing a scheduled payment's amount, date or memo before it is sent."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest

from cbp.adapters.memory.clock import InMemoryClock
from cbp.domain.errors import (
    AmountOutOfRange,
    IllegalTransition,
    InvalidInput,
    LimitExceeded,
    SendDateNotAllowed,
    TooLateToChange,
)
from cbp.services import commands as c
from cbp.services.auditing import chain_audit_log
from tests.unit.services.conftest import World

LATER = date(2026, 3, 10)  # NOTE: the clock stands on Monday 2026-03-02, 09:00 in New York


def change(world: World, payment_id: str, **terms: object) -> None:
    world.app.handle(
        c.ChangePayment(tenant_id=world.tenant_id, payment_id=payment_id, **terms)  # type: ignore[arg-type]
    )


def test_amount_date_and_memo_change_as_one_event_on_the_payment(world: World) -> None:
    payment_id = world.pay("25.00", send_on=LATER, memo="March")
    change(world, payment_id, amount="40.50", send_on=date(2026, 3, 14), memo="April")
    payment = world.app.queries.get_payment(world.tenant_id, payment_id)
    assert (payment.amount.amount, payment.memo, payment.status.value) == (
        Decimal("40.50"),
        "April",
        "scheduled",
    )
    # NOTE: the 14th is a Saturday: the payment moves to Monday and says what was asked
    assert (payment.send_on, payment.requested_send_on) == (date(2026, 3, 16), date(2026, 3, 14))
    assert payment.deliver_by == date(2026, 3, 18)
    events = world.app.queries.payment_events(world.tenant_id, payment_id)
    assert [e.type for e in events] == ["PaymentCreated", "PaymentValidated", "PaymentChanged"]


def test_terms_left_out_stay_and_an_empty_memo_clears_it(world: World) -> None:
    payment_id = world.pay("25.00", send_on=LATER, memo="March")
    change(world, payment_id, memo="")
    payment = world.app.queries.get_payment(world.tenant_id, payment_id)
    assert (payment.amount.amount, payment.send_on, payment.memo) == (Decimal("25.00"), LATER, None)


def test_the_same_terms_again_record_nothing(world: World) -> None:
    payment_id = world.pay("25.00", send_on=LATER)
    change(world, payment_id, amount="25.00", send_on=LATER)
    events = world.app.queries.payment_events(world.tenant_id, payment_id)
    assert [e.type for e in events] == ["PaymentCreated", "PaymentValidated"]


def test_a_change_with_nothing_to_change_is_refused(world: World) -> None:
    payment_id = world.pay("25.00", send_on=LATER)
    with pytest.raises(InvalidInput, match="at least one of"):
        change(world, payment_id)


def test_new_terms_pass_the_checks_of_a_new_payment(world: World) -> None:
    payment_id = world.pay("25.00", send_on=LATER)
    with pytest.raises(AmountOutOfRange):
        change(world, payment_id, amount="25000.01")
    with pytest.raises(SendDateNotAllowed):
        change(world, payment_id, send_on=date(2026, 2, 27))
    assert world.app.queries.get_payment(world.tenant_id, payment_id).amount.amount == Decimal(
        "25.00"
    )


def test_a_payment_due_today_is_fixed(world: World) -> None:
    payment_id = world.pay("25.00")  # NOTE: due today, and queued at once
    with pytest.raises(TooLateToChange, match="can no longer be changed"):
        change(world, payment_id, amount="30.00")


def test_a_payment_queued_early_by_a_job_is_fixed(world: World) -> None:
    payment_id = world.pay("25.00", send_on=LATER)
    world.app.handle(
        c.StartProcessingJob(tenant_id=world.tenant_id, payment_ids=(payment_id,), send_now=True)
    )
    with pytest.raises(TooLateToChange):
        change(world, payment_id, memo="too late")


def test_a_payment_that_became_due_is_fixed(world: World, clock: InMemoryClock) -> None:
    payment_id = world.pay("25.00", send_on=date(2026, 3, 3))
    clock.advance(days=1)
    with pytest.raises(TooLateToChange):
        change(world, payment_id, memo="too late")


def test_a_sent_payment_cannot_change(world: World) -> None:
    payment_id = world.pay("25.00")
    world.app.run_until_idle()
    with pytest.raises(IllegalTransition, match="cannot change a payment that is completed"):
        change(world, payment_id, memo="too late")


def test_moved_to_today_the_payment_is_queued_and_sent(world: World) -> None:
    payment_id = world.pay("25.00", send_on=LATER)
    change(world, payment_id, send_on=date(2026, 3, 2), amount="26.00")
    world.app.run_until_idle()
    assert world.status(payment_id) == "completed"


def test_the_daily_limit_counts_the_changed_payment_once(world: World) -> None:
    world.app.handle(
        c.SetCustomerLimits(
            tenant_id=world.tenant_id, daily_limit=Decimal("100.00"), payment_limit=None
        )
    )
    first = world.pay("60.00", send_on=LATER)
    world.pay("30.00", send_on=date(2026, 3, 11))
    change(world, first, amount="100.00")  # NOTE: its own 60.00 is not counted twice
    with pytest.raises(LimitExceeded, match=r"70\.00 USD is left"):
        change(world, first, send_on=date(2026, 3, 11))


def test_a_change_is_audited(world: World) -> None:
    payment_id = world.pay("25.00", send_on=LATER)
    change(world, payment_id, amount="30.00", actor="customer-portal")
    chain_audit_log(world.app.deps)
    with world.app.deps.unit_of_work() as uow:
        entries = [e for e in uow.audit.entries() if e.action == "ChangePayment"]
    assert [(e.subject_id, e.actor, e.data) for e in entries] == [
        (
            payment_id,
            "customer-portal",
            {"amount": "30.00", "send_on": None, "events": ["PaymentChanged"]},
        )
    ]


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.services)]
)  # NOTE: in memory the change would be the one to conflict, and run again
def test_the_sweep_reads_again_once_a_change_in_flight_has_moved_the_date(world: World) -> None:
    """A change that commits while the sweep waits for the customer is what the sweep sees."""
    tomorrow = date(2026, 3, 3)
    payment_id = world.pay("25.00", send_on=tomorrow)
    sweep = c.QueueDuePayments(on=tomorrow)
    queued: list[int] = []
    runner = threading.Thread(target=lambda: queued.append(world.app.handle(sweep)))
    with world.app.deps.unit_of_work() as uow:
        uow.customers.hold(world.tenant_id, world.customer_id)  # NOTE: the change, in flight
        payment = uow.payments.get(world.tenant_id, payment_id)
        payment.change(
            amount=payment.amount,
            send_on=LATER,
            deliver_by=date(2026, 3, 12),
            memo=None,
            at=world.app.deps.clock.now(),
        )
        uow.payments.save(payment)
        runner.start()
        runner.join(timeout=1.0)
        uow.commit()
    runner.join(timeout=30)
    assert queued == [0]
    assert world.app.handle(c.QueueDuePayments(on=LATER)) == 1


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.services)])
def test_a_job_waits_while_the_customer_is_held_by_a_change(world: World) -> None:
    """Queueing holds the customer as a change does, so the two never cross."""
    payment_id = world.pay("25.00", send_on=LATER)
    job = c.StartProcessingJob(tenant_id=world.tenant_id, payment_ids=(payment_id,), send_now=True)
    runner = threading.Thread(target=world.app.handle, args=(job,))
    with world.app.deps.unit_of_work() as uow:
        uow.customers.hold(world.tenant_id, world.customer_id)  # NOTE: a change in flight
        runner.start()
        runner.join(timeout=1.0)
        assert runner.is_alive()
        uow.commit()
    runner.join(timeout=30)
    assert not runner.is_alive()
    with pytest.raises(TooLateToChange):
        change(world, payment_id, memo="after the job")
