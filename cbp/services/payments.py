"""Creating, changing and cancelling one-time payments."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from cbp.domain import identifiers
from cbp.domain.bill import Bill
from cbp.domain.calendar import deliver_by_date
from cbp.domain.delivery_quote import check_arrives_by
from cbp.domain.errors import (
    FundingAccountNotUsable,
    IllegalTransition,
    InvalidInput,
    PayeeNotPayable,
    TooLateToChange,
)
from cbp.domain.money import Money
from cbp.domain.payment import WAITING, Payment
from cbp.ports.contracts import ProcessPaymentTask
from cbp.ports.storage.payments import PaymentParties
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.ports.system import BusinessCalendar, Clock, IdGenerator
from cbp.services.commands import CancelPayment, ChangePayment, CreateOneTimePayment
from cbp.services.limits import check_customer_limits, check_daily_total
from cbp.services.outbox import send

#: Why a payment to a payee still being verified is held.
AWAITING_PAYEE_VERIFICATION = "payee account verification pending"
#: The subscriber that consumes payment.processing tasks.
PAYMENT_PROCESSOR = "payment-processor"


def create_one_time_payment(
    command: CreateOneTimePayment,
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdGenerator,
    calendar: BusinessCalendar,
) -> str:
    """Validate and persist a payment in one transaction; queue it if due today.

    Every check runs before anything is stored: a payment that exists has
    passed them all and is ``scheduled``, or ``held`` while its payee's
    account is still being verified.
    """
    now = clock.now()
    parties = uow.parties.for_payment(
        command.tenant_id, command.customer_id, command.payee_id, command.funding_account_id
    )
    check_payable(parties, accept_pending_payee=True)
    amount = Money.of(command.amount, command.currency)
    policy = parties.tenant.policy
    policy.check_amount(amount)
    send_on = policy.resolve_send_on(command.send_on, now, calendar.is_business_day)
    bill = None if command.bill_id is None else bill_to_pay(uow, parties, command.bill_id)
    due_on = command.due_on if bill is None or command.due_on else bill.due_on
    if due_on is not None:
        check_arrives_by(due_on, send_on, parties.payee.lead_days, calendar.is_business_day)
    payment = open_payment(
        uow,
        parties,
        amount=amount,
        send_on=send_on,
        memo=command.memo,
        requested_send_on=command.send_on if command.send_on not in (None, send_on) else None,
        due_on=due_on,
        bill=bill,
        ids=ids,
        calendar=calendar,
        at=now,
    )
    return payment.id


def bill_to_pay(uow: UnitOfWork, parties: PaymentParties, bill_id: str) -> Bill:
    """The customer's bill from the payee, that a new payment is to pay; refused if paid."""
    bill = uow.bills.get(parties.tenant.id, bill_id)
    if (bill.customer_id, bill.payee_id) != (parties.customer.id, parties.payee.id):
        raise InvalidInput(
            f"bill {bill_id} is not the customer's bill from payee {parties.payee.id}"
        )
    if bill.is_closed:
        raise IllegalTransition("bill", bill.status.value, "pay")
    return bill


def open_payment(
    uow: UnitOfWork,
    parties: PaymentParties,
    *,
    amount: Money,
    send_on: date,
    memo: str | None,
    ids: IdGenerator,
    calendar: BusinessCalendar,
    at: datetime,
    requested_send_on: date | None = None,
    due_on: date | None = None,
    bill: Bill | None = None,
    by_autopay: bool = False,
) -> Payment:
    """Save a new payment between parties that passed ``check_payable``, for a checked amount.

    It must fit within the customer's limits (checked here, with the
    customer held). A payment for a ``bill`` is linked to it (made
    ``by_autopay`` or by the customer). It is
    ``held`` while its payee's account is being verified, ``scheduled``
    otherwise, and queued at once when due today. Raises before anything is
    stored if a check fails.
    """
    tenant = parties.tenant
    check_customer_limits(uow, tenant, parties.customer.id, amount, send_on)
    payment = Payment.create(
        payment_id=ids.new(identifiers.PAYMENT),
        tenant_id=tenant.id,
        customer_id=parties.customer.id,
        payee_id=parties.payee.id,
        funding_account_id=parties.funding_account.id,
        amount=amount,
        send_on=send_on,
        deliver_by=deliver_by_date(send_on, parties.payee.lead_days, calendar.is_business_day),
        memo=memo,
        requested_send_on=requested_send_on,
        due_on=due_on,
        bill_id=None if bill is None else bill.id,
        at=at,
    )
    if parties.payee.awaits_verification:
        payment.hold(reason=AWAITING_PAYEE_VERIFICATION, at=at)
    else:
        payment.validate(at=at)
    uow.payments.save(payment)
    if bill is not None:
        bill.schedule_payment(payment_id=payment.id, amount=amount, by_autopay=by_autopay, at=at)
        uow.bills.save(bill)
    if payment.is_due(tenant.policy.local_now(at).date()):
        queue_processing(uow, payment, ids=ids, at=at)
    return payment


