"""When a recurring schedule pays: its frequencies, and the date of each occurrence.

A weekly rule's date that is not a business day rolls forward; a monthly
or yearly one rolls forward unless that leaves its month, and then back
("modified following"), so that every month has its one payment. A day
the month lacks is the month's last day.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date, timedelta

from cbp.domain.calendar import IsBusinessDay, next_business_day
from cbp.domain.money import Money


class Frequency(enum.StrEnum):
    """How often a schedule pays."""

    WEEKLY = "weekly"
    EVERY_TWO_WEEKS = "every_two_weeks"
    MONTHLY = "monthly"
    MONTHLY_LAST_BUSINESS_DAY = "monthly_last_business_day"
    YEARLY = "yearly"


def add_months(day: date, months: int, day_of_month: int) -> date:
    """``day_of_month`` in the month ``months`` after ``day``'s, or that month's last day."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day_of_month, last))


def last_business_day(year: int, month: int, is_business_day: IsBusinessDay) -> date:
    """The month's last business day."""
    day = date(year, month, calendar.monthrange(year, month)[1])
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


def rule_date(
    frequency: Frequency, starts_on: date, index: int, is_business_day: IsBusinessDay
) -> date:
    """The date the rule names for occurrence ``index`` (from 0), before any move.

    Monthly and yearly rules keep ``starts_on``'s day of the month, or the
    month's last day when it has fewer (the 31st is the 30th in April, the
    28th or 29th in February). The last-business-day rule starts with
    ``starts_on``'s month, or the next month if that month's last business
    day has passed.
    """
    if index < 0:
        raise ValueError("occurrences are numbered from 0")
    match frequency:
        case Frequency.WEEKLY:
            return starts_on + timedelta(weeks=index)
        case Frequency.EVERY_TWO_WEEKS:
            return starts_on + timedelta(weeks=2 * index)
        case Frequency.MONTHLY:
            return add_months(starts_on, index, starts_on.day)
        case Frequency.YEARLY:
            return add_months(starts_on, 12 * index, starts_on.day)
        case Frequency.MONTHLY_LAST_BUSINESS_DAY:
            first = last_business_day(starts_on.year, starts_on.month, is_business_day)
            shift = index if first >= starts_on else index + 1
            month = add_months(starts_on, shift, 1)
            return last_business_day(month.year, month.month, is_business_day)


def occurrence_date(
    frequency: Frequency, starts_on: date, index: int, is_business_day: IsBusinessDay
) -> date:
    """The business day occurrence ``index`` (from 0) of a rule starting on ``starts_on`` is sent.

    A weekly rule's date rolls forward to the next business day. A monthly
    or yearly one does too unless that leaves its month; then it rolls back
    to the month's last business day before it (modified following), so a
    bill due on the 31st is never paid in the next month.
    """
    day = rule_date(frequency, starts_on, index, is_business_day)
    if frequency in (Frequency.WEEKLY, Frequency.EVERY_TWO_WEEKS):
        return next_business_day(day, is_business_day)
    return modified_following(day, is_business_day)


def modified_following(day: date, is_business_day: IsBusinessDay) -> date:
    """The next business day from ``day``, unless in the next month: then the one before."""
    forward = next_business_day(day, is_business_day)
    if forward.month == day.month:
        return forward
    back = day
    while not is_business_day(back):
        back -= timedelta(days=1)
    return back


@dataclass(frozen=True, kw_only=True)
class Occurrence:
    """One payment a schedule is to make: its number, date and amount."""

    index: int
    send_on: date
    amount: Money
    #: The rule's own date, where it was moved to ``send_on`` (not a business day).
    requested_send_on: date | None = None
