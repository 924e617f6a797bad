"""Autopay: a customer's standing rule to pay each bill a payee presents.

A rule pays the statement balance, the minimum due, or a fixed amount
(never more than the amount due), from one funding account, a number of
business days before the due date or on it, and never more than its cap: a
bill over the cap is not paid, and the customer is told instead.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from cbp.domain.bill import Bill
from cbp.domain.calendar import IsBusinessDay, latest_send_on
from cbp.domain.errors import InvalidInput, InvalidMoney
from cbp.domain.money import Money

#: The most business days before a due date a rule may pay.
MAX_DAYS_BEFORE_DUE = 30


class AutopayBasis(enum.StrEnum):
    """Which of a bill's amounts a rule pays."""

    STATEMENT_BALANCE = "statement_balance"
    MINIMUM_DUE = "minimum_due"
    FIXED_AMOUNT = "fixed_amount"


class OverCap(Exception):
    """A bill asks for more than the rule's cap: the rule does not pay it."""


@dataclass(frozen=True, kw_only=True)
class AutopayRule:
    """How one payee's bills are paid without the customer asking each time."""

    tenant_id: str
    customer_id: str
    payee_id: str
    funding_account_id: str
    basis: AutopayBasis
    #: The amount a ``fixed_amount`` rule pays; None for the others.
    fixed_amount: Money | None
    #: Business days before the due date the payment should arrive; 0 is on it.
    days_before_due: int
    #: The most the rule pays for one bill; None for no cap.
    cap: Money | None
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        if (self.basis is AutopayBasis.FIXED_AMOUNT) != (self.fixed_amount is not None):
            raise InvalidInput("give fixed_amount with the fixed_amount basis, and only with it")
        if self.fixed_amount is not None and not self.fixed_amount.is_positive:
            raise InvalidMoney("an autopay fixed amount must be greater than zero")
        if self.cap is not None and not self.cap.is_positive:
            raise InvalidMoney("an autopay cap must be greater than zero")
        if not 0 <= self.days_before_due <= MAX_DAYS_BEFORE_DUE:
            raise InvalidInput(f"days_before_due must be from 0 to {MAX_DAYS_BEFORE_DUE}")

    def amount_for(self, bill: Bill) -> Money:
        """What the rule pays of ``bill``: its basis, less what is already paid or on its way.

        Zero when nothing is left to pay; OverCap when the amount exceeds the cap.
        """
        amounts = bill.amounts
        wanted = {
            AutopayBasis.STATEMENT_BALANCE: amounts.statement_balance,
            AutopayBasis.MINIMUM_DUE: amounts.minimum_due,
            AutopayBasis.FIXED_AMOUNT: self.fixed_amount or amounts.amount_due,
        }[self.basis]
        if wanted.currency != bill.currency or (self.cap and self.cap.currency != bill.currency):
            raise InvalidMoney(f"the autopay rule does not pay {bill.currency} bills")
        others = bill.amount_paid + bill.amount_scheduled
        autopay = bill.autopay_payment
        if autopay is not None:
            others = others - autopay.amount
        left = amounts.amount_due - others
        amount = min(wanted, left) if left.is_positive else Money.zero(bill.currency)
        if self.cap is not None and amount > self.cap:
            raise OverCap(f"the bill asks {amount} and the autopay cap is {self.cap}")
        return amount

    def arrive_by(self, bill: Bill, is_business_day: IsBusinessDay) -> date:
        """The day the rule's payment should reach the payee: N business days before due."""
        return latest_send_on(bill.due_on, self.days_before_due, is_business_day)

    def send_on_for(self, bill: Bill, lead_days: int, is_business_day: IsBusinessDay) -> date:
        """The last day the payment can be sent and still arrive when the rule says."""
        return latest_send_on(self.arrive_by(bill, is_business_day), lead_days, is_business_day)
