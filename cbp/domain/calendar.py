"""Business-day arithmetic: deliver-by dates from lead days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

#: Answers whether a date is a banking business day.
IsBusinessDay = Callable[[date], bool]

#: No calendar has more than this many non-business days in a row.
_MAX_CLOSED_RUN = 30


def next_business_day(day: date, is_business_day: IsBusinessDay) -> date:
    """``day`` itself if it is a business day, else the first one after it."""
    return _nearest_business_day(day, is_business_day, step=1)


def _nearest_business_day(day: date, is_business_day: IsBusinessDay, *, step: int) -> date:
    """``day`` if it is a business day, else the first one stepping ``step`` days at a time."""
    for offset in range(_MAX_CLOSED_RUN):
        candidate = day + timedelta(days=offset * step)
        if is_business_day(candidate):
            return candidate
    raise ValueError(f"no business day within {_MAX_CLOSED_RUN} days of {day}")


def add_business_days(day: date, count: int, is_business_day: IsBusinessDay) -> date:
    """The business day ``count`` business days after ``day``.

    ``day`` is first moved to a business day, so a payment sent on a Saturday
    starts counting from Monday.
    """
    current = next_business_day(day, is_business_day)
    for _ in range(count):
        current = next_business_day(current + timedelta(days=1), is_business_day)
    return current


def previous_business_day(day: date, is_business_day: IsBusinessDay) -> date:
    """``day`` itself if it is a business day, else the last one before it."""
    return _nearest_business_day(day, is_business_day, step=-1)


def latest_send_on(arrive_by: date, lead_days: int, is_business_day: IsBusinessDay) -> date:
    """The last day a payment can be sent and still reach a payee with ``lead_days`` by a date.

    The inverse of ``deliver_by_date``: sent on this day it arrives by
    ``arrive_by``; sent on the next business day, it arrives after.
    """
    current = previous_business_day(arrive_by, is_business_day)
    for _ in range(lead_days):
        current = previous_business_day(current - timedelta(days=1), is_business_day)
    return current


def deliver_by_date(send_on: date, lead_days: int, is_business_day: IsBusinessDay) -> date:
    """When a payment sent on ``send_on`` reaches a biller with ``lead_days``."""
    if lead_days < 0:
        raise ValueError("lead days cannot be negative")
    return add_business_days(send_on, lead_days, is_business_day)


def weekdays_only(day: date) -> bool:
    """A calendar with weekends and no holidays, for tests and embedders."""
    return day.weekday() < 5
