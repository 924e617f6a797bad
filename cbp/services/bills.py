"""Bills: presented, corrected and withdrawn; paid by autopay rules; counted as paid.

A bill's payments are ordinary payments linked to it. Autopay acts on the
bill's own events (``bill.changed``): a new bill that meets the payee's rule
gets its payment once, however often the event is delivered, because the
bill's stream records the payment (and two writers conflict on its
version). A biller's correction changes the autopay payment while it can
still be changed, and a withdrawal cancels it; payments the customer made
themselves are theirs to change. A payment's completion, failure,
cancellation or return is counted on its bill.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from cbp.domain import identifiers
from cbp.domain.autopay import AutopayBasis, AutopayRule, OverCap
from cbp.domain.bill import Bill, BillAmounts
from cbp.domain.bill_events import BillCorrected, BillPastDue, BillPresented, BillWithdrawn
from cbp.domain.customer import StatusAlert
from cbp.domain.delivery_quote import check_arrives_by
from cbp.domain.errors import (
    AlreadyExists,
    DomainError,
    IllegalTransition,
    InvalidInput,
    NotFound,
    TooLateToChange,
)
from cbp.domain.money import Money
from cbp.domain.payment import (
    PaymentCancelled,
    PaymentChanged,
    PaymentCompleted,
    PaymentFailed,
    PaymentReturned,
)
from cbp.domain.policy import PaymentPolicy
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitOfWorkFactory
from cbp.ports.system import BusinessCalendar, Clock, IdGenerator
from cbp.services import commands as c
from cbp.services.choices import one_of
from cbp.services.notifications import notify_account_holder, notify_customer
from cbp.services.outbox import already_consumed
from cbp.services.payments import change_payment, check_payable, open_payment

logger = logging.getLogger("cbp.bills")

#: How far from today a bill's due date may be: no bill is due years away or long ago.
DUE_DATE_REACH = timedelta(days=400)

#: The bill events autopay acts on.
AUTOPAY_EVENTS = frozenset({BillPresented.__name__, BillCorrected.__name__, BillWithdrawn.__name__})
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


def set_autopay(command: c.SetAutopay, *, uow: UnitOfWork, clock: Clock) -> None:
    """Give a payee an autopay rule, or replace the one it has.

    The rule pays bills presented from now on; a bill already presented is
    the customer's to pay.
    """
    now = clock.now()
    payee = uow.payees.get(command.tenant_id, command.payee_id)
    account = uow.funding_accounts.get(command.tenant_id, command.funding_account_id)
    if account.customer_id != payee.customer_id:
        raise NotFound("funding account", command.funding_account_id)

    def money(amount: str | None) -> Money | None:
        return None if amount is None else Money.of(amount, command.currency)

    existing = uow.autopay.get(command.tenant_id, command.payee_id)
    uow.autopay.put(
        AutopayRule(
            tenant_id=payee.tenant_id,
            customer_id=payee.customer_id,
            payee_id=payee.id,
            funding_account_id=account.id,
            basis=one_of(AutopayBasis, command.basis, "basis"),
            fixed_amount=money(command.fixed_amount),
            days_before_due=command.days_before_due,
            cap=money(command.cap),
            created_at=existing.created_at if existing else now,
            updated_at=now,
        )
    )


def remove_autopay(command: c.RemoveAutopay, *, uow: UnitOfWork) -> None:
    """Forget a payee's autopay rule; NotFound if it has none."""
    uow.payees.get(command.tenant_id, command.payee_id)
    if not uow.autopay.remove(command.tenant_id, command.payee_id):
        raise NotFound("autopay rule of payee", command.payee_id)


def follow_bill(
    command: c.FollowBill,
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdGenerator,
    calendar: BusinessCalendar,
) -> None:
    """Let the payee's autopay rule act on a bill's change, once per change."""
    now = clock.now()
    if already_consumed(uow, "autopay", command.message_id, at=now):
        return
    bill = uow.bills.get(command.tenant_id, command.bill_id)
    rule = uow.autopay.get(bill.tenant_id, bill.payee_id)
    autopay = bill.autopay_payment
    if command.event_type == BillWithdrawn.__name__:
        if autopay is not None:
            _cancel_quietly(uow, bill, autopay.payment_id, "the biller withdrew the bill", now)
        return
    if command.event_type not in AUTOPAY_EVENTS or rule is None or bill.is_closed:
        return
    if autopay is None:
        if not bill.autopay_acted:
            _pay_by_rule(uow, bill, rule, clock=clock, ids=ids, calendar=calendar)
        return
    _follow_correction(uow, bill, rule, autopay.payment_id, clock=clock, ids=ids, calendar=calendar)


