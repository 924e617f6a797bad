"""Bills: what a customer owes a payee, by when, and the payments that pay it.

A biller (or the bank for it) presents a bill for a customer's payee: the
amount due, the minimum due, the statement balance, the due date and the
statement date, under the biller's own reference. Payments made for the
bill, by the customer or by their autopay rule, are linked to it; those
that complete count towards the amount due, partial ones summed. The bill
is event sourced like a payment, so its history is its stream and a
replay rebuilds it.

```
open -> scheduled        (a payment for it waits to be sent)
open, scheduled -> paid  (completed payments cover the amount due)
open, scheduled -> past_due  (the due date passed first)
open, scheduled, past_due -> cancelled  (the biller withdrew it)
```

A status is where the bill stands after each event, worked out from what
it holds rather than stored: a payment that fails takes a scheduled bill
back to open (or past due), and a correction that raises the amount due
takes a paid bill back to open.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from cbp.domain.bill_events import (
    AutopaySkipped,
    BillCorrected,
    BillPastDue,
    BillPaymentChanged,
    BillPaymentDropped,
    BillPaymentScheduled,
    BillPaymentSettled,
    BillPresented,
    BillWithdrawn,
)
from cbp.domain.errors import IllegalTransition, InvalidInput, InvalidMoney
from cbp.domain.events import DomainEvent
from cbp.domain.money import Money
from cbp.domain.recording import EventSourced
from cbp.domain.state_codec import decode_fields, encode_fields

#: The longest reference a biller may give a bill (its statement or invoice number).
MAX_REFERENCE_LENGTH = 64

#: The fields a snapshot writes in a shape of their own: the amounts flat, the payments a list.
_NESTED = ("amounts", "payments")


class BillStatus(enum.StrEnum):
    """Where a bill stands."""

    OPEN = "open"
    SCHEDULED = "scheduled"
    PAID = "paid"
    PAST_DUE = "past_due"
    CANCELLED = "cancelled"


class LinkedPaymentState(enum.StrEnum):
    """How far a payment made for a bill has got."""

    PENDING = "pending"
    SETTLED = "settled"
    DROPPED = "dropped"


@dataclass(kw_only=True)
class LinkedPayment:
    """A payment made for a bill: its amount, who made it, and whether it paid."""

    payment_id: str
    amount: Money
    by_autopay: bool
    state: LinkedPaymentState = LinkedPaymentState.PENDING


@dataclass(frozen=True, kw_only=True)
class BillAmounts:
    """What a bill asks for: the amount due, the minimum due and the statement balance."""

    amount_due: Money
    minimum_due: Money
    statement_balance: Money

    def __post_init__(self) -> None:
        currencies = {
            m.currency for m in (self.amount_due, self.minimum_due, self.statement_balance)
        }
        if len(currencies) != 1:
            raise InvalidMoney("a bill's amounts must all be in one currency")
        zero = Money.zero(self.amount_due.currency)
        if min(self.amount_due, self.minimum_due, self.statement_balance) < zero:
            raise InvalidMoney("a bill's amounts cannot be negative")
        if self.minimum_due > self.amount_due:
            raise InvalidMoney("the minimum due cannot be more than the amount due")

    @property
    def currency(self) -> str:
        """The currency every amount is in."""
        return self.amount_due.currency


@dataclass(kw_only=True, eq=False)
class Bill(EventSourced):
    """A bill presented for a customer's payee, and the payments made for it."""

    id: str
    version: int = 0
    status: BillStatus = BillStatus.OPEN
    tenant_id: str = ""
    customer_id: str = ""
    payee_id: str = ""
    amounts: BillAmounts = field(
        default_factory=lambda: BillAmounts(
            amount_due=Money.zero("USD"),
            minimum_due=Money.zero("USD"),
            statement_balance=Money.zero("USD"),
        )
    )
    due_on: date = date.min
    statement_on: date = date.min
    reference: str = ""
    payments: dict[str, LinkedPayment] = field(default_factory=dict)
    past_due: bool = False
    withdrawn: bool = False
    #: Why the customer's autopay rule last passed the bill by, if it did.
    autopay_skipped: str | None = None
    created_at: datetime = datetime.min
    updated_at: datetime = datetime.min
    _pending: list[DomainEvent] = field(default_factory=list, repr=False)

    # -- creation and replay -------------------------------------------------

    @classmethod
    def present(
        cls,
        *,
        bill_id: str,
        tenant_id: str,
        customer_id: str,
        payee_id: str,
        amounts: BillAmounts,
        due_on: date,
        statement_on: date,
        reference: str,
        at: datetime,
    ) -> Bill:
        """Record a new bill; its statement date may not come after its due date."""
        _check_dates(statement_on, due_on)
        reference = reference.strip()
        if not reference or len(reference) > MAX_REFERENCE_LENGTH:
            raise InvalidInput(f"a bill's reference must be 1 to {MAX_REFERENCE_LENGTH} characters")
        if not reference.isprintable():
            raise InvalidInput("a bill's reference must be printable text")
        bill = cls(id=bill_id)
        bill._record(
            BillPresented,
            at,
            tenant_id=tenant_id,
            customer_id=customer_id,
            payee_id=payee_id,
            currency=amounts.currency,
            due_on=due_on.isoformat(),
            statement_on=statement_on.isoformat(),
            reference=reference,
            **encode_fields(amounts),
        )
        return bill

    @classmethod
    def _empty(cls, stream_id: str) -> Bill:
        return cls(id=stream_id)

    # -- queries -------------------------------------------------------------

    @property
    def currency(self) -> str:
        """The currency of the bill and of every payment for it."""
        return self.amounts.currency

    @property
    def amount_paid(self) -> Money:
        """What the bill's completed payments add up to."""
        return self._total(LinkedPaymentState.SETTLED)

    @property
    def amount_scheduled(self) -> Money:
        """What the bill's payments still on their way add up to."""
        return self._total(LinkedPaymentState.PENDING)

    @property
    def autopay_payment(self) -> LinkedPayment | None:
        """The payment the customer's autopay rule made for the bill, while it is pending."""
        return next(
            (
                p
                for p in self.payments.values()
                if p.by_autopay and p.state is LinkedPaymentState.PENDING
            ),
            None,
        )

    @property
    def autopay_acted(self) -> bool:
        """Whether the autopay rule already paid the bill, or passed it by."""
        return self.autopay_skipped is not None or any(p.by_autopay for p in self.payments.values())

    @property
    def is_closed(self) -> bool:
        """Whether nothing more is to be paid: the bill is paid or withdrawn."""
        return self.status in (BillStatus.PAID, BillStatus.CANCELLED)

    # -- commands ------------------------------------------------------------

    def correct(self, *, amounts: BillAmounts, due_on: date, at: datetime) -> bool:
        """Take the biller's corrected amounts and due date; whether anything changed."""
        if self.withdrawn:
            raise IllegalTransition("bill", self.status.value, "correct")
        if amounts.currency != self.currency:
            raise InvalidMoney(f"a {self.currency} bill cannot be corrected to {amounts.currency}")
        _check_dates(self.statement_on, due_on)
        if (amounts, due_on) == (self.amounts, self.due_on):
            return False
        self._record(BillCorrected, at, due_on=due_on.isoformat(), **encode_fields(amounts))
        return True

    def withdraw(self, *, reason: str, at: datetime) -> None:
        """Record that the biller took the bill back."""
        if self.is_closed:
            raise IllegalTransition("bill", self.status.value, "withdraw")
        self._record(BillWithdrawn, at, reason=reason)

    def schedule_payment(
        self, *, payment_id: str, amount: Money, by_autopay: bool, at: datetime
    ) -> None:
        """Link a new payment to the bill; a paid or withdrawn bill takes none."""
        if self.is_closed:
            raise IllegalTransition("bill", self.status.value, "pay")
        if amount.currency != self.currency:
            raise InvalidMoney(f"a {self.currency} bill cannot be paid in {amount.currency}")
        self._record(
            BillPaymentScheduled,
            at,
            payment_id=payment_id,
            amount=str(amount.amount),
            by_autopay=by_autopay,
        )

    def change_payment(self, payment_id: str, *, amount: Money, at: datetime) -> bool:
        """Note that a pending payment now pays ``amount``; whether that changed anything."""
        if not self._is_pending(payment_id) or self.payments[payment_id].amount == amount:
            return False
        self._record(BillPaymentChanged, at, payment_id=payment_id, amount=str(amount.amount))
        return True

    def settle_payment(self, payment_id: str, *, amount: Money, at: datetime) -> bool:
        """Count a completed payment's ``amount`` as paid; whether it was pending on the bill."""
        if not self._is_pending(payment_id):
            return False
        self._record(BillPaymentSettled, at, payment_id=payment_id, amount=str(amount.amount))
        return True

    def drop_payment(self, payment_id: str, *, reason: str, at: datetime) -> bool:
        """Stop counting a payment that failed, was cancelled or returned."""
        linked = self.payments.get(payment_id)
        if linked is None or linked.state is LinkedPaymentState.DROPPED:
            return False
        self._record(BillPaymentDropped, at, payment_id=payment_id, reason=reason)
        return True

    def skip_autopay(self, *, code: str, reason: str, at: datetime) -> None:
        """Record why the customer's autopay rule did not pay the bill."""
        self._record(AutopaySkipped, at, code=code, reason=reason)

    def mark_past_due(self, *, today: date, at: datetime) -> bool:
        """Record that the due date passed unpaid; whether it just did."""
        if self.is_closed or self.past_due or self.due_on >= today:
            return False
        self._record(BillPastDue, at)
        return True

    # -- snapshots -------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The bill's whole state in primitives, for its read model."""
        return {
            **encode_fields(self, leave_out=_NESTED),
            **encode_fields(self.amounts),
            "currency": self.currency,
            "payments": [encode_fields(p) for p in self.payments.values()],
        }

    @classmethod
    def restore(cls, state: dict[str, Any]) -> Bill:
        """The bill a snapshot recorded, with nothing pending."""
        currency = state["currency"]
        payments = (decode_fields(LinkedPayment, p, currency) for p in state["payments"])
        return cls(
            **decode_fields(cls, state, currency, leave_out=_NESTED),
            amounts=_amounts(state, currency),
            payments={p["payment_id"]: LinkedPayment(**p) for p in payments},
        )

    # -- internals -----------------------------------------------------------

    def _total(self, state: LinkedPaymentState) -> Money:
        total = Money.zero(self.currency)
        for linked in self.payments.values():
            if linked.state is state:
                total = total + linked.amount
        return total

    def _is_pending(self, payment_id: str) -> bool:
        linked = self.payments.get(payment_id)
        return linked is not None and linked.state is LinkedPaymentState.PENDING

    def _settle_status(self) -> None:
        if self.withdrawn:
            self.status = BillStatus.CANCELLED
        elif self.amount_paid >= self.amounts.amount_due:
            self.status = BillStatus.PAID
        elif self.past_due:
            self.status = BillStatus.PAST_DUE
        elif self.amount_scheduled.is_positive:
            self.status = BillStatus.SCHEDULED
        else:
            self.status = BillStatus.OPEN

    def _when(self, event: DomainEvent) -> None:
        match event:
            case BillPresented():
                self.tenant_id = event.tenant_id
                self.customer_id = event.customer_id
                self.payee_id = event.payee_id
                self.amounts = _amounts(event.data(), event.currency)
                self.due_on = date.fromisoformat(event.due_on)
                self.statement_on = date.fromisoformat(event.statement_on)
                self.reference = event.reference
                self.created_at = event.occurred_at
            case BillCorrected():
                self.amounts = _amounts(event.data(), self.currency)
                self.due_on = date.fromisoformat(event.due_on)
                self.autopay_skipped = None
            case BillWithdrawn():
                self.withdrawn = True
            case BillPaymentScheduled():
                self.payments[event.payment_id] = LinkedPayment(
                    payment_id=event.payment_id,
                    amount=Money(Decimal(event.amount), self.currency),
                    by_autopay=event.by_autopay,
                )
            case BillPaymentChanged():
                self.payments[event.payment_id].amount = Money(Decimal(event.amount), self.currency)
            case BillPaymentSettled():
                linked = self.payments[event.payment_id]
                linked.amount = Money(Decimal(event.amount), self.currency)
                linked.state = LinkedPaymentState.SETTLED
            case BillPaymentDropped():
                self.payments[event.payment_id].state = LinkedPaymentState.DROPPED
            case AutopaySkipped():
                self.autopay_skipped = event.reason
            case BillPastDue():
                self.past_due = True
            case _:
                raise ValueError(f"{event.type} does not belong to a bill stream")
        self._settle_status()


def _check_dates(statement_on: date, due_on: date) -> None:
    if statement_on > due_on:
        raise InvalidInput("a bill's statement date cannot be after its due date")


def _amounts(fields: dict[str, Any], currency: str) -> BillAmounts:
    return BillAmounts(**decode_fields(BillAmounts, fields, currency))
