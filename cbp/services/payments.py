"""Creating and cancelling one-time payments."""

from __future__ import annotations

from datetime import datetime

from cbp.domain import identifiers
from cbp.domain.calendar import deliver_by_date
from cbp.domain.errors import FundingAccountNotUsable, PayeeNotPayable
from cbp.domain.money import Money
from cbp.domain.payment import Payment
from cbp.ports import messages as m
from cbp.ports.contracts import ProcessPaymentTask
from cbp.ports.storage import PaymentParties, UnitOfWork, UnitOfWorkFactory
from cbp.ports.system import BusinessCalendar, Clock, IdGenerator
from cbp.services import auditing
from cbp.services.commands import CancelPayment, CreateOneTimePayment
from cbp.services.limits import check_customer_limits
from cbp.services.outbox import headers_for, send

#: The subscriber that consumes payment.processing tasks.
PAYMENT_PROCESSOR = "payment-processor"


def create_one_time_payment(
    command: CreateOneTimePayment,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    ids: IdGenerator,
    calendar: BusinessCalendar,
) -> str:
    """Validate and persist a payment in one transaction; queue it if due today.

    Every check runs before anything is stored: a payment that exists has
    passed them all and is ``scheduled``.
    """
    now = clock.now()
    with unit_of_work() as uow:
        parties = uow.parties.for_payment(
            command.tenant_id, command.customer_id, command.payee_id, command.funding_account_id
        )
        tenant, customer, payee = parties.tenant, parties.customer, parties.payee
        funding = parties.funding_account
        check_payable(parties)
        amount = Money.of(command.amount, command.currency)
        tenant.policy.check_amount(amount)
        is_business_day = calendar.is_business_day
        send_on = tenant.policy.resolve_send_on(command.send_on, now, is_business_day)
        check_customer_limits(uow, tenant, customer, amount, send_on)
        payment = Payment.create(
            payment_id=ids.new(identifiers.PAYMENT),
            tenant_id=tenant.id,
            customer_id=customer.id,
            payee_id=payee.id,
            funding_account_id=funding.id,
            amount=amount,
            send_on=send_on,
            deliver_by=deliver_by_date(send_on, payee.lead_days, is_business_day),
            memo=command.memo,
            requested_send_on=command.send_on if command.send_on not in (None, send_on) else None,
            at=now,
        )
        payment.validate(at=now)
        headers = headers_for(command, tenant.id)
        uow.payments.save(payment, headers)
        if payment.is_due(tenant.policy.local_now(now).date()):
            queue_processing(uow, payment, headers, ids=ids, at=now)
        auditing.record(
            uow,
            command,
            at=clock.now(),
            tenant_id=tenant.id,
            subject_id=payment.id,
            data={"amount": str(amount.amount), "currency": amount.currency},
        )
        uow.commit()
    return payment.id


def cancel_payment(
    command: CancelPayment, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> None:
    """Cancel a payment that has not been submitted to the processor."""
    with unit_of_work() as uow:
        payment = uow.payments.get(command.tenant_id, command.payment_id)
        payment.cancel(reason=command.reason, at=clock.now())
        uow.payments.save(payment, headers_for(command, payment.tenant_id))
        auditing.record(
            uow, command, at=clock.now(), tenant_id=payment.tenant_id, subject_id=payment.id
        )
        uow.commit()


def check_payable(parties: PaymentParties) -> None:
    """Refuse a payee or funding account that cannot take part in a payment now."""
    payee, funding, biller = parties.payee, parties.funding_account, parties.biller
    customer_id = parties.customer.id
    if payee.customer_id != customer_id:
        raise PayeeNotPayable("the payee belongs to another customer")
    if funding.customer_id != customer_id:
        raise FundingAccountNotUsable("the funding account belongs to another customer")
    if not payee.is_payable:
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
    headers: m.Headers,
    *,
    ids: IdGenerator,
    at: datetime,
    job_id: str | None = None,
) -> None:
    """Put a payment.processing task in the outbox, ordered by the payment id.

    The first queueing of a payment is noted in the inbox (as consumer
    ``QUEUED``), so the periodic sweep queues each payment at most once.
    """
    uow.inbox.claim(QUEUED, payment.id, at)
    task = ProcessPaymentTask(tenant_id=payment.tenant_id, payment_id=payment.id, job_id=job_id)
    send(uow, task, headers, ids=ids, at=at, ordering_key=payment.id)
