"""Bills: presented (one by one, or a biller's file), corrected, withdrawn, counted as paid.

A bill's payments are ordinary payments linked to it (autopay's are made
in ``cbp.services.autopay``). A payment's change of amount, completion,
failure, cancellation or return is counted on its bill; a bill whose due
date passes unpaid is past due; the customer is told of new and past-due
bills if they asked to be.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from cbp.domain import identifiers
from cbp.domain.bill import Bill, BillAmounts
from cbp.domain.bill_events import BillPastDue, BillPresented
from cbp.domain.customer import StatusAlert
from cbp.domain.errors import (
    AlreadyExists,
    DomainError,
    InvalidInput,
    NotFound,
)
from cbp.domain.money import Money
from cbp.domain.payment import (
    PaymentCancelled,
    PaymentChanged,
    PaymentCompleted,
    PaymentFailed,
    PaymentReturned,
)
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitsOfWork
from cbp.ports.system import Clock, IdGenerator
from cbp.services import commands as c
from cbp.services.inbox import already_consumed
from cbp.services.notifications import notify_customer

#: How far from today a bill's due date may be: no bill is due years away or long ago.
DUE_DATE_REACH = timedelta(days=400)

#: The payment events a bill follows: a change of amount, and the end (paid, or not).
BILL_PAYMENT_EVENTS = frozenset(
    {
        PaymentChanged.__name__,
        PaymentCompleted.__name__,
        PaymentFailed.__name__,
        PaymentCancelled.__name__,
        PaymentReturned.__name__,
    }
)

#: Which bill event each alert is told on.
ALERT_OF_BILL_EVENT: dict[str, StatusAlert] = {
    BillPresented.__name__: StatusAlert.BILL_PRESENTED,
    BillPastDue.__name__: StatusAlert.BILL_PAST_DUE,
}


def present_bill(command: c.PresentBill, *, uow: UnitOfWork, clock: Clock, ids: IdGenerator) -> str:
    """Store a new bill for one of the customer's payees; return its id."""
    now = clock.now()
    customer = uow.customers.get(command.tenant_id, command.customer_id)
    payee = uow.payees.get(command.tenant_id, command.payee_id)
    if payee.customer_id != customer.id:
        raise NotFound("payee", command.payee_id)
    _check_due_date(command.due_on, now)
    bill = Bill.present(
        bill_id=ids.new(identifiers.BILL),
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        payee_id=payee.id,
        amounts=BillAmounts(
            amount_due=Money.of(command.amount_due, command.currency),
            minimum_due=Money.of(command.minimum_due, command.currency),
            statement_balance=Money.of(command.statement_balance, command.currency),
        ),
        due_on=command.due_on,
        statement_on=command.statement_on,
        reference=command.reference,
        at=now,
    )
    uow.bills.add(bill)
    return bill.id


def correct_bill(command: c.CorrectBill, *, uow: UnitOfWork, clock: Clock) -> None:
    """Take a biller's corrected amounts or due date; what is left None stays."""
    terms = (command.amount_due, command.minimum_due, command.statement_balance, command.due_on)
    if all(term is None for term in terms):
        raise InvalidInput(
            "give at least one of amount_due, minimum_due, statement_balance and due_on"
        )
    now = clock.now()
    bill = uow.bills.get(command.tenant_id, command.bill_id)
    if command.due_on is not None:
        _check_due_date(command.due_on, now)
    old, currency = bill.amounts, bill.currency

    def amount(given: str | None, kept: Money) -> Money:
        return kept if given is None else Money.of(given, currency)

    amounts = BillAmounts(
        amount_due=amount(command.amount_due, old.amount_due),
        minimum_due=amount(command.minimum_due, old.minimum_due),
        statement_balance=amount(command.statement_balance, old.statement_balance),
    )
    if bill.correct(amounts=amounts, due_on=command.due_on or bill.due_on, at=now):
        uow.bills.save(bill)


def withdraw_bill(command: c.WithdrawBill, *, uow: UnitOfWork, clock: Clock) -> None:
    """Record that the biller took the bill back."""
    bill = uow.bills.get(command.tenant_id, command.bill_id)
    bill.withdraw(reason=command.reason, at=clock.now())
    uow.bills.save(bill)


