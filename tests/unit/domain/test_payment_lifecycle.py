"""Any sequence of commands keeps a payment's invariants; replay rebuilds it."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from cbp.domain.errors import IllegalTransition, InvalidInput, InvalidMoney
from cbp.domain.money import Money
from cbp.domain.payment import Payment, PaymentStatus

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

#: The statuses a payment never leaves.
FINAL_STATUSES = {PaymentStatus.FAILED, PaymentStatus.CANCELLED, PaymentStatus.RETURNED}
#: The statuses each action may be taken from: the model the aggregate must follow.
ALLOWED = {
    "validate": {PaymentStatus.CREATED},
    "hold": {PaymentStatus.CREATED, PaymentStatus.SCHEDULED},
    "release": {PaymentStatus.HELD},
    "submit": {PaymentStatus.SCHEDULED},
    "change": {PaymentStatus.SCHEDULED, PaymentStatus.HELD},
    "complete": {PaymentStatus.PROCESSING},
    "fail": {
        PaymentStatus.CREATED,
        PaymentStatus.SCHEDULED,
        PaymentStatus.HELD,
        PaymentStatus.PROCESSING,
    },
    "cancel": {PaymentStatus.CREATED, PaymentStatus.SCHEDULED, PaymentStatus.HELD},
    "return": {PaymentStatus.COMPLETED},
}
#: Where each action leaves the payment; None: where it was.
RESULT: dict[str, PaymentStatus | None] = {
    "validate": PaymentStatus.SCHEDULED,
    "hold": PaymentStatus.HELD,
    "release": PaymentStatus.SCHEDULED,
    "submit": PaymentStatus.PROCESSING,
    "change": None,
    "complete": PaymentStatus.COMPLETED,
    "fail": PaymentStatus.FAILED,
    "cancel": PaymentStatus.CANCELLED,
    "return": PaymentStatus.RETURNED,
}

FAILURE_CODE = {"fail": "nsf", "return": "R01"}


def new_payment(amount: str = "10.00") -> Payment:
    return Payment.create(
        payment_id="pmt_1",
        tenant_id="ten_1",
        customer_id="cus_1",
        payee_id="pye_1",
        funding_account_id="fac_1",
        amount=Money.of(amount, "USD"),
        send_on=date(2026, 3, 2),
        deliver_by=date(2026, 3, 4),
        memo=None,
        at=START,
    )


class PaymentLifecycle(RuleBasedStateMachine):
    """Drives one payment with random commands and checks it against the model."""

    def __init__(self) -> None:
        super().__init__()
        self.payment = new_payment()
        self.stored = self.payment.pull_events()
        self.expected = PaymentStatus.CREATED
        self.clock = START
        self.finalized_at: PaymentStatus | None = None
        self.expected_failure_code: str | None = None

    def _act(self, action: str) -> None:
        self.clock += timedelta(minutes=1)
        at = self.clock
        commands = {
            "validate": lambda: self.payment.validate(at=at),
            "hold": lambda: self.payment.hold(reason="payee pending", at=at),
            "release": lambda: self.payment.release(
                send_on=date(2026, 3, 10), deliver_by=date(2026, 3, 12), at=at
            ),
            "submit": lambda: self.payment.submit(processor_reference="pmt_1", at=at),
            "change": lambda: self.payment.change(
                amount=Money.of(f"{self.payment.version}.50", "USD"),
                send_on=date(2026, 3, 9),
                deliver_by=date(2026, 3, 11),
                memo=f"change {self.payment.version}",
                at=at,
            ),
            "complete": lambda: self.payment.complete(at=at),
            "fail": lambda: self.payment.fail(failure_code="nsf", reason="declined", at=at),
            "cancel": lambda: self.payment.cancel(reason="customer", at=at),
            "return": lambda: self.payment.mark_returned(return_code="R01", reason="r", at=at),
        }
        version_before = self.payment.version
        if self.expected in ALLOWED[action]:
            commands[action]()
            self.expected = RESULT[action] or self.expected
            self.expected_failure_code = FAILURE_CODE.get(action, self.expected_failure_code)
            assert self.payment.version == version_before + 1
        else:
            with pytest.raises(IllegalTransition):
                commands[action]()
            assert self.payment.version == version_before
        self.stored += self.payment.pull_events()

    @rule(action=st.sampled_from(sorted(ALLOWED)))
    def command(self, action: str) -> None:
        self._act(action)

    @invariant()
    def status_follows_the_model(self) -> None:
        assert self.payment.status is self.expected

    @invariant()
    def failure_code_names_the_last_failure_or_return(self) -> None:
        assert self.payment.failure_code == self.expected_failure_code

    @invariant()
    def final_states_never_change(self) -> None:
        if self.finalized_at is not None:
            assert self.payment.status is self.finalized_at
        elif self.payment.status in FINAL_STATUSES:
            self.finalized_at = self.payment.status

    @invariant()
    def versions_are_gapless(self) -> None:
        assert [e.version for e in self.stored] == list(range(1, self.payment.version + 1))

    @invariant()
    def replay_rebuilds_the_same_state(self) -> None:
        replayed = Payment.replay("pmt_1", self.stored)
        assert replayed.status is self.payment.status
        assert replayed.version == self.payment.version
        assert replayed.snapshot() == self.payment.snapshot()
        assert replayed.failure_code == self.payment.failure_code
        assert replayed.updated_at == self.payment.updated_at


PaymentLifecycle.TestCase.settings = settings(max_examples=200, stateful_step_count=12)
TestPaymentLifecycle = PaymentLifecycle.TestCase


def test_a_change_keeps_the_currency_and_records_nothing_when_nothing_differs() -> None:
    payment = new_payment()
    payment.validate(at=START)
    terms = {"send_on": payment.send_on, "deliver_by": payment.deliver_by, "memo": None}
    assert payment.change(amount=Money.of("10.00", "USD"), at=START, **terms) is False
    with pytest.raises(InvalidMoney, match="cannot be paid in EUR"):
        payment.change(amount=Money.of("10.00", "EUR"), at=START, **terms)
    with pytest.raises(InvalidMoney, match="greater than zero"):
        payment.change(amount=Money.of("0.00", "USD"), at=START, **terms)
    assert payment.version == 2


def test_a_payment_must_be_for_a_positive_amount() -> None:
    with pytest.raises(InvalidMoney, match="greater than zero"):
        new_payment("0.00")


def test_deliver_by_cannot_precede_send_on() -> None:
    with pytest.raises(InvalidInput):
        Payment.create(
            payment_id="pmt_1",
            tenant_id="t",
            customer_id="c",
            payee_id="p",
            funding_account_id="f",
            amount=Money.of("1.00", "USD"),
            send_on=date(2026, 3, 4),
            deliver_by=date(2026, 3, 2),
            memo=None,
            at=START,
        )


def test_a_cancelled_payment_cannot_be_processed() -> None:
    payment = new_payment()
    payment.validate(at=START)
    payment.cancel(reason="changed my mind", at=START)
    with pytest.raises(IllegalTransition, match="cannot submit a payment that is cancelled"):
        payment.submit(processor_reference="pmt_1", at=START)


def test_replay_refuses_an_out_of_order_stream() -> None:
    payment = new_payment()
    payment.validate(at=START)
    created, validated = payment.pull_events()
    with pytest.raises(ValueError, match="does not follow"):
        Payment.replay("pmt_1", [validated, created])


def test_a_held_payment_is_never_due_and_is_released_on_the_dates_given() -> None:
    payment = new_payment()
    payment.hold(reason="payee account verification pending", at=START)
    assert not payment.is_due(date(2026, 3, 9))
    payment.release(send_on=date(2026, 3, 9), deliver_by=date(2026, 3, 11), at=START)
    assert (payment.status, payment.send_on, payment.deliver_by) == (
        PaymentStatus.SCHEDULED,
        date(2026, 3, 9),
        date(2026, 3, 11),
    )
    assert payment.is_due(date(2026, 3, 9))


def test_a_scheduled_payment_is_due_on_its_send_on_date() -> None:
    payment = new_payment()
    assert not payment.is_due(date(2026, 3, 2))  # created, not yet validated
    payment.validate(at=START)
    assert not payment.is_due(date(2026, 3, 1))
    assert payment.is_due(date(2026, 3, 2))
