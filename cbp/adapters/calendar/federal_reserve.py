"""The Federal Reserve's business days: weekdays that are not its holidays.

The Fed observes the eleven federal holidays (Juneteenth from 2021) with
one difference from the federal government: a holiday that falls on a
Saturday is not moved to the Friday before, when the Reserve Banks are
open; one that falls on a Sunday is observed on the Monday after. The
rules are written here rather than loaded from the ``holidays`` package,
which cost every process that asked 13 MiB for one calendar; the test
suite checks them against that package's ``XFED`` calendar, day by day.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

MONDAY, THURSDAY, SATURDAY, SUNDAY = 0, 3, 5, 6
#: The first year Juneteenth National Independence Day was a holiday.
JUNETEENTH_SINCE = 2021


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``-th ``weekday`` of the month (``n`` = -1: the last)."""
    if n < 0:
        last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def federal_reserve_holidays(year: int) -> frozenset[date]:
    """The days the Reserve Banks are closed in ``year``, weekends aside."""
    fixed = [date(year, 1, 1), date(year, 7, 4), date(year, 11, 11), date(year, 12, 25)]
    if year >= JUNETEENTH_SINCE:
        fixed.append(date(year, 6, 19))
    observed = {day + timedelta(days=1) if day.weekday() == SUNDAY else day for day in fixed}
    return frozenset(
        {
            *observed,
            _nth_weekday(year, 1, MONDAY, 3),  # Birthday of Martin Luther King, Jr.
            _nth_weekday(year, 2, MONDAY, 3),  # Washington's Birthday
            _nth_weekday(year, 5, MONDAY, -1),  # Memorial Day
            _nth_weekday(year, 9, MONDAY, 1),  # Labor Day
            _nth_weekday(year, 10, MONDAY, 2),  # Columbus Day
            _nth_weekday(year, 11, THURSDAY, 4),  # Thanksgiving Day
        }
    )


class FederalReserveCalendar:
    """Weekdays that are not Federal Reserve holidays."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._years: dict[int, frozenset[date]] = {}

    def is_business_day(self, day: date) -> bool:
        """Whether the Fed settles payments on ``day``."""
        if day.weekday() >= SATURDAY:
            return False
        holidays = self._years.get(day.year)
        if holidays is None:
            with self._lock:
                holidays = self._years.setdefault(day.year, federal_reserve_holidays(day.year))
        return day not in holidays