def apply_payment_to_bill(command: c.ApplyPaymentToBill, *, uow: UnitOfWork, clock: Clock) -> None:
    """Follow a payment on its bill: its new amount, its completion, or its end unpaid."""
    now = clock.now()
    if already_consumed(uow, "bill-payments", command.message_id, at=now):
        return
    payment = uow.payments.view(command.tenant_id, command.payment_id)
    if payment.bill_id is None:
        return
    bill = uow.bills.get(payment.tenant_id, payment.bill_id)
    changed = False
    for event_type in command.event_types:
        if event_type == PaymentChanged.__name__:
            changed |= bill.change_payment(payment.id, amount=payment.amount, at=now)
        elif event_type == PaymentCompleted.__name__:
            changed |= bill.settle_payment(payment.id, amount=payment.amount, at=now)
        else:
            changed |= bill.drop_payment(payment.id, reason=event_type, at=now)
    if changed:
        uow.bills.save(bill)


def notify_bill_status(
    command: c.NotifyBillStatus, *, uow: UnitOfWork, clock: Clock, ids: IdGenerator
) -> list[str]:
    """Tell the customer of a new or past-due bill on their channels, if they opted in."""
    alert = ALERT_OF_BILL_EVENT.get(command.event_type)
    if alert is None:
        return []
    now = clock.now()
    if already_consumed(uow, "notify_bill_status", command.message_id, at=now):
        return []
    customer = uow.customers.get(command.tenant_id, command.customer_id)
    if alert not in customer.notify_on:
        return []
    bill = uow.bills.view(command.tenant_id, command.bill_id)
    amounts = bill.amounts
    return notify_customer(
        uow,
        customer,
        channels=customer.notification_channels,
        template=alert.value,
        payload={
            "bill_id": bill.id,
            "payee_id": bill.payee_id,
            "amount_due": str(amounts.amount_due.amount),
            "minimum_due": str(amounts.minimum_due.amount),
            "currency": bill.currency,
            "due_on": bill.due_on.isoformat(),
        },
        ids=ids,
        at=now,
    )


def mark_bills_past_due(
    command: c.MarkBillsPastDue, *, unit_of_work: UnitsOfWork, clock: Clock
) -> int:
    """Mark the bills whose due date passed unpaid, a page per transaction; return how many.

    A bill is past due once its due date is gone in its tenant's time zone.
    """
    now = clock.now()
    marked = 0
    with unit_of_work(read_only=True) as uow:
        # NOTE: a day past UTC's: a tenant east of it may be a day ahead; each bill is
        # then judged by its own tenant's date
        candidates = uow.bills.unpaid_due_before(
            now.date() + timedelta(days=1), limit=command.limit
        )
    for tenant_id, bill_id in candidates:
        with unit_of_work() as uow:
            bill = uow.bills.get(tenant_id, bill_id)
            today = uow.tenants.get(tenant_id).policy.local_now(now).date()
            if bill.mark_past_due(today=today, at=now):
                uow.bills.save(bill)
                marked += 1
            uow.commit()
    return marked


def _check_due_date(due_on: date, now: datetime) -> None:
    today = now.date()
    if not today - DUE_DATE_REACH <= due_on <= today + DUE_DATE_REACH:
        raise InvalidInput(f"due_on must be within {DUE_DATE_REACH.days} days of today")


@dataclass
class BillImport:
    """What an import of a bill file did: bills presented, already there, and refused."""

    presented: int = 0
    already_presented: int = 0
    #: Each refused row's number and why it was refused.
    refused: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class BillRow:
    """One row of a bill file: the bill it presents, or why it cannot be read."""

    number: int
    command: c.PresentBill | None = None
    error: str | None = None


def import_bills(
    handle: Callable[[c.Command], object],
    rows: Iterable[BillRow],
    *,
    progress: Callable[[int], None] | None = None,
) -> BillImport:
    """Present each bill of a file, each in its own transaction.

    A row refused (unreadable, or failing the checks a bill over the API
    would) is reported and the rest go on; a bill already presented (the
    same payee and reference) is counted, not presented again, so a file
    imported twice, or again after a crash, presents each bill once.
    """
    result = BillImport()
    for done, row in enumerate(rows, start=1):
        if row.command is None:
            result.refused.append((row.number, row.error or "unreadable"))
        else:
            try:
                handle(row.command)
                result.presented += 1
            except AlreadyExists:
                result.already_presented += 1
            except DomainError as refusal:
                result.refused.append((row.number, str(refusal)))
        if progress:
            progress(done)
    return result
