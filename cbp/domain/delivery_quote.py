"""When a payment would arrive: the answer a customer sees before confirming."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from cbp.domain.calendar import IsBusinessDay, deliver_by_date, latest_send_on
from cbp.domain.errors import ArrivesAfterDueDate, InvalidInput
from cbp.domain.payee import Payee
from cbp.domain.policy import PaymentPolicy

#: How far from today and the scheduling window a due date may be, in days.
_A_YEAR = 366


@dataclass(frozen=True, kw_only=True)
class DeliveryQuote:
    """A payment to a payee sent on a date: when it arrives, and whether by a due date."""

    payee_id: str
    #: The day it would be sent: the one asked for (moved to a business day), or the earliest.
    send_on: date
    #: The day asked for, when it was not a business day and ``send_on`` moved off it.
    requested_send_on: date | None
    #: When the payee has it, by the payee's lead days on the business calendar.
    deliver_by: date
    #: The bill's due date, when one was given.
    due_on: date | None
    #: The last send-on date that arrives by ``due_on`` (None without a due date).
    latest_send_on: date | None

    @property
    def on_time(self) -> bool | None:
        """Whether it arrives by the due date; None without one."""
        return None if self.due_on is None else self.deliver_by <= self.due_on


def quote_delivery(
    payee: Payee,
    policy: PaymentPolicy,
    *,
    now: datetime,
    is_business_day: IsBusinessDay,
    send_on: date | None = None,
    due_on: date | None = None,
) -> DeliveryQuote:
    """Quote a payment to ``payee``: sent on ``send_on`` (or the earliest day), arriving when.

    A send-on date the tenant's policy refuses (before the earliest, beyond
    the scheduling window) is refused as it would be for the payment itself;
    a due date more than a year from the window is no bill's.
    """
    resolved = policy.resolve_send_on(send_on, now, is_business_day)
    if due_on is not None:
        today = policy.local_now(now).date()
        if not -_A_YEAR <= (due_on - today).days <= policy.max_days_ahead + _A_YEAR:
            raise InvalidInput(
                f"due_on must be within a year before today and "
                f"{policy.max_days_ahead + _A_YEAR} days after it"
            )
    return DeliveryQuote(
        payee_id=payee.id,
        send_on=resolved,
        requested_send_on=send_on if send_on not in (None, resolved) else None,
        deliver_by=deliver_by_date(resolved, payee.lead_days, is_business_day),
        due_on=due_on,
        latest_send_on=(
            None if due_on is None else latest_send_on(due_on, payee.lead_days, is_business_day)
        ),
    )


def check_arrives_by(
    due_on: date, send_on: date, lead_days: int, is_business_day: IsBusinessDay
) -> date:
    """The deliver-by date of a payment sent on ``send_on``; refused if after ``due_on``.

    The refusal names the latest send-on date that would have arrived in
    time (one before ``send_on``: the payment should have gone already).
    """
    deliver_by = deliver_by_date(send_on, lead_days, is_business_day)
    if due_on < send_on:
        raise ArrivesAfterDueDate(
            f"the due date {due_on.isoformat()} is before the send-on date {send_on.isoformat()}"
        )
    if deliver_by > due_on:
        latest = latest_send_on(due_on, lead_days, is_business_day)
        raise ArrivesAfterDueDate(
            f"sent on {send_on.isoformat()}, the payment arrives on {deliver_by.isoformat()}, "
            f"after the due date {due_on.isoformat()}; the latest send-on date that arrives "
            f"in time is {latest.isoformat()}"
        )
    return deliver_by
