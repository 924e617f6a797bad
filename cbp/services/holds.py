"""Payments held while their payee's account is verified: released or failed on the answer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import groupby

from cbp.domain.calendar import deliver_by_date
from cbp.domain.payee import Payee
from cbp.domain.payment import Payment, PaymentStatus
from cbp.domain.payment_exception import ExceptionKind
from cbp.domain.verification import VerificationStatus
from cbp.ports.storage.payments import PaymentFilter
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.ports.system import BusinessCalendar, Clock, IdGenerator
from cbp.services.commands import SettleHeldPayments
from cbp.services.exceptions import fail_with_exception
from cbp.services.inbox import already_consumed
from cbp.services.payments import hold_for_queueing, queue_processing

#: The failure code of a held payment whose payee failed verification.
PAYEE_VERIFICATION_FAILED = "payee_verification_failed"
#: Why a payment is held while its payee is suspended.
PAYEE_SUSPENDED = "payee_suspended"

_CONSUMER = "settle_held_payments"
_PAGE = 500


def settle_held_payments(
    command: SettleHeldPayments,
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdGenerator,
    calendar: BusinessCalendar,
) -> int:
    """Release or fail the payments held on payees whose verification has an answer.

    Given a payee (its ``AccountVerified`` event), that payee's held payments;
    without one (the periodic sweep), up to ``limit`` held payments of payees
    that have their answer, which settles any payment held while its payee's
    answer was being committed. A payee still pending keeps its payments
    held. Returns how many were settled.

    A released payment goes on its own send-on date, or on the earliest
    date it still can if that has passed; one due now is queued at once.
    """
    now = clock.now()
    settled = 0
    if already_consumed(uow, _CONSUMER, command.message_id, at=now):
        return 0
    held = sorted(_held(uow, command), key=lambda p: (p.tenant_id, p.payee_id, p.id))
    # NOTE: every customer at once, in the one order all holders take, before any
    # stream is read again: a release queues payments as the sweep does
    hold_for_queueing(uow, held)
    for (tenant_id, payee_id), group in groupby(held, key=lambda p: (p.tenant_id, p.payee_id)):
        payee = uow.payees.get(tenant_id, payee_id)
        if payee.verification_status is VerificationStatus.PENDING or payee.is_suspended:
            continue
        payments = [uow.payments.get(tenant_id, p.id) for p in group]
        payments = [p for p in payments if p.status is PaymentStatus.HELD]
        if payee.verification_status is VerificationStatus.VERIFIED:
            _release(uow, payments, payee, calendar=calendar, ids=ids, at=now)
        else:
            _fail(uow, payments, ids=ids, at=now)
        settled += len(payments)
    return settled


def hold_payments_to(payee: Payee, *, uow: UnitOfWork, at: datetime) -> int:
    """Hold the payments to a suspended payee that wait for their send-on date; how many.

    Each is released, on its own date or the earliest left, once the payee
    is active and verified again.
    """
    waiting = _payments_to(uow, payee.tenant_id, payee.id, PaymentStatus.SCHEDULED)
    hold_for_queueing(uow, waiting)
    held = 0
    for payment in (uow.payments.get(p.tenant_id, p.id) for p in waiting):
        if payment.status is PaymentStatus.SCHEDULED:  # NOTE: not queued meanwhile
            payment.hold(reason=PAYEE_SUSPENDED, at=at)
            uow.payments.save(payment)
            held += 1
    return held


def _held(uow: UnitOfWork, command: SettleHeldPayments) -> Iterable[Payment]:
    if command.tenant_id is None or command.payee_id is None:
        return uow.payments.held_on_answered_payees(limit=command.limit)
    return _payments_to(uow, command.tenant_id, command.payee_id, PaymentStatus.HELD)


def _payments_to(
    uow: UnitOfWork, tenant_id: str, payee_id: str, status: PaymentStatus
) -> list[Payment]:
    query = PaymentFilter(tenant_id=tenant_id, payee_id=payee_id, status=status)
    found: list[Payment] = []
    cursor: str | None = None
    while True:
        page = uow.payments.find(query, cursor=cursor, limit=_PAGE)
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def _release(
    uow: UnitOfWork,
    payments: list[Payment],
    payee: Payee,
    *,
    calendar: BusinessCalendar,
    ids: IdGenerator,
    at: datetime,
) -> None:
    if not payments:
        return
    policy = uow.tenants.get(payee.tenant_id).policy
    earliest = policy.earliest_send_on(at, calendar.is_business_day)
    today = policy.local_now(at).date()
    for payment in payments:
        send_on, deliver_by = payment.send_on, payment.deliver_by
        if send_on < earliest:
            send_on = earliest
            deliver_by = deliver_by_date(send_on, payee.lead_days, calendar.is_business_day)
        payment.release(send_on=send_on, deliver_by=deliver_by, at=at)
        uow.payments.save(payment)
        if payment.is_due(today):
            queue_processing(uow, payment, ids=ids, at=at)


def _fail(
    uow: UnitOfWork,
    payments: list[Payment],
    *,
    ids: IdGenerator,
    at: datetime,
) -> None:
    for payment in payments:
        fail_with_exception(
            uow,
            payment,
            PAYEE_VERIFICATION_FAILED,
            "the payee's account number failed verification",
            ExceptionKind.INVALID_ACCOUNT,
            ids=ids,
            at=at,
        )
        uow.payments.save(payment)
