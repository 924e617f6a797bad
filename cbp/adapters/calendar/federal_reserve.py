"""The Federal Reserve's business days, from the ``holidays`` package."""

from __future__ import annotations

import threading
from datetime import date

import holidays


class FederalReserveCalendar:
    """Weekdays that are not Federal Reserve holidays.

    The Fed does not move a Saturday holiday to the Friday before, unlike
    the federal government; the ``XFED`` calendar follows that rule.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holidays = holidays.financial_holidays("XFED")

    def is_business_day(self, day: date) -> bool:
        """Whether the Fed settles payments on ``day``."""
        if day.weekday() >= 5:
            return False
        with self._lock:  # NOTE: the holidays object fills in years lazily; not thread-safe
            return day not in self._holidays