def change_payment(
    command: ChangePayment,
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdGenerator,
    calendar: BusinessCalendar,
) -> None:
    """Change a scheduled payment's amount, send-on date or memo, as an event on its stream.

    Only until the payment is due or queued to be sent: from then on what
    the processor receives is fixed. The customer is held, as the queueing
    of a payment holds it, so a change and a queueing never cross. The new
    terms pass the same checks as a new payment's, its bill's due date
    included; a new date of today queues the payment at once.
    """
    if command.amount is None and command.send_on is None and command.memo is None:
        raise InvalidInput("give at least one of amount, send_on and memo to change")
    now = clock.now()
    payment = uow.payments.get(command.tenant_id, command.payment_id)
    uow.customers.hold(payment.tenant_id, payment.customer_id)
    tenant = uow.tenants.get(payment.tenant_id)
    today = tenant.policy.local_now(now).date()
    if payment.status not in WAITING:
        raise IllegalTransition("payment", payment.status.value, "change")
    if payment.is_due(today) or uow.inbox.seen(QUEUED, payment.id):
        raise TooLateToChange(
            f"payment {payment.id} is due or queued to be sent and can no longer be changed"
        )
    amount = payment.amount
    if command.amount is not None:
        amount = Money.of(command.amount, payment.amount.currency)
        tenant.policy.check_amount(amount)
    send_on, requested, deliver_by = (
        payment.send_on,
        payment.requested_send_on,
        payment.deliver_by,
    )
    if command.send_on is not None:
        is_business_day = calendar.is_business_day
        send_on = tenant.policy.resolve_send_on(command.send_on, now, is_business_day)
        requested = command.send_on if command.send_on != send_on else None
        payee = uow.payees.get(payment.tenant_id, payment.payee_id)
        deliver_by = deliver_by_date(send_on, payee.lead_days, is_business_day)
        if payment.due_on is not None:
            check_arrives_by(payment.due_on, send_on, payee.lead_days, is_business_day)
    memo = payment.memo if command.memo is None else (command.memo or None)
    check_daily_total(uow, tenant, payment.customer_id, amount, send_on, replacing=payment)
    changed = payment.change(
        amount=amount,
        send_on=send_on,
        deliver_by=deliver_by,
        memo=memo,
        requested_send_on=requested,
        at=now,
    )
    if not changed:
        return
    uow.payments.save(payment)
    if payment.is_due(today):
        queue_processing(uow, payment, ids=ids, at=now)


def hold_for_queueing(uow: UnitOfWork, payments: Iterable[Payment]) -> None:
    """Hold the customers of payments about to be queued, so none is changed meanwhile.

    Held in one order (tenant, then customer) so that two callers holding
    several customers never wait on each other in a circle.
    """
    for tenant_id, customer_id in sorted({(p.tenant_id, p.customer_id) for p in payments}):
        uow.customers.hold(tenant_id, customer_id)


def cancel_payment(command: CancelPayment, *, uow: UnitOfWork, clock: Clock) -> None:
    """Cancel a payment that has not been submitted to the processor."""
    payment = uow.payments.get(command.tenant_id, command.payment_id)
    payment.cancel(reason=command.reason, at=clock.now())
    uow.payments.save(payment)


def check_payable(parties: PaymentParties, *, accept_pending_payee: bool = False) -> None:
    """Refuse a payee or funding account that cannot take part in a payment now.

    With ``accept_pending_payee``, a payee whose account is still being
    verified passes: the payment is accepted, and held until the answer.
    """
    payee, funding, biller = parties.payee, parties.funding_account, parties.biller
    customer_id = parties.customer.id
    if payee.customer_id != customer_id:
        raise PayeeNotPayable("the payee belongs to another customer")
    if funding.customer_id != customer_id:
        raise FundingAccountNotUsable("the funding account belongs to another customer")
    if not (payee.is_payable or (accept_pending_payee and payee.awaits_verification)):
        raise PayeeNotPayable(
            f"payee is {payee.status.value} with verification {payee.verification_status.value}"
        )
    if biller is not None and not biller.is_payable:
        raise PayeeNotPayable(f"biller is {biller.status.value}")
    if not funding.is_usable:
        raise FundingAccountNotUsable(
            f"funding account verification is {funding.verification_status.value}"
        )


#: The inbox consumer under which queued payments are noted.
QUEUED = "payment-queued"


def queue_processing(
    uow: UnitOfWork,
    payment: Payment,
    *,
    ids: IdGenerator,
    at: datetime,
    job_id: str | None = None,
) -> None:
    """Put a payment.processing task in the outbox, ordered by the payment id.

    The first queueing of a payment is noted in the inbox (as consumer
    ``QUEUED``), so the periodic sweep queues each payment at most once.
    """
    uow.inbox.note(QUEUED, payment.id, at)
    task = ProcessPaymentTask(tenant_id=payment.tenant_id, payment_id=payment.id, job_id=job_id)
    send(uow, task, tenant_id=payment.tenant_id, ids=ids, at=at, ordering_key=payment.id)
