"""A processor that prints checks itself: its print runs, and the bank's paid items back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol, runtime_checkable

from cbp.ports.storage.checks import CheckFile


@dataclass(frozen=True, kw_only=True)
class PrintRun:
    """What one print run wrote: its files, and the checks printed or voided unprinted."""

    files: tuple[CheckFile, ...]
    printed: int
    voided: int


@dataclass(frozen=True)
class PaidItem:
    """One check the bank paid, as its paid-items file says: number, amount, day, and row."""

    row: int
    check_number: int
    amount: Decimal
    paid_on: date


@runtime_checkable
class PrintsChecks(Protocol):
    """Writes the print and Positive Pay files of the checks issued since the last run."""

    def print_run(self, *, limit: int = 5000) -> PrintRun:
        """Print the issued checks (up to ``limit``): a print and a Positive Pay file per tenant."""
        ...
