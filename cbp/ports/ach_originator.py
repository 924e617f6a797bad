"""The ACH origination hand-off: files out, returns and changes back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, kw_only=True)
class HandOff:
    """A NACHA file put where the bank's transmission system takes it, at a cut-off."""

    name: str
    entries: int
    total_debit_cents: int
    total_credit_cents: int
    effective_date: date
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class AchReturn:
    """An ODFI's return of one of our entries: its reference, and the R code."""

    reference: str
    tenant_id: str
    trace_number: str
    code: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class AchChange:
    """A notification of change: the bank's corrected details for an account we debited.

    Only what the C code corrects is set.
    """

    reference: str
    tenant_id: str
    trace_number: str
    code: str
    routing_number: str | None = field(default=None, repr=False)
    account_number: str | None = field(default=None, repr=False)
    account_type: str | None = None
    holder_name: str | None = field(default=None, repr=False)


@dataclass(frozen=True, kw_only=True)
class AchReturns:
    """What a return file held: returns, changes, and entries that match none of ours.

    ``unmatched`` names the trace numbers (the original entry's, where the
    entry says) that are none of ours; ``noted`` the changes that correct
    nothing kept of an account (a company name, an identification number).
    """

    returns: tuple[AchReturn, ...]
    changes: tuple[AchChange, ...]
    unmatched: tuple[str, ...] = ()
    noted: tuple[str, ...] = ()


@runtime_checkable
class AchOriginator(Protocol):
    """A processor that originates ACH files itself: cut-offs, and the ODFI's returns."""

    def cut_off(self, at: datetime, *, now: bool = False) -> list[HandOff]:
        """File what is pending if a cut-off has passed (or ``now``); the files not announced."""
        ...

    def mark_announced(self, names: list[str]) -> None:
        """The hand-offs of these files are recorded; stop returning them."""
        ...

    def read_returns(self, content: str) -> AchReturns:
        """The returns and notifications of change in a return file, matched to our entries."""
        ...