def _pay_by_rule(
    uow: UnitOfWork,
    bill: Bill,
    rule: AutopayRule,
    *,
    clock: Clock,
    ids: IdGenerator,
    calendar: BusinessCalendar,
) -> None:
    """Make the rule's payment for ``bill``, or record (and tell) why it made none."""
    now = clock.now()
    try:
        amount = rule.amount_for(bill)
        if not amount.is_positive:
            return
        parties = uow.parties.for_payment(
            bill.tenant_id, bill.customer_id, bill.payee_id, rule.funding_account_id
        )
        check_payable(parties, accept_pending_payee=True)
        policy = parties.tenant.policy
        policy.check_amount(amount)
        send_on = _send_on(bill, rule, parties.payee.lead_days, policy, now, calendar)
        open_payment(
            uow,
            parties,
            amount=amount,
            send_on=send_on,
            memo=f"Autopay of bill {bill.reference}",
            due_on=bill.due_on,
            bill=bill,
            by_autopay=True,
            ids=ids,
            calendar=calendar,
            at=now,
        )
    except (OverCap, DomainError) as refusal:
        code = "over_cap" if isinstance(refusal, OverCap) else refusal.code
        _skip(uow, bill, code, str(refusal), ids=ids, at=now)


def _send_on(
    bill: Bill,
    rule: AutopayRule,
    lead_days: int,
    policy: PaymentPolicy,
    now: datetime,
    calendar: BusinessCalendar,
) -> date:
    """The day the rule's payment is sent: to arrive when the rule says, or as soon as can be.

    A bill presented too late for the rule's day is paid on the earliest
    day that still arrives by the due date; one too late for that is not
    paid (ArrivesAfterDueDate names the latest day that would have made it).
    """
    is_business_day = calendar.is_business_day
    earliest = policy.earliest_send_on(now, is_business_day)
    wanted = rule.send_on_for(bill, lead_days, is_business_day)
    send_on = policy.resolve_send_on(max(wanted, earliest), now, is_business_day)
    check_arrives_by(bill.due_on, send_on, lead_days, is_business_day)
    return send_on


def _follow_correction(
    uow: UnitOfWork,
    bill: Bill,
    rule: AutopayRule,
    payment_id: str,
    *,
    clock: Clock,
    ids: IdGenerator,
    calendar: BusinessCalendar,
) -> None:
    """Change the autopay payment to what the corrected bill asks, while it can be changed."""
    now = clock.now()
    try:
        amount = rule.amount_for(bill)
    except OverCap as refusal:
        _cancel_quietly(uow, bill, payment_id, "the corrected bill is over the autopay cap", now)
        _skip(uow, bill, "over_cap", str(refusal), ids=ids, at=now)
        return
    if not amount.is_positive:
        _cancel_quietly(uow, bill, payment_id, "the corrected bill asks nothing more", now)
        return
    payment = uow.payments.get(bill.tenant_id, payment_id)
    payee = uow.payees.get(bill.tenant_id, bill.payee_id)
    tenant = uow.tenants.get(bill.tenant_id)
    try:
        send_on = _send_on(bill, rule, payee.lead_days, tenant.policy, now, calendar)
        if (amount, send_on) == (payment.amount, payment.send_on):
            return
        change_payment(
            c.ChangePayment(
                tenant_id=bill.tenant_id,
                payment_id=payment_id,
                amount=str(amount.amount),
                send_on=send_on,
                actor="autopay",
            ),
            uow=uow,
            clock=clock,
            ids=ids,
            calendar=calendar,
        )
    except (TooLateToChange, IllegalTransition):
        logger.info("autopay payment %s is on its way; the correction leaves it", payment_id)


def _cancel_quietly(
    uow: UnitOfWork, bill: Bill, payment_id: str, reason: str, at: datetime
) -> None:
    """Cancel the autopay payment, unless it is already on its way."""
    try:
        payment = uow.payments.get(bill.tenant_id, payment_id)
        payment.cancel(reason=reason, at=at)
        uow.payments.save(payment)
    except IllegalTransition:
        logger.info("autopay payment %s is on its way and stays", payment_id)


def _skip(
    uow: UnitOfWork, bill: Bill, code: str, reason: str, *, ids: IdGenerator, at: datetime
) -> None:
    """Record that autopay passed the bill by, and tell the customer on every channel."""
    bill.skip_autopay(code=code, reason=reason, at=at)
    uow.bills.save(bill)
    notify_account_holder(
        uow,
        bill,
        template="autopay_skipped",
        payload={
            "bill_id": bill.id,
            "payee_id": bill.payee_id,
            "due_on": bill.due_on.isoformat(),
            "code": code,
            "reason": reason,
        },
        ids=ids,
        at=at,
    )


def apply_payment_to_bill(command: c.ApplyPaymentToBill, *, uow: UnitOfWork, clock: Clock) -> None:
    """Follow a payment on its bill: its new amount, its completion, or its end unpaid."""
    now = clock.now()
    if already_consumed(uow, "bill-payments", command.message_id, at=now):
        return
    payment = uow.payments.view(command.tenant_id, command.payment_id)
    if payment.bill_id is None:
        return
    bill = uow.bills.get(payment.tenant_id, payment.bill_id)
    if command.event_type == PaymentChanged.__name__:
        changed = bill.change_payment(payment.id, amount=payment.amount, at=now)
    elif command.event_type == PaymentCompleted.__name__:
        changed = bill.settle_payment(payment.id, amount=payment.amount, at=now)
    else:
        changed = bill.drop_payment(payment.id, reason=command.event_type, at=now)
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
    command: c.MarkBillsPastDue, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> int:
    """Mark the bills whose due date passed unpaid, a page per transaction; return how many.

    A bill is past due once its due date is gone in its tenant's time zone.
    """
    now = clock.now()
    marked = 0
    with unit_of_work() as uow:
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
