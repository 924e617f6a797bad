"""Checks once issued: print runs, mailing and expiry, stops and voids, the bank's paid items.

A check's payment is processing until the vendor mails it, completed from
then (the reconciler reads that from the check processor), and given back
to the customer, with an exception opened, if the check is stopped after
it was mailed or expires uncashed. A check stopped or voided before it
was mailed fails its payment instead: no money left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from cbp.domain.calendar import next_business_day
from cbp.domain.check import CHECK_LIFETIME_DAYS, Check, CheckStatus
from cbp.domain.errors import DomainError, NotFound
from cbp.domain.money import Money
from cbp.domain.payment import Payment, PaymentStatus
from cbp.domain.payment_exception import ExceptionKind
from cbp.ports.check_printer import PrintRun, PrintsChecks
from cbp.ports.processor import PaymentProcessor
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitsOfWork
from cbp.ports.system import BusinessCalendar, Clock, IdGenerator
from cbp.services import commands as c
from cbp.services.exceptions import fail_with_exception, return_with_exception

#: Why a payment's check stopped paying it, by how it ended.
STOPPED, VOIDED, EXPIRED = "check_stopped", "check_voided", "check_expired"


@dataclass
class PaidItems:
    """What a paid-items file did: checks marked cashed, and the items that matched none."""

    cashed: int = 0
    #: Items for checks this file, or an earlier one, already marked cashed.
    already_cashed: int = 0
    #: Items naming no check of the tenant's, by check number.
    unknown: list[int] = field(default_factory=list)
    #: Items the bank paid for another amount, or against a stopped, voided or expired check.
    refused: list[tuple[int, str]] = field(default_factory=list)


def print_checks(command: c.PrintChecks, *, processor: PaymentProcessor) -> PrintRun | None:
    """Run a print run, if the processor prints checks; None if it does not."""
    if not isinstance(processor, PrintsChecks):
        return None
    return processor.print_run()


def sweep_checks(
    command: c.SweepChecks,
    *,
    unit_of_work: UnitsOfWork,
    clock: Clock,
    ids: IdGenerator,
    calendar: BusinessCalendar,
) -> int:
    """Mark mailed the checks printed before today; expire those uncashed for their lifetime.

    The vendor mails a run's checks the business day after it. An expired
    check's payment is given back, and an exception opened. Returns how
    many checks moved.
    """
    now = clock.now()
    today = now.date()
    moved = 0
    with unit_of_work() as uow:
        for check in uow.checks.printed_before(today, limit=command.limit):
            assert check.printed_on is not None
            check.mailed(
                next_business_day(check.printed_on + timedelta(days=1), calendar.is_business_day)
            )
            uow.checks.save(check)
            moved += 1
        uow.commit()
    expired_by = today - timedelta(days=CHECK_LIFETIME_DAYS)
    with unit_of_work(read_only=True) as uow:
        stale = uow.checks.mailed_by(expired_by, limit=command.limit)
    for found in stale:
        with unit_of_work() as uow:
            check = uow.checks.get(found.reference) or found
            if not check.expire(today=today, at=now):
                continue
            uow.checks.save(check)
            payment = uow.payments.get(check.tenant_id, check.reference)
            _refund(uow, payment, EXPIRED, "the check was not cashed in time", ids=ids, check=check)
            uow.commit()
            moved += 1
    return moved


def stop_check(command: c.StopCheck, *, uow: UnitOfWork, clock: Clock, ids: IdGenerator) -> None:
    """Stop a payment's check before it is cashed; the next Positive Pay file tells the bank."""
    now = clock.now()
    payment = uow.payments.get(command.tenant_id, command.payment_id)
    check = uow.checks.get(payment.processor_reference or payment.id)
    if check is None or check.tenant_id != payment.tenant_id:
        raise NotFound("check of payment", command.payment_id)
    check.stop(at=now)
    uow.checks.save(check)
    _refund(uow, payment, STOPPED, "the check was stopped", ids=ids, check=check)


def void_check(command: c.VoidCheck, *, uow: UnitOfWork, clock: Clock, ids: IdGenerator) -> None:
    """Void a check not yet mailed; its payment fails, as no money left."""
    now = clock.now()
    check = uow.checks.by_number(command.tenant_id, command.check_number)
    if check is None:
        raise NotFound("check", str(command.check_number))
    check.void(at=now)
    uow.checks.save(check)
    payment = uow.payments.get(check.tenant_id, check.reference)
    _refund(uow, payment, VOIDED, "the check was voided", ids=ids, check=check)


def read_paid_items(command: c.ReadPaidItems, *, uow: UnitOfWork, clock: Clock) -> PaidItems:
    """Mark cashed each check the bank paid, for the amount it was issued for.

    An item for a check the tenant never issued, for another amount, or
    against a check stopped, voided or expired is reported, not applied:
    Positive Pay should have kept the bank from paying it. A file read twice
    cashes nothing twice.
    """
    now = clock.now()
    result = PaidItems()
    for item in command.items:
        check = uow.checks.by_number(command.tenant_id, item.check_number)
        if check is None:
            result.unknown.append(item.check_number)
            continue
        if check.status is CheckStatus.CASHED and check.cashed_on == item.paid_on:
            result.already_cashed += 1
            continue
        try:
            check.cashed(amount=Money(item.amount, check.amount.currency), on=item.paid_on, at=now)
        except DomainError as refusal:
            result.refused.append((item.check_number, str(refusal)))
            continue
        uow.checks.save(check)
        result.cashed += 1
    return result


def _refund(
    uow: UnitOfWork, payment: Payment, code: str, reason: str, *, ids: IdGenerator, check: Check
) -> None:
    """Give a check's payment back: returned if the check was mailed, failed if not."""
    at = check.closed_at
    assert at is not None
    if payment.status is PaymentStatus.COMPLETED:
        return_with_exception(uow, payment, code, reason, ids=ids, at=at)
    elif payment.status is PaymentStatus.PROCESSING:
        fail_with_exception(
            uow, payment, code, reason, ExceptionKind.from_failure_code(code), ids=ids, at=at
        )
    uow.payments.save(payment)
