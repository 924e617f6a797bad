from datetime import date

import pytest

from cbp.bootstrap import Cbp
from cbp.domain.errors import (
    AmountOutOfRange,
    ArrivesAfterDueDate,
    FundingAccountNotUsable,
    IllegalTransition,
    InvalidInput,
    InvalidMoney,
    NotFound,
    PayeeNotPayable,
    SendDateNotAllowed,
)
from cbp.domain.payment import Payment, PaymentStatus
from cbp.ports.storage.payments import PaymentFilter
from cbp.services import commands as c
from cbp.services.auditing import chain_audit_log
from tests.unit.services.conftest import ScriptedVerifier, World, address, make_world


def outbox_types(app: Cbp) -> list[str]:
    with app.deps.unit_of_work() as uow:
        return [m.type for m in uow.outbox.pending(1000)]


class TestCreatingAPayment:
    def test_a_payment_due_today_is_scheduled_and_queued_at_once(self, world: World) -> None:
        payment_id = world.pay("25.00", memo="March bill")
        payment = world.app.queries.get_payment(world.tenant_id, payment_id)
        assert (payment.status.value, str(payment.amount.amount), payment.memo) == (
            "scheduled",
            "25.00",
            "March bill",
        )
        assert payment.send_on == date(2026, 3, 2)
        assert payment.deliver_by == date(2026, 3, 4)  # two business days of lead time
        assert "payment.process" in outbox_types(world.app)
        world.app.run_until_idle()
        assert world.status(payment_id) == "completed"

    def test_a_future_payment_waits_for_its_date(self, world: World) -> None:
        payment_id = world.pay(send_on=date(2026, 3, 10))
        world.app.run_until_idle()
        assert world.status(payment_id) == "scheduled"
        assert world.app.handle(c.QueueDuePayments(on=date(2026, 3, 9))) == 0
        assert world.app.handle(c.QueueDuePayments(on=date(2026, 3, 10))) == 1
        world.app.run_until_idle()
        assert world.status(payment_id) == "completed"

    @pytest.mark.parametrize(
        ("amount", "error"),
        [
            ("0.00", AmountOutOfRange),
            ("25000.01", AmountOutOfRange),
            ("1.001", InvalidMoney),
            ("-5.00", AmountOutOfRange),
            ("abc", InvalidMoney),
        ],
    )
    def test_amounts_outside_the_policy_are_refused(
        self, world: World, amount: str, error: type
    ) -> None:
        with pytest.raises(error):
            world.pay(amount)

    def test_a_date_in_the_past_is_refused(self, world: World) -> None:
        with pytest.raises(SendDateNotAllowed):
            world.pay(send_on=date(2026, 2, 27))

    def test_a_payee_that_failed_verification_or_is_inactive_cannot_be_paid(
        self, world: World, verifier: ScriptedVerifier
    ) -> None:
        app = world.app
        verifier.refused.add("1111111111")
        app.handle(
            c.UpdatePayee(
                tenant_id=world.tenant_id, payee_id=world.payee_id, account_number="1111111111"
            )
        )
        app.run_until_idle()
        with pytest.raises(PayeeNotPayable, match="verification failed"):
            world.pay()
        app.handle(
            c.UpdatePayee(tenant_id=world.tenant_id, payee_id=world.payee_id, status="inactive")
        )
        with pytest.raises(PayeeNotPayable, match="payee is inactive"):
            world.pay()
        app.handle(
            c.UpdatePayee(
                tenant_id=world.tenant_id,
                payee_id=world.payee_id,
                status="active",
                account_number="4417123456",
            )
        )
        app.run_until_idle()
        app.handle(c.UpdateGlobalPayee(global_payee_id=world.biller_id, status="inactive"))
        with pytest.raises(PayeeNotPayable, match="biller is inactive"):
            world.pay()

    def test_another_customers_funding_account_cannot_be_used(self, world: World) -> None:
        app = world.app
        other_customer = app.handle(
            c.CreateCustomer(tenant_id=world.tenant_id, external_id="c2", name="Bob")
        )
        other_funding = app.handle(
            c.AddFundingAccount(
                tenant_id=world.tenant_id,
                customer_id=other_customer,
                routing_number="011000015",
                account_number="99887766",
                account_type="checking",
                holder_name="Bob",
            )
        )
        world.funding_id = other_funding
        with pytest.raises(FundingAccountNotUsable, match="another customer"):
            world.pay()

    def test_a_refused_payment_leaves_nothing_behind(self, world: World) -> None:
        before = outbox_types(world.app)
        with pytest.raises(AmountOutOfRange):
            world.pay("99999.00")
        assert outbox_types(world.app) == before
        assert world.app.queries.list_payments(PaymentFilter(tenant_id=world.tenant_id)).items == []

    def test_another_tenants_payment_is_not_found(self, app: Cbp) -> None:
        acme, other = make_world(app, "Acme"), make_world(app, "Other")
        payment_id = acme.pay()
        with pytest.raises(NotFound):
            app.queries.get_payment(other.tenant_id, payment_id)
        with pytest.raises(NotFound):
            app.handle(c.CancelPayment(tenant_id=other.tenant_id, payment_id=payment_id))
        with pytest.raises(NotFound):
            app.queries.payment_events(other.tenant_id, payment_id)
        with pytest.raises(NotFound):  # nor can one tenant pay from another's records
            acme.pay(tenant_id=other.tenant_id)


