"""The Payment aggregate: event sourced, with the lifecycle of a bill payment.

```
created    -> scheduled | held | failed | cancelled
held       -> scheduled | failed | cancelled
scheduled  -> processing | failed | cancelled
processing -> completed | failed
completed  -> returned
```

A payment to a payee whose account is still being verified is ``held``: it
is released to ``scheduled`` once the account is verified, and fails if the
verification fails. A scheduled or held payment's amount, date and memo may
change (``PaymentChanged``) until it is queued to be sent.

State is only ever changed by applying an event, so replaying a stream
rebuilds exactly the state that produced it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from cbp.domain.errors import IllegalTransition, InvalidInput, InvalidMoney
from cbp.domain.events import DomainEvent, PaymentOrdered
from cbp.domain.money import Money
from cbp.domain.recording import EventSourced


class PaymentStatus(enum.StrEnum):
    """Where a payment is in its life."""

    CREATED = "created"
    SCHEDULED = "scheduled"
    HELD = "held"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    RETURNED = "returned"


#: States in which a payment has moved, or will move, no money.
MOVES_NO_MONEY = frozenset({PaymentStatus.FAILED, PaymentStatus.CANCELLED})
#: States in which a payment waits, unsent, and its terms may still change.
WAITING = frozenset({PaymentStatus.SCHEDULED, PaymentStatus.HELD})
#: Which statuses each action may start from.
_ALLOWED_FROM: dict[str, frozenset[PaymentStatus]] = {
    "validate": frozenset({PaymentStatus.CREATED}),
    "hold": frozenset({PaymentStatus.CREATED, PaymentStatus.SCHEDULED}),
    "release": frozenset({PaymentStatus.HELD}),
    "submit": frozenset({PaymentStatus.SCHEDULED}),
    "change": WAITING,
    "complete": frozenset({PaymentStatus.PROCESSING}),
    "fail": frozenset({PaymentStatus.CREATED, PaymentStatus.PROCESSING}) | WAITING,
    "cancel": frozenset({PaymentStatus.CREATED}) | WAITING,
    "return": frozenset({PaymentStatus.COMPLETED}),
}


@dataclass(frozen=True, kw_only=True)
class PaymentCreated(PaymentOrdered):
    """A customer asked to pay a payee from a funding account."""

    send_on: str
    deliver_by: str
    memo: str | None
    #: The date asked for, when it was not a business day and ``send_on`` was moved.
    requested_send_on: str | None = None
    #: The bill's due date the payment must arrive by, if the customer gave one.
    due_on: str | None = None
    #: The bill the payment pays, if it pays one.
    bill_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class PaymentValidated(DomainEvent):
    """The payment passed every check and waits for its send-on date."""


@dataclass(frozen=True, kw_only=True)
class PaymentHeld(DomainEvent):
    """The payment passed every check but one it must wait for: ``reason`` says which."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class PaymentReleased(DomainEvent):
    """What held the payment has cleared; it waits for its send-on date.

    A payment held past its send-on date is released to the earliest date it
    can still be sent, so the dates carried here are those it now has.
    """

    send_on: str
    deliver_by: str


@dataclass(frozen=True, kw_only=True)
class PaymentChanged(DomainEvent):
    """The customer changed a scheduled payment's amount, date or memo before it was sent.

    The event carries the payment's terms after the change, whole, so that
    the stream reads as a history of what was to be paid and when.
    """

    amount: str
    send_on: str
    deliver_by: str
    memo: str | None
    requested_send_on: str | None = None


@dataclass(frozen=True, kw_only=True)
class PaymentProcessed(DomainEvent):
    """The payment was submitted to the processor under its own reference."""

    processor_reference: str


@dataclass(frozen=True, kw_only=True)
class PaymentCompleted(DomainEvent):
    """The processor settled the payment."""


