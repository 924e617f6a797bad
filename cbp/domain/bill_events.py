"""What happens to a bill: the events its stream records."""

from __future__ import annotations

from dataclasses import dataclass

from cbp.domain.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class BillPresented(DomainEvent):
    """A biller (or the bank for it) presented what a customer owes a payee, and by when."""

    tenant_id: str
    customer_id: str
    payee_id: str
    currency: str
    amount_due: str
    minimum_due: str
    statement_balance: str
    due_on: str
    statement_on: str
    reference: str


@dataclass(frozen=True, kw_only=True)
class BillCorrected(DomainEvent):
    """The biller corrected the bill's amounts or due date; the event carries them whole."""

    amount_due: str
    minimum_due: str
    statement_balance: str
    due_on: str


@dataclass(frozen=True, kw_only=True)
class BillWithdrawn(DomainEvent):
    """The biller took the bill back: nothing is owed on it."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class BillPaymentScheduled(DomainEvent):
    """A payment was made for the bill, by the customer or by their autopay rule."""

    payment_id: str
    amount: str
    by_autopay: bool


@dataclass(frozen=True, kw_only=True)
class BillPaymentChanged(DomainEvent):
    """One of the bill's payments, not yet sent, now pays another amount."""

    payment_id: str
    amount: str


@dataclass(frozen=True, kw_only=True)
class BillPaymentSettled(DomainEvent):
    """One of the bill's payments completed: ``amount`` counts as paid."""

    payment_id: str
    amount: str


@dataclass(frozen=True, kw_only=True)
class BillPaymentDropped(DomainEvent):
    """One of the bill's payments failed, was cancelled or returned: it pays nothing."""

    payment_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class AutopaySkipped(DomainEvent):
    """The customer's autopay rule did not pay the bill: ``reason`` says why."""

    code: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class BillPastDue(DomainEvent):
    """The due date passed and what was paid does not cover the amount due."""
