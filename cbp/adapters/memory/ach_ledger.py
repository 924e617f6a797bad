"""The ACH originator's books in memory: for the embedded default's memory storage and tests."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from cbp.ports.ach_ledger import AchFileRecord, Backlog, EntryStanding, LedgerEntry, MakeFile
from cbp.ports.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class _Taken:
    entry: LedgerEntry
    file_name: str | None = None
    trace_number: str | None = None
    effective_date: date | None = None
    return_code: str | None = None


class InMemoryAchLedger:
    """An ``AchLedger`` in one process's memory, one lock around each call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Taken] = {}
        self._files: dict[str, AchFileRecord] = {}
        self._announced: set[str] = set()
        self._cut_offs: set[str] = set()

    def take(self, entry: LedgerEntry, *, within: UnitOfWork | None = None) -> None:
        """Record an entry for the next file; a second entry with its reference changes nothing.

        ``within`` an in-memory unit of work, the entry is taken when it commits.
        """
        with_commit = getattr(within, "with_commit", None)
        if with_commit is not None:
            with_commit(lambda: self.take(entry))
            return
        with self._lock:
            self._entries.setdefault(entry.reference, _Taken(entry))

    def standing(self, reference: str) -> EntryStanding | None:
        """Where the entry with this reference stands, or None if it was never taken."""
        with self._lock:
            taken = self._entries.get(reference)
        if taken is None:
            return None
        return EntryStanding(taken.entry.tenant_id, taken.effective_date, taken.return_code)

    def cut_off_taken(self, at: str) -> bool:
        """Whether the cut-off at this moment has been filed already."""
        with self._lock:
            return at in self._cut_offs

    def file_pending(self, *, cut_off: str | None, day_prefix: str, make: MakeFile) -> None:
        """Take the cut-off and file every pending entry, all or nothing."""
        with self._lock:
            pending = sorted(
                (t.entry for t in self._entries.values() if t.file_name is None),
                key=lambda e: (e.taken_at, e.reference),
            )
            if pending:
                filing = make(
                    Backlog(
                        pending=tuple(pending),
                        traced=sum(1 for t in self._entries.values() if t.trace_number),
                        files_today=sum(1 for n in self._files if n.startswith(day_prefix)),
                    )
                )
                made = filing.file
                for reference, trace in filing.traces.items():
                    self._entries[reference] = replace(
                        self._entries[reference],
                        file_name=made.name,
                        trace_number=trace,
                        effective_date=made.effective_date,
                    )
                self._files[made.name] = made
            if cut_off is not None:
                self._cut_offs.add(cut_off)

    def unannounced(self) -> Sequence[AchFileRecord]:
        """The files whose hand-off has not been recorded yet, by name."""
        with self._lock:
            return [f for name, f in sorted(self._files.items()) if name not in self._announced]

    def mark_announced(self, names: Sequence[str]) -> None:
        """The hand-offs of these files were recorded."""
        with self._lock:
            self._announced.update(names)

    def file(self, name: str) -> AchFileRecord | None:
        """A recorded file by name."""
        with self._lock:
            return self._files.get(name)

    def by_trace(self, trace_number: str) -> tuple[str, str] | None:
        """The reference and tenant of the entry filed under this trace number."""
        with self._lock:
            for reference, taken in self._entries.items():
                if taken.trace_number == trace_number:
                    return reference, taken.entry.tenant_id
        return None

    def note_return(self, reference: str, code: str) -> None:
        """The bank returned this entry with this R code."""
        with self._lock:
            if reference in self._entries:
                self._entries[reference] = replace(self._entries[reference], return_code=code)
