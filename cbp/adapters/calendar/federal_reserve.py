"""The Federal Reserve's business days, from the ``holidays`` package."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any


class FederalReserveCalendar:
    """Weekdays that are not Federal Reserve holidays.

    The Fed does not move a Saturday holiday to the Friday before, unlike
    the federal government; the ``XFED`` calendar follows that rule. The
    ``holidays`` package (about 4 MiB) loads on the first question, so a
    process that never asks (a relay, most workers) does not carry it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holidays: Any = None

    def is_business_day(self, day: date) -> bool:
        """Whether the Fed settles payments on ``day``."""
        if day.weekday() >= 5:
            return False
        with self._lock:  # NOTE: the holidays object fills in years lazily; not thread-safe
            if self._holidays is None:
                import holidays

                self._holidays = holidays.financial_holidays("XFED")
            return day not in self._holidays