@dataclass(frozen=True, kw_only=True)
class PaymentFailed(DomainEvent):
    """The payment cannot go through; ``failure_code`` says why."""

    failure_code: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class PaymentCancelled(DomainEvent):
    """The customer or an operator cancelled the payment before processing."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class PaymentReturned(DomainEvent):
    """The bank returned a settled payment (an ACH return, days later)."""

    return_code: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class PaymentSnapshot:
    """A payment's whole state at one version: what its read model stores.

    Reads answer from snapshots instead of replaying the payment's events;
    the events stay the source of truth, and a replay rebuilds every snapshot.
    """

    id: str
    version: int
    status: PaymentStatus
    tenant_id: str
    customer_id: str
    payee_id: str
    funding_account_id: str
    amount: Money
    send_on: date
    requested_send_on: date | None
    deliver_by: date
    memo: str | None
    failure_code: str | None
    processor_reference: str | None
    created_at: datetime
    updated_at: datetime
    due_on: date | None = None
    bill_id: str | None = None


def _check_terms(amount: Money, send_on: date, deliver_by: date) -> None:
    """Refuse terms no payment may have, whether new or changed."""
    if not amount.is_positive:
        raise InvalidMoney("a payment amount must be greater than zero")
    if deliver_by < send_on:
        raise InvalidInput("deliver-by cannot be before send-on")


class Payment(EventSourced):
    """A one-time payment: the unit of money movement and its audit trail."""

    def __init__(self, payment_id: str) -> None:
        self.id = payment_id
        self.version = 0
        self.status = PaymentStatus.CREATED
        self.tenant_id = ""
        self.customer_id = ""
        self.payee_id = ""
        self.funding_account_id = ""
        self.amount = Money.zero("USD")
        self.send_on = date.min
        self.requested_send_on: date | None = None
        self.deliver_by = date.min
        self.due_on: date | None = None
        self.bill_id: str | None = None
        self.memo: str | None = None
        self.failure_code: str | None = None
        self.processor_reference: str | None = None
        self.created_at = datetime.min
        self.updated_at = datetime.min
        self._pending: list[DomainEvent] = []

    # -- creation and replay -------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        payment_id: str,
        at: datetime,
        tenant_id: str,
        customer_id: str,
        payee_id: str,
        funding_account_id: str,
        amount: Money,
        send_on: date,
        deliver_by: date,
        memo: str | None,
        requested_send_on: date | None = None,
        due_on: date | None = None,
        bill_id: str | None = None,
    ) -> Payment:
        """Record a new payment; its checks run in ``validate``.

        ``requested_send_on`` is the date the customer asked for when it was
        moved (to the next business day), kept so the answer can say so;
        ``due_on`` is the bill's due date, which every later change of the
        payment's dates must still meet; ``bill_id`` the bill it pays.
        """
        _check_terms(amount, send_on, deliver_by)
        payment = cls(payment_id)
        payment._record(
            PaymentCreated,
            at,
            **PaymentOrdered.terms(tenant_id, customer_id, payee_id, funding_account_id, amount),
            send_on=send_on.isoformat(),
            deliver_by=deliver_by.isoformat(),
            memo=memo,
            requested_send_on=requested_send_on.isoformat() if requested_send_on else None,
            due_on=due_on.isoformat() if due_on else None,
            bill_id=bill_id,
        )
        return payment

    @classmethod
    def _empty(cls, stream_id: str) -> Payment:
        return cls(stream_id)

    @classmethod
    def restore(cls, snapshot: PaymentSnapshot) -> Payment:
        """The payment as a snapshot recorded it, with nothing pending."""
        payment = cls(snapshot.id)
        for name, value in vars(snapshot).items():
            setattr(payment, name, value)
        return payment

    def snapshot(self) -> PaymentSnapshot:
        """The payment's state now, for its read model."""
        return PaymentSnapshot(
            **{name: getattr(self, name) for name in PaymentSnapshot.__dataclass_fields__}
        )

    # -- commands ------------------------------------------------------------

    def validate(self, *, at: datetime) -> None:
        """Mark the payment checked and waiting for its send-on date."""
        self._check_allowed("validate")
        self._record(PaymentValidated, at)

    def hold(self, *, reason: str, at: datetime) -> None:
        """Keep the payment from being sent until ``reason`` clears (when checked, or later)."""
        self._check_allowed("hold")
        self._record(PaymentHeld, at, reason=reason)

    def release(self, *, send_on: date, deliver_by: date, at: datetime) -> None:
        """Let a held payment wait for its send-on date, which may have moved on meanwhile."""
        self._check_allowed("release")
        _check_terms(self.amount, send_on, deliver_by)
        self._record(
            PaymentReleased, at, send_on=send_on.isoformat(), deliver_by=deliver_by.isoformat()
        )

    def change(
        self,
        *,
        amount: Money,
        send_on: date,
        deliver_by: date,
        memo: str | None,
        at: datetime,
        requested_send_on: date | None = None,
    ) -> bool:
        """Change what a scheduled payment will send, and when; whether anything changed.

        The currency stays the payment's own. Terms equal to the current
        ones record nothing.
        """
        self._check_allowed("change")
        if amount.currency != self.amount.currency:
            raise InvalidMoney(
                f"a {self.amount.currency} payment cannot be paid in {amount.currency}"
            )
        _check_terms(amount, send_on, deliver_by)
        terms = (amount, send_on, deliver_by, memo, requested_send_on)
        if terms == (self.amount, self.send_on, self.deliver_by, self.memo, self.requested_send_on):
            return False
        self._record(
            PaymentChanged,
            at,
            amount=str(amount.amount),
            send_on=send_on.isoformat(),
            deliver_by=deliver_by.isoformat(),
            memo=memo,
            requested_send_on=requested_send_on.isoformat() if requested_send_on else None,
        )
        return True

    def submit(self, *, processor_reference: str, at: datetime) -> None:
        """Record the hand-off to the processor."""
        self._check_allowed("submit")
        self._record(PaymentProcessed, at, processor_reference=processor_reference)

    def complete(self, *, at: datetime) -> None:
        """Record settlement."""
        self._check_allowed("complete")
        self._record(PaymentCompleted, at)

    def fail(self, *, failure_code: str, reason: str, at: datetime) -> None:
        """Record that the payment cannot go through."""
        self._check_allowed("fail")
        self._record(PaymentFailed, at, failure_code=failure_code, reason=reason)

    def cancel(self, *, reason: str, at: datetime) -> None:
        """Cancel a payment that has not been submitted yet."""
        self._check_allowed("cancel")
        self._record(PaymentCancelled, at, reason=reason)

    def mark_returned(self, *, return_code: str, reason: str, at: datetime) -> None:
        """Record a return after settlement."""
        self._check_allowed("return")
        self._record(PaymentReturned, at, return_code=return_code, reason=reason)

    # -- queries -------------------------------------------------------------

    def is_due(self, today: date) -> bool:
        """Whether a scheduled payment should be submitted on ``today``."""
        return self.status is PaymentStatus.SCHEDULED and self.send_on <= today

    @property
    def pending_events(self) -> tuple[DomainEvent, ...]:
        """Events recorded and not yet saved."""
        return tuple(self._pending)

    # -- internals -----------------------------------------------------------

    def _check_allowed(self, action: str) -> None:
        if self.status not in _ALLOWED_FROM[action]:
            raise IllegalTransition("payment", self.status.value, action)

    def _when(self, event: DomainEvent) -> None:
        match event:
            case PaymentCreated():
                self.tenant_id = event.tenant_id
                self.customer_id = event.customer_id
                self.payee_id = event.payee_id
                self.funding_account_id = event.funding_account_id
                self.amount = Money(Decimal(event.amount), event.currency)
                self._apply_terms(event)
                self.due_on = date.fromisoformat(event.due_on) if event.due_on else None
                self.bill_id = event.bill_id
                self.status = PaymentStatus.CREATED
                self.created_at = event.occurred_at
            case PaymentValidated():
                self.status = PaymentStatus.SCHEDULED
            case PaymentHeld():
                self.status = PaymentStatus.HELD
            case PaymentReleased():
                self.status = PaymentStatus.SCHEDULED
                self.send_on = date.fromisoformat(event.send_on)
                self.deliver_by = date.fromisoformat(event.deliver_by)
            case PaymentChanged():
                self.amount = Money(Decimal(event.amount), self.amount.currency)
                self._apply_terms(event)
            case PaymentProcessed():
                self.status = PaymentStatus.PROCESSING
                self.processor_reference = event.processor_reference
            case PaymentCompleted():
                self.status = PaymentStatus.COMPLETED
            case PaymentFailed():
                self.status = PaymentStatus.FAILED
                self.failure_code = event.failure_code
            case PaymentCancelled():
                self.status = PaymentStatus.CANCELLED
            case PaymentReturned():
                self.status = PaymentStatus.RETURNED
                self.failure_code = event.return_code
            case _:
                raise ValueError(f"{event.type} does not belong to a payment stream")

    def _apply_terms(self, event: PaymentCreated | PaymentChanged) -> None:
        self.send_on = date.fromisoformat(event.send_on)
        self.requested_send_on = (
            date.fromisoformat(event.requested_send_on) if event.requested_send_on else None
        )
        self.deliver_by = date.fromisoformat(event.deliver_by)
        self.memo = event.memo