class TestCancelling:
    def test_a_scheduled_payment_can_be_cancelled_and_then_is_never_processed(
        self, world: World
    ) -> None:
        payment_id = world.pay()
        world.app.handle(c.CancelPayment(tenant_id=world.tenant_id, payment_id=payment_id))
        world.app.run_until_idle()
        assert world.status(payment_id) == "cancelled"
        assert world.app.container.adapters.processor().submissions[payment_id] == 0

    def test_a_completed_payment_cannot_be_cancelled(self, world: World) -> None:
        payment_id = world.pay()
        world.app.run_until_idle()
        with pytest.raises(IllegalTransition, match="cannot cancel a payment that is completed"):
            world.app.handle(c.CancelPayment(tenant_id=world.tenant_id, payment_id=payment_id))


class TestListing:
    def test_payments_are_listed_newest_first_and_filtered(self, world: World) -> None:
        ids = [world.pay(f"1{n}.00") for n in range(5)]
        world.app.handle(c.CancelPayment(tenant_id=world.tenant_id, payment_id=ids[1]))
        everything = PaymentFilter(tenant_id=world.tenant_id)
        page = world.app.queries.list_payments(everything, limit=2)
        assert [p.id for p in page.items] == [ids[4], ids[3]]
        rest = world.app.queries.list_payments(everything, cursor=page.next_cursor, limit=10)
        assert [p.id for p in rest.items] == [ids[2], ids[1], ids[0]]
        cancelled = world.app.queries.list_payments(
            PaymentFilter(tenant_id=world.tenant_id, status=PaymentStatus.CANCELLED)
        )
        assert [p.id for p in cancelled.items] == [ids[1]]
        others = PaymentFilter(tenant_id=world.tenant_id, customer_id="cus_other")
        assert world.app.queries.list_payments(others).items == []

    def test_the_event_history_is_the_audit_trail(self, world: World) -> None:
        payment_id = world.pay()
        world.app.run_until_idle()
        events = world.app.queries.payment_events(world.tenant_id, payment_id)
        assert [(e.type, e.version) for e in events] == [
            ("PaymentCreated", 1),
            ("PaymentValidated", 2),
            ("PaymentProcessed", 3),
            ("PaymentCompleted", 4),
        ]


def test_a_personal_payee_uses_its_own_lead_days(world: World) -> None:
    app = world.app
    payee_id = app.handle(
        c.AddPayee(
            tenant_id=world.tenant_id,
            customer_id=world.customer_id,
            account_number="42",
            name="Landlord",
            address=address(),
        )
    )
    app.run_until_idle()
    world.payee_id = payee_id
    payment = app.queries.get_payment(world.tenant_id, world.pay())
    assert payment.deliver_by == date(2026, 3, 9)  # five business days after Monday


@pytest.mark.parametrize(
    ("asked", "moved_to"),
    [
        (date(2026, 5, 25), date(2026, 5, 26)),  # NOTE: Memorial Day
        (date(2026, 3, 7), date(2026, 3, 9)),  # NOTE: a Saturday
        (date(2026, 11, 26), date(2026, 11, 27)),  # NOTE: Thanksgiving
    ],
)
def test_a_send_on_date_the_fed_is_closed_moves_to_the_next_business_day_and_says_so(
    world: World, asked: date, moved_to: date
) -> None:
    payment = world.app.queries.get_payment(world.tenant_id, world.pay(send_on=asked))
    assert (payment.send_on, payment.requested_send_on) == (moved_to, asked)
    kept = world.app.queries.get_payment(world.tenant_id, world.pay(send_on=date(2026, 3, 10)))
    assert (kept.send_on, kept.requested_send_on) == (date(2026, 3, 10), None)


def test_a_payments_audit_trail_says_who_did_what_and_stays_in_its_tenant(world: World) -> None:

    app = world.app
    payment_id = world.pay("25.00", actor="key_mobile")
    app.handle(
        c.CancelPayment(
            tenant_id=world.tenant_id, payment_id=payment_id, reason="paid twice", actor="cli"
        )
    )
    chain_audit_log(app.deps)
    trail = app.queries.payment_audit(world.tenant_id, payment_id)
    commands = [e for e in trail if e.actor != "audit-log"]  # NOTE: the events are beside them
    assert [(e.actor, e.action) for e in commands] == [
        ("key_mobile", "CreateOneTimePayment"),
        ("cli", "CancelPayment"),
    ]
    assert commands[0].sequence < commands[1].sequence
    assert [e.data["event_type"] for e in trail if e.actor == "audit-log"] == [
        "PaymentCreated",
        "PaymentValidated",
        "PaymentCancelled",
    ]
    assert app.queries.audit_trail(payment_id) == trail
    other = make_world(app, "Other Bank")
    with pytest.raises(NotFound):
        app.queries.payment_audit(other.tenant_id, payment_id)


