"""The books of an ACH originator: entries taken, the files they went out in, returns noted.

The nacha processor keeps its books through this port, so that they live
in the deployment's own database (tables beside the payments, encrypted
and migrated like them) and every process on every host shares them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from cbp.ports.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True, kw_only=True)
class LedgerEntry:
    """One debit or credit taken for the next file, keyed by the payment's reference."""

    reference: str
    tenant_id: str
    transaction_code: int
    routing_number: str
    account_number: str = field(repr=False)
    amount_cents: int
    name: str
    taken_at: datetime


@dataclass(frozen=True)
class EntryStanding:
    """Where a taken entry stands: filed for a date or not yet, returned or not."""

    tenant_id: str
    effective_date: date | None
    return_code: str | None


@dataclass(frozen=True, kw_only=True)
class AchFileRecord:
    """A file as it was made: its bytes and its totals, recorded before it is written out."""

    name: str
    created_at: datetime
    content: str = field(repr=False)
    entries: int
    total_debit_cents: int
    total_credit_cents: int
    effective_date: date


@dataclass(frozen=True)
class Backlog:
    """What a filing starts from: the entries still pending, in the order they were taken."""

    pending: tuple[LedgerEntry, ...]
    #: Entries given a trace number so far (trace numbers continue from here).
    traced: int
    #: Files already made whose name starts with the day's prefix.
    files_today: int


@dataclass(frozen=True)
class Filing:
    """A file made from a backlog, and each entry's trace number in it."""

    file: AchFileRecord
    traces: Mapping[str, str]


#: Makes the file for a backlog that is not empty.
MakeFile = Callable[[Backlog], Filing]


class AchLedger(Protocol):
    """The originator's books, shared by every process; each method is one transaction."""

    def take(self, entry: LedgerEntry, *, within: UnitOfWork | None = None) -> None:
        """Record an entry for the next file; a second entry with its reference changes nothing.

        ``within``, a unit of work on the books' own database, takes the
        entry in that unit of work's transaction: it is kept if and only if
        the unit of work commits. Without it, the entry is a transaction of
        its own.
        """
        ...

    def standing(self, reference: str) -> EntryStanding | None:
        """Where the entry with this reference stands, or None if it was never taken."""
        ...

    def cut_off_taken(self, at: str) -> bool:
        """Whether the cut-off at this moment (ISO 8601, local) has been filed already."""
        ...

    def file_pending(self, *, cut_off: str | None, day_prefix: str, make: MakeFile) -> None:
        """Take the cut-off and file every pending entry, as one transaction that one process holds.

        ``make`` is called only when entries are pending; what it returns is
        recorded with the entries' trace numbers, or nothing is if it raises.
        """
        ...

    def unannounced(self) -> Sequence[AchFileRecord]:
        """The files whose hand-off has not been recorded yet, by name."""
        ...

    def mark_announced(self, names: Sequence[str]) -> None:
        """The hand-offs of these files were recorded."""
        ...

    def file(self, name: str) -> AchFileRecord | None:
        """A recorded file by name."""
        ...

    def by_trace(self, trace_number: str) -> tuple[str, str] | None:
        """The reference and tenant of the entry filed under this trace number."""
        ...

    def note_return(self, reference: str, code: str) -> None:
        """The bank returned this entry with this R code."""
        ...
