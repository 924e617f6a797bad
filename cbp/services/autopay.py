"""Autopay: each payee's rule, and the payments it makes for the bills it meets.

Autopay acts on a bill's own events (``bill.changed``): a new bill that
meets the payee's rule gets its payment once, however often the event is
delivered, because the bill's stream records the payment (and two writers
conflict on its version). A biller's correction changes the autopay payment
while it can still be changed, and a withdrawal cancels it; payments the
customer made themselves are theirs to change.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from cbp.domain.autopay import AutopayBasis, AutopayRule, OverCap
from cbp.domain.bill import Bill
from cbp.domain.bill_events import BillCorrected, BillPresented, BillWithdrawn
from cbp.domain.delivery_quote import check_arrives_by
from cbp.domain.errors import DomainError, IllegalTransition, NotFound, TooLateToChange
from cbp.domain.money import Money
from cbp.domain.policy import PaymentPolicy
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.ports.system import BusinessCalendar, Clock, IdGenerator
from cbp.services import commands as c
from cbp.services.choices import one_of
from cbp.services.inbox import already_consumed
from cbp.services.notifications import notify_account_holder
from cbp.services.payments import change_payment, check_payable, open_payment

logger = logging.getLogger("cbp.autopay")

#: The bill events autopay acts on.
AUTOPAY_EVENTS = frozenset({BillPresented.__name__, BillCorrected.__name__, BillWithdrawn.__name__})


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
            _pay_by_rule(uow, bill, rule, ids=ids, calendar=calendar, at=now)
        return
    _follow_correction(uow, bill, rule, autopay.payment_id, clock=clock, ids=ids, calendar=calendar)


def _pay_by_rule(
    uow: UnitOfWork,
    bill: Bill,
    rule: AutopayRule,
    *,
    ids: IdGenerator,
    calendar: BusinessCalendar,
    at: datetime,
) -> None:
    """Make the rule's payment for ``bill``, or record (and tell) why it made none."""
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
        send_on = _send_on(bill, rule, parties.payee.lead_days, policy, at, calendar)
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
            at=at,
        )
    except (OverCap, DomainError) as refusal:
        code = "over_cap" if isinstance(refusal, OverCap) else refusal.code
        _skip(uow, bill, code, str(refusal), ids=ids, at=at)


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