class TestQuotingADelivery:
    """Monday 2 March 2026, 09:00 in New York; the biller takes two business days."""

    def test_the_earliest_send_on_and_its_deliver_by_are_what_a_payment_gets(
        self, world: World
    ) -> None:
        quote = world.app.queries.quote_delivery(world.tenant_id, world.payee_id)
        assert (quote.send_on, quote.deliver_by) == (date(2026, 3, 2), date(2026, 3, 4))
        assert (quote.on_time, quote.latest_send_on, quote.requested_send_on) == (
            None,
            None,
            None,
        )
        made = world.app.queries.get_payment(world.tenant_id, world.pay("10.00"))
        assert (made.send_on, made.deliver_by) == (quote.send_on, quote.deliver_by)

    def test_a_weekend_send_on_moves_and_the_due_date_says_when_it_is_too_late(
        self, world: World
    ) -> None:
        quote = world.app.queries.quote_delivery(
            world.tenant_id, world.payee_id, send_on=date(2026, 3, 7), due_on=date(2026, 3, 10)
        )
        assert (quote.send_on, quote.requested_send_on) == (date(2026, 3, 9), date(2026, 3, 7))
        assert quote.deliver_by == date(2026, 3, 11)
        assert (quote.on_time, quote.latest_send_on) == (False, date(2026, 3, 6))
        in_time = world.app.queries.quote_delivery(
            world.tenant_id, world.payee_id, send_on=quote.latest_send_on, due_on=quote.due_on
        )
        assert (in_time.deliver_by, in_time.on_time) == (date(2026, 3, 10), True)

    def test_dates_the_policy_refuses_and_unknown_payees_are_refused(self, world: World) -> None:
        quote = world.app.queries.quote_delivery
        with pytest.raises(SendDateNotAllowed, match="send_on must be on or after 2026-03-02"):
            quote(world.tenant_id, world.payee_id, send_on=date(2026, 2, 27))
        with pytest.raises(InvalidInput, match="due_on must be within a year"):
            quote(world.tenant_id, world.payee_id, due_on=date(1, 1, 1))
        with pytest.raises(NotFound):
            quote(world.tenant_id, "pye_missing")


class TestPayingABillByItsDueDate:
    """Monday 2 March 2026; the biller takes two business days."""

    def test_a_payment_that_arrives_in_time_is_made_and_one_that_would_not_is_refused(
        self, world: World
    ) -> None:
        made = world.pay("10.00", send_on=date(2026, 3, 6), due_on=date(2026, 3, 10))
        payment = world.app.queries.get_payment(world.tenant_id, made)
        assert payment.deliver_by == date(2026, 3, 10)
        with pytest.raises(ArrivesAfterDueDate) as late:
            world.pay("11.00", send_on=date(2026, 3, 9), due_on=date(2026, 3, 10))
        assert late.value.detail == (
            "sent on 2026-03-09, the payment arrives on 2026-03-11, after the due date "
            "2026-03-10; the latest send-on date that arrives in time is 2026-03-06"
        )
        with pytest.raises(ArrivesAfterDueDate, match="before the send-on date 2026-03-02"):
            world.pay("12.00", due_on=date(1, 1, 1))
        payments = world.app.queries.list_payments(
            PaymentFilter(tenant_id=world.tenant_id), limit=10
        ).items
        assert [p.id for p in payments] == [made]  # NOTE: the refused ones left nothing

    def test_a_payment_keeps_its_due_date_and_a_change_must_still_meet_it(
        self, world: World
    ) -> None:
        made = world.pay("10.00", send_on=date(2026, 3, 4), due_on=date(2026, 3, 10))
        assert world.app.queries.get_payment(world.tenant_id, made).due_on == date(2026, 3, 10)
        with pytest.raises(ArrivesAfterDueDate, match=r"latest send-on date .* is 2026-03-06"):
            world.app.handle(
                c.ChangePayment(
                    tenant_id=world.tenant_id, payment_id=made, send_on=date(2026, 3, 9)
                )
            )
        world.app.handle(
            c.ChangePayment(tenant_id=world.tenant_id, payment_id=made, send_on=date(2026, 3, 6))
        )
        kept = world.app.queries.get_payment(world.tenant_id, made)
        assert (kept.send_on, kept.deliver_by, kept.due_on) == (
            date(2026, 3, 6),
            date(2026, 3, 10),
            date(2026, 3, 10),
        )
        replayed = Payment.replay(made, world.app.queries.payment_events(world.tenant_id, made))
        assert replayed.due_on == date(2026, 3, 10)
