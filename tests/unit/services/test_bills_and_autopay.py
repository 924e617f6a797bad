"""Bills: presented, paid by autopay or by hand, corrected, withdrawn, and past due.

The world's day is Monday 2 March 2026, 09:00 in New York, before the
cut-off; its payee's biller takes two business days to credit a payment.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from cbp.adapters.memory.clock import InMemoryClock
from cbp.adapters.memory.notifiers import InMemoryNotifier
from cbp.domain.errors import AlreadyExists, IllegalTransition, InvalidInput, InvalidMoney
from cbp.services import commands as c
from tests.unit.services.conftest import World

#: Due Wednesday 4 March: paid today, a payment arrives on it exactly.
DUE_SOON = date(2026, 3, 4)
#: Due Friday 20 March: far enough ahead for a rule to choose its day.
DUE_LATER = date(2026, 3, 20)
STATEMENT_ON = date(2026, 2, 25)


def present(world: World, reference: str = "INV-1", **terms: Any) -> str:
    values: dict[str, Any] = {
        "amount_due": "80.00",
        "minimum_due": "25.00",
        "statement_balance": "80.00",
        "due_on": DUE_SOON,
        "statement_on": STATEMENT_ON,
        **terms,
    }
    bill_id = world.app.handle(
        c.PresentBill(
            tenant_id=world.tenant_id,
            customer_id=world.customer_id,
            payee_id=world.payee_id,
            reference=reference,
            **values,
        )
    )
    world.app.run_until_idle()
    return str(bill_id)


def autopay(world: World, basis: str = "statement_balance", **rule: Any) -> None:
    world.app.handle(
        c.SetAutopay(
            tenant_id=world.tenant_id,
            payee_id=world.payee_id,
            funding_account_id=world.funding_id,
            basis=basis,
            **rule,
        )
    )


def bill(world: World, bill_id: str) -> Any:
    return world.app.queries.get_bill(world.tenant_id, bill_id)


def payments_of(world: World, bill_id: str) -> list[tuple[str, str, bool, str]]:
    return [
        (str(p.amount.amount), world.status(p.payment_id), p.by_autopay, p.state.value)
        for p in bill(world, bill_id).payments.values()
    ]


def told(notifier: InMemoryNotifier, template: str) -> list[dict[str, Any]]:
    return [n.payload for n in notifier.sent if n.template == template]


def test_a_bill_met_by_an_autopay_rule_is_paid_and_its_payment_counted(world: World) -> None:
    autopay(world)
    bill_id = present(world)
    world.app.run_until_idle()
    assert payments_of(world, bill_id) == [("80.00", "completed", True, "settled")]
    paid = bill(world, bill_id)
    assert (paid.status.value, str(paid.amount_paid.amount)) == ("paid", "80.00")
    payment = world.app.queries.get_payment(world.tenant_id, next(iter(paid.payments)))
    assert (payment.bill_id, payment.due_on, payment.deliver_by) == (bill_id, DUE_SOON, DUE_SOON)


def test_a_bill_change_delivered_twice_pays_the_bill_once(world: World) -> None:
    autopay(world)
    bill_id = present(world, due_on=DUE_LATER)
    for message_id in ("msg_again_1", "msg_again_2"):
        world.app.handle(
            c.FollowBill(
                tenant_id=world.tenant_id,
                bill_id=bill_id,
                event_type="BillPresented",
                message_id=message_id,
            )
        )
    assert len(payments_of(world, bill_id)) == 1


def test_a_bill_autopay_paid_in_part_is_not_paid_again_when_its_arrival_is_redelivered(
    world: World,
) -> None:
    autopay(world, basis="minimum_due")
    bill_id = present(world)
    world.app.run_until_idle()
    assert payments_of(world, bill_id) == [("25.00", "completed", True, "settled")]
    world.app.handle(
        c.FollowBill(
            tenant_id=world.tenant_id,
            bill_id=bill_id,
            event_type="BillPresented",
            message_id="msg_redelivered",
        )
    )
    assert len(payments_of(world, bill_id)) == 1


def test_a_rule_pays_its_business_days_before_the_due_date(world: World) -> None:
    autopay(world, days_before_due=2)
    bill_id = present(world, due_on=DUE_LATER)
    [payment_id] = bill(world, bill_id).payments
    payment = world.app.queries.get_payment(world.tenant_id, payment_id)
    # NOTE: two business days before Friday 20 March is Wednesday 18; two more to credit it
    assert (payment.send_on, payment.deliver_by) == (date(2026, 3, 16), date(2026, 3, 18))
    assert bill(world, bill_id).status.value == "scheduled"


def test_a_bill_over_the_cap_is_not_paid_and_its_customer_is_told(
    world: World, notifier: InMemoryNotifier
) -> None:
    autopay(world, cap="50.00")
    bill_id = present(world)
    assert payments_of(world, bill_id) == []
    skipped = bill(world, bill_id)
    assert skipped.status.value == "open"
    assert skipped.autopay_skipped is not None and "cap" in skipped.autopay_skipped
    assert [(p["bill_id"], p["code"]) for p in told(notifier, "autopay_skipped")] == [
        (bill_id, "over_cap")
    ]


def test_an_autopay_payment_passes_the_customer_s_limits_like_any_other(
    world: World, notifier: InMemoryNotifier
) -> None:
    world.app.handle(
        c.SetCustomerLimits(
            tenant_id=world.tenant_id, daily_limit=None, payment_limit=Decimal("50.00")
        )
    )
    autopay(world)
    bill_id = present(world)
    assert payments_of(world, bill_id) == []
    [notice] = told(notifier, "autopay_skipped")
    assert notice["bill_id"] == bill_id and notice["code"] != "over_cap"
    assert bill(world, bill_id).autopay_skipped is not None


def test_a_bill_presented_too_late_to_arrive_is_not_paid_and_says_so(
    world: World, notifier: InMemoryNotifier
) -> None:
    autopay(world)
    bill_id = present(world, due_on=date(2026, 3, 3))
    assert payments_of(world, bill_id) == []
    [notice] = told(notifier, "autopay_skipped")
    assert notice["code"] == "arrives_after_due_date"
    assert "latest send-on date" in notice["reason"]


def test_partial_payments_are_summed_until_the_bill_is_paid(world: World) -> None:
    autopay(world, basis="minimum_due")
    bill_id = present(world)
    world.app.run_until_idle()
    assert (bill(world, bill_id).status.value, str(bill(world, bill_id).amount_paid.amount)) == (
        "open",
        "25.00",
    )
    world.pay("55.00", bill_id=bill_id)
    world.app.run_until_idle()
    assert [p[3] for p in payments_of(world, bill_id)] == ["settled", "settled"]
    assert bill(world, bill_id).status.value == "paid"
    with pytest.raises(IllegalTransition, match="paid"):
        world.pay("1.00", bill_id=bill_id)


def test_a_correction_changes_the_autopay_payment_not_yet_sent(world: World) -> None:
    autopay(world)
    bill_id = present(world, due_on=DUE_LATER)
    world.app.handle(
        c.CorrectBill(
            tenant_id=world.tenant_id,
            bill_id=bill_id,
            amount_due="60.00",
            statement_balance="60.00",
        )
    )
    world.app.run_until_idle()
    assert payments_of(world, bill_id) == [("60.00", "scheduled", True, "pending")]


def test_a_withdrawn_bill_cancels_its_autopay_payment(world: World) -> None:
    autopay(world)
    bill_id = present(world, due_on=DUE_LATER)
    world.app.handle(
        c.WithdrawBill(tenant_id=world.tenant_id, bill_id=bill_id, reason="sent in error")
    )
    world.app.run_until_idle()
    assert bill(world, bill_id).status.value == "cancelled"
    assert payments_of(world, bill_id) == [("80.00", "cancelled", True, "dropped")]


def test_a_failed_payment_leaves_the_bill_to_go_past_due_and_the_customer_told(
    world: World, clock: InMemoryClock, notifier: InMemoryNotifier
) -> None:
    world.app.handle(
        c.SetNotificationPreferences(
            tenant_id=world.tenant_id,
            customer_id=world.customer_id,
            notify_on=("bill_presented", "bill_past_due"),
        )
    )
    bill_id = present(world, amount_due="40.13", statement_balance="40.13")
    assert [p["bill_id"] for p in told(notifier, "bill_presented")] == [bill_id]
    world.pay("40.13", bill_id=bill_id)
    world.app.run_until_idle()
    assert payments_of(world, bill_id) == [("40.13", "failed", False, "dropped")]
    assert bill(world, bill_id).status.value == "open"
    world.app.handle(c.MarkBillsPastDue())
    assert bill(world, bill_id).status.value == "open"  # NOTE: not yet: it is due on Wednesday
    clock.advance(days=3)
    world.app.handle(c.MarkBillsPastDue())
    world.app.run_until_idle()
    assert bill(world, bill_id).status.value == "past_due"
    assert [p["bill_id"] for p in told(notifier, "bill_past_due")] == [bill_id]


def test_a_bill_is_presented_once_per_reference_and_checked_like_any_input(
    world: World,
) -> None:
    present(world, reference="INV-7")
    with pytest.raises(AlreadyExists):
        present(world, reference="INV-7")
    with pytest.raises(InvalidMoney, match="minimum due"):
        present(world, reference="INV-8", minimum_due="90.00")
    with pytest.raises(InvalidInput, match="statement date"):
        present(world, reference="INV-9", statement_on=date(2026, 3, 5))
    with pytest.raises(InvalidInput, match="reference"):
        present(world, reference="   ")
    with pytest.raises(InvalidInput, match="due_on"):
        present(world, reference="INV-10", due_on=date(2030, 1, 1))


def test_a_payment_for_another_payee_s_bill_is_refused(world: World) -> None:
    bill_id = present(world)
    other = world.app.handle(
        c.AddPayee(
            tenant_id=world.tenant_id,
            customer_id=world.customer_id,
            name="Jane's Lawn Care",
            address=c.Address(
                line1="2 Elm St", city="Springfield", state="IL", postal_code="62701"
            ),
            account_number="55501",
        )
    )
    world.app.run_until_idle()
    with pytest.raises(InvalidInput, match="not the customer's bill"):
        world.pay("10.00", payee_id=other, bill_id=bill_id)


def test_a_rule_is_set_read_and_removed_and_refuses_a_fixed_amount_out_of_place(
    world: World,
) -> None:
    autopay(world, basis="fixed_amount", fixed_amount="30.00", cap="100.00")
    rule = world.app.queries.get_autopay(world.tenant_id, world.payee_id)
    assert (rule.basis.value, str(rule.fixed_amount), str(rule.cap)) == (
        "fixed_amount",
        "30.00 USD",
        "100.00 USD",
    )
    with pytest.raises(InvalidInput, match="fixed_amount"):
        autopay(world, basis="minimum_due", fixed_amount="30.00")
    with pytest.raises(InvalidInput, match="basis"):
        autopay(world, basis="everything")
    world.app.handle(c.RemoveAutopay(tenant_id=world.tenant_id, payee_id=world.payee_id))
    bill_id = present(world)
    assert payments_of(world, bill_id) == []
