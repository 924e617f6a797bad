"""Bills and autopay driven at random through the core, against what must always hold.

Bills are presented, corrected, withdrawn and paid by hand; the payee's
autopay rule is set, changed and removed; days pass, payments are sent and
complete or fail, and bill changes are delivered again. Whatever the order:

- autopay pays a bill at most once, with a payment linked back to it;
- what a bill counts as paid is what its completed payments add up to;
- a bill is paid once that covers the amount due, cancelled once withdrawn;
- a bill's view is what replaying its stream gives.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from cbp.adapters.memory.clock import InMemoryClock
from cbp.domain.bill import Bill, BillStatus
from cbp.domain.errors import DomainError
from cbp.domain.payment import PaymentStatus
from cbp.ports.storage.bills import BillFilter
from cbp.services import commands as c
from tests.unit.services.conftest import make_world, memory_core

#: Due dates from the calendar: the world's Monday 2 March 2026 to the month's end.
DUE_DATES = [date(2026, 3, day) for day in range(3, 32)]
amounts = st.integers(min_value=1_00, max_value=400_00).map(lambda cents: Decimal(cents) / 100)


class BillsAndAutopay(RuleBasedStateMachine):
    """One customer, one payee, its bills and its autopay rule."""

    bills = Bundle("bills")

    def __init__(self) -> None:
        super().__init__()
        self.clock = InMemoryClock()
        self.app = memory_core(self.clock)
        self.world = make_world(self.app)
        self.app.run_until_idle()
        self.references = 0

    def teardown(self) -> None:
        self.app.close()

    def _try(self, command: c.Command) -> object:
        try:
            return self.app.handle(command)
        except DomainError:
            return None
        finally:
            self.app.run_until_idle()

    @rule(
        target=bills,
        amount_due=amounts,
        minimum_share=st.sampled_from([Decimal("0.1"), Decimal("0.5"), Decimal(1)]),
        due_on=st.sampled_from(DUE_DATES),
    )
    def present(self, amount_due: Decimal, minimum_share: Decimal, due_on: date) -> str:
        self.references += 1
        bill_id = self.app.handle(
            c.PresentBill(
                tenant_id=self.world.tenant_id,
                customer_id=self.world.customer_id,
                payee_id=self.world.payee_id,
                amount_due=str(amount_due),
                minimum_due=str((amount_due * minimum_share).quantize(Decimal("0.01"))),
                statement_balance=str(amount_due),
                due_on=due_on,
                statement_on=date(2026, 2, 25),
                reference=f"INV-{self.references}",
            )
        )
        self.app.run_until_idle()
        return str(bill_id)

    @rule(
        basis=st.sampled_from(["statement_balance", "minimum_due", "fixed_amount"]),
        cap=st.none() | amounts,
        days_before_due=st.integers(min_value=0, max_value=3),
    )
    def set_autopay(self, basis: str, cap: Decimal | None, days_before_due: int) -> None:
        self.app.handle(
            c.SetAutopay(
                tenant_id=self.world.tenant_id,
                payee_id=self.world.payee_id,
                funding_account_id=self.world.funding_id,
                basis=basis,
                fixed_amount="60.00" if basis == "fixed_amount" else None,
                days_before_due=days_before_due,
                cap=None if cap is None else str(cap),
            )
        )

    @rule()
    def remove_autopay(self) -> None:
        self._try(c.RemoveAutopay(tenant_id=self.world.tenant_id, payee_id=self.world.payee_id))

    @rule(bill_id=bills, amount_due=amounts)
    def correct(self, bill_id: str, amount_due: Decimal) -> None:
        self._try(
            c.CorrectBill(
                tenant_id=self.world.tenant_id,
                bill_id=bill_id,
                amount_due=str(amount_due),
                minimum_due="1.00",
                statement_balance=str(amount_due),
            )
        )

    @rule(bill_id=bills)
    def withdraw(self, bill_id: str) -> None:
        self._try(c.WithdrawBill(tenant_id=self.world.tenant_id, bill_id=bill_id, reason="r"))

    @rule(bill_id=bills, amount=st.sampled_from(["20.00", "35.13", "50.00"]))
    def pay_by_hand(self, bill_id: str, amount: str) -> None:
        self._try(
            c.CreateOneTimePayment(
                tenant_id=self.world.tenant_id,
                customer_id=self.world.customer_id,
                payee_id=self.world.payee_id,
                funding_account_id=self.world.funding_id,
                amount=amount,
                bill_id=bill_id,
            )
        )

    @rule(bill_id=bills)
    def deliver_again(self, bill_id: str) -> None:
        self.references += 1
        self._try(
            c.FollowBill(
                tenant_id=self.world.tenant_id,
                bill_id=bill_id,
                event_type="BillPresented",
                message_id=f"msg_again_{self.references}",
            )
        )

    @rule(days=st.integers(min_value=1, max_value=4))
    def days_pass(self, days: int) -> None:
        """Days pass, due payments are sent, and every bill's arrival is delivered again."""
        self.clock.advance(days=days)
        self.app.handle(c.QueueDuePayments())
        self.app.run_until_idle()
        self.app.handle(c.MarkBillsPastDue())
        self.app.run_until_idle()
        for bill in self._bills():
            self.deliver_again(bill.id)

    def _bills(self) -> list[Bill]:
        query = BillFilter(tenant_id=self.world.tenant_id)
        return list(self.app.queries.list_bills(query, limit=100).items)

    @invariant()
    def autopay_pays_a_bill_at_most_once(self) -> None:
        for bill in self._bills():
            by_autopay = [p for p in bill.payments.values() if p.by_autopay]
            assert len(by_autopay) <= 1
            for linked in by_autopay:
                payment = self.app.queries.get_payment(self.world.tenant_id, linked.payment_id)
                assert payment.bill_id == bill.id

    @invariant()
    def a_bill_counts_as_paid_what_its_completed_payments_add_up_to(self) -> None:
        for bill in self._bills():
            completed = Decimal(0)
            for payment_id in bill.payments:
                payment = self.app.queries.get_payment(self.world.tenant_id, payment_id)
                if payment.status is PaymentStatus.COMPLETED:
                    completed += payment.amount.amount
            assert bill.amount_paid.amount == completed

    @invariant()
    def a_bill_s_status_follows_what_it_holds(self) -> None:
        for bill in self._bills():
            if bill.withdrawn:
                assert bill.status is BillStatus.CANCELLED
            elif bill.amount_paid >= bill.amounts.amount_due:
                assert bill.status is BillStatus.PAID
            else:
                assert bill.status is not BillStatus.PAID

    @invariant()
    def a_bill_s_view_is_its_replayed_stream(self) -> None:
        for bill in self._bills():
            events = self.app.queries.bill_events(self.world.tenant_id, bill.id)
            assert Bill.replay(bill.id, events).snapshot() == bill.snapshot()


BillsAndAutopay.TestCase.settings = settings(
    max_examples=50,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestBillsAndAutopay = BillsAndAutopay.TestCase
