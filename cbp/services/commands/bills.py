"""Commands about bills and autopay rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cbp.services.commands.base import Audited, Command


@dataclass(frozen=True, kw_only=True)
class PresentBill(Command):
    """Present a bill a customer owes one of their payees (a biller's, or the bank's for it)."""

    audit = Audited(fields=("payee_id", "amount_due", "currency", "due_on", "reference"))

    tenant_id: str
    customer_id: str
    payee_id: str
    amount_due: str
    minimum_due: str
    statement_balance: str
    due_on: date
    statement_on: date
    reference: str
    currency: str = "USD"


@dataclass(frozen=True, kw_only=True)
class CorrectBill(Command):
    """Correct a bill's amounts or due date, as its biller did; None keeps a term."""

    audit = Audited(subject="bill_id", fields=("amount_due", "due_on"))

    tenant_id: str
    bill_id: str
    amount_due: str | None = None
    minimum_due: str | None = None
    statement_balance: str | None = None
    due_on: date | None = None


@dataclass(frozen=True, kw_only=True)
class WithdrawBill(Command):
    """Take a bill back, as its biller did: nothing is owed on it."""

    audit = Audited(subject="bill_id", fields=("reason",))

    tenant_id: str
    bill_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class SetAutopay(Command):
    """Pay each bill of a payee by a rule: an amount, a day before the due date, a cap."""

    audit = Audited(subject="payee_id", fields=("basis", "fixed_amount", "days_before_due", "cap"))

    tenant_id: str
    payee_id: str
    funding_account_id: str
    basis: str
    fixed_amount: str | None = None
    days_before_due: int = 0
    cap: str | None = None
    currency: str = "USD"


@dataclass(frozen=True, kw_only=True)
class RemoveAutopay(Command):
    """Stop paying a payee's bills by rule; payments already made stay."""

    audit = Audited(subject="payee_id")

    tenant_id: str
    payee_id: str


@dataclass(frozen=True, kw_only=True)
class FollowBill(Command):
    """Act on a bill's change: autopay pays a new bill, follows a correction or a withdrawal."""

    tenant_id: str
    bill_id: str
    event_type: str
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class NotifyBillStatus(Command):
    """Tell a customer of a new or past-due bill, if they opted into it."""

    tenant_id: str
    customer_id: str
    bill_id: str
    event_type: str
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ApplyPaymentToBill(Command):
    """Follow a payment on the bill it pays: a new amount, its completion or its failure."""

    tenant_id: str
    payment_id: str
    #: The payment's events recorded together that its bill follows, oldest first.
    event_types: tuple[str, ...]
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class MarkBillsPastDue(Command):
    """Mark every bill whose due date passed unpaid as past due."""

    limit: int = 500
