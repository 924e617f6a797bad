"""Recurring payments: schedules, and the job that makes their occurrences into payments."""

from __future__ import annotations

import logging
from datetime import datetime

from cbp.domain import identifiers
from cbp.domain.errors import ConcurrencyConflict, InvalidInput
from cbp.domain.money import Money
from cbp.domain.policy import PaymentPolicy
from cbp.domain.recurring import RecurringSchedule, ScheduleStatus
from cbp.domain.schedule_rules import Frequency
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitsOfWork
from cbp.ports.system import BusinessCalendar, Clock, IdGenerator
from cbp.services.choices import one_of
from cbp.services.commands import (
    ChangeNextOccurrence,
    ChangeRecurringPayment,
    CreateRecurringPayment,
    MakeDueOccurrences,
    SkipNextOccurrence,
)
from cbp.services.occurrences import OccurrenceMaker
from cbp.services.payments import check_payable

logger = logging.getLogger("cbp.recurring")


def create_recurring_payment(
    command: CreateRecurringPayment,
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdGenerator,
    calendar: BusinessCalendar,
    occurrences: OccurrenceMaker,
) -> str:
    """Set up a schedule after the checks a payment passes; make any occurrence due already.

    The first occurrence may not be sent before a new payment could be
    (the cut-off, holidays) nor beyond the tenant's scheduling window.
    """
    frequency = one_of(Frequency, command.frequency, "frequency")
    now = clock.now()
    parties = uow.parties.for_payment(
        command.tenant_id, command.customer_id, command.payee_id, command.funding_account_id
    )
    check_payable(parties, accept_pending_payee=True)
    policy = parties.tenant.policy
    amount = Money.of(command.amount, command.currency)
    policy.check_amount(amount)
    policy.resolve_send_on(  # NOTE: refuses a first date no new payment could have
        command.starts_on, now, calendar.is_business_day, field="starts_on"
    )
    schedule = RecurringSchedule.create(
        schedule_id=ids.new(identifiers.RECURRING_PAYMENT),
        tenant_id=parties.tenant.id,
        customer_id=parties.customer.id,
        payee_id=parties.payee.id,
        funding_account_id=parties.funding_account.id,
        amount=amount,
        memo=command.memo,
        frequency=frequency,
        starts_on=command.starts_on,
        ends_on=command.ends_on,
        count=command.count,
        at=now,
        is_business_day=calendar.is_business_day,
    )
    occurrences.make_due_and_save(uow, schedule, at=now)
    return schedule.id


def change_recurring_payment(
    command: ChangeRecurringPayment,
    *,
    uow: UnitOfWork,
    clock: Clock,
    calendar: BusinessCalendar,
    occurrences: OccurrenceMaker,
) -> None:
    """Change what future occurrences pay, or pause, resume or cancel the schedule.

    Payments already made from the schedule are not touched: each can be
    changed or cancelled on its own.
    """
    if command.amount is None and command.memo is None and command.status is None:
        raise InvalidInput("give at least one of amount, memo and status to change")
    now = clock.now()
    schedule = uow.schedules.get(command.tenant_id, command.schedule_id)
    policy = uow.tenants.get(schedule.tenant_id).policy
    if command.amount is not None or command.memo is not None:
        amount = schedule.amount
        if command.amount is not None:
            amount = Money.of(command.amount, schedule.amount.currency)
            policy.check_amount(amount)
        memo = schedule.memo if command.memo is None else (command.memo or None)
        schedule.change(amount=amount, memo=memo, at=now)
    if command.status is not None:
        _change_status(schedule, command.status, policy, now, calendar)
    occurrences.make_due_and_save(uow, schedule, at=now)


def change_next_occurrence(
    command: ChangeNextOccurrence,
    *,
    uow: UnitOfWork,
    clock: Clock,
    calendar: BusinessCalendar,
    occurrences: OccurrenceMaker,
) -> None:
    """Send the next occurrence alone on another date, or for another amount.

    The date follows a one-time payment's rules: a holiday or weekend moves
    to the next business day, and a date before the earliest possible one
    is refused.
    """
    if command.amount is None and command.send_on is None:
        raise InvalidInput("give at least one of amount and send_on to change")
    now = clock.now()
    schedule = uow.schedules.get(command.tenant_id, command.schedule_id)
    policy = uow.tenants.get(schedule.tenant_id).policy
    amount = None
    if command.amount is not None:
        amount = Money.of(command.amount, schedule.amount.currency)
        policy.check_amount(amount)
    send_on = None
    if command.send_on is not None:
        send_on = policy.resolve_send_on(command.send_on, now, calendar.is_business_day)
    schedule.change_next(
        send_on=send_on, amount=amount, at=now, is_business_day=calendar.is_business_day
    )
    occurrences.make_due_and_save(uow, schedule, at=now)


def skip_next_occurrence(
    command: SkipNextOccurrence,
    *,
    uow: UnitOfWork,
    clock: Clock,
    calendar: BusinessCalendar,
    occurrences: OccurrenceMaker,
) -> None:
    """Leave the next occurrence unpaid; the schedule ends if it was the last."""
    now = clock.now()
    schedule = uow.schedules.get(command.tenant_id, command.schedule_id)
    schedule.skip_next(at=now, is_business_day=calendar.is_business_day)
    occurrences.make_due_and_save(uow, schedule, at=now)


def make_due_occurrences(
    command: MakeDueOccurrences,
    *,
    unit_of_work: UnitsOfWork,
    clock: Clock,
    occurrences: OccurrenceMaker,
) -> int:
    """Make every occurrence due within the days ahead into a payment; return how many.

    Each schedule is made in a transaction of its own, with its stream's
    version checked: a scheduler that loses a race to another (two
    processes, or a customer's change) has its transaction, payment
    included, rolled back, so each occurrence becomes one payment. A
    schedule that fails for any other reason is logged and tried again on
    the next run; the schedules after it are made meanwhile.
    """
    with unit_of_work(read_only=True) as uow:
        due = uow.schedules.due(occurrences.due_by(clock.now()), limit=command.limit)
    made = 0
    for tenant_id, schedule_id in due:
        now = clock.now()
        try:
            with unit_of_work() as uow:
                schedule = uow.schedules.get(tenant_id, schedule_id)
                made += occurrences.make_due_and_save(uow, schedule, at=now)
                uow.commit()
        except ConcurrencyConflict:
            continue  # NOTE: another scheduler made these occurrences; its commit stands
        except Exception:  # NOTE: one schedule's fault must not hold up every other's
            logger.exception(
                "recurring payment not made",
                extra={"tenant_id": tenant_id, "schedule_id": schedule_id},
            )
    return made


def _change_status(
    schedule: RecurringSchedule,
    status: str,
    policy: PaymentPolicy,
    now: datetime,
    calendar: BusinessCalendar,
) -> None:
    if status == ScheduleStatus.PAUSED:
        schedule.pause(at=now)
    elif status == ScheduleStatus.ACTIVE:
        earliest = policy.earliest_send_on(now, calendar.is_business_day)
        schedule.resume(today=earliest, at=now, is_business_day=calendar.is_business_day)
    elif status == ScheduleStatus.CANCELLED:
        schedule.cancel(reason="cancelled by customer", at=now)
    else:
        raise InvalidInput("status must be active, paused or cancelled")
