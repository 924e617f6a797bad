"""Time, identity and the banking calendar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol


class Clock(Protocol):
    """The current time, always timezone-aware UTC."""

    def now(self) -> datetime:
        """The current instant."""
        ...


class IdGenerator(Protocol):
    """Makes new, time-ordered, prefixed identifiers."""

    def new(self, prefix: str) -> str:
        """A fresh id such as ``pmt_...``."""
        ...


class BusinessCalendar(Protocol):
    """Says which days banks settle payments."""

    def is_business_day(self, day: date) -> bool:
        """Whether ``day`` is a banking business day."""
        ...
