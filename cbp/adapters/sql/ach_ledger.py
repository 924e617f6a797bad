"""The ACH originator's books as tables of the deployment's database.

Shared by every process on every host; account numbers and file contents
are encrypted with the deployment's keys and rotated by ``cbp keys rotate``.
A filing holds the ledger's lock (``BEGIN IMMEDIATE`` on SQLite, an
advisory lock on PostgreSQL), so two processes never file the same entries.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, insert, select, text, update

from cbp.adapters.sql import schema as t
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.rows import must_utc
from cbp.adapters.sql.statements import dialect_insert, escape_like
from cbp.ports.ach_ledger import AchFileRecord, Backlog, EntryStanding, LedgerEntry, MakeFile
from cbp.ports.storage.unit_of_work import UnitOfWork

#: The advisory lock id that keeps a single filer on PostgreSQL.
_FILING_LOCK = 0x0CB9_AC40

_e = t.ach_entries.c
_f = t.ach_files.c


class SqlAchLedger:
    """An ``AchLedger`` on the main database, one transaction per call."""

    def __init__(self, engine: Engine, cipher: FieldCipher) -> None:
        self.engine = engine
        self.cipher = cipher

    def take(self, entry: LedgerEntry, *, within: UnitOfWork | None = None) -> None:
        """Record an entry for the next file; a second entry with its reference changes nothing.

        ``within`` a unit of work on this ledger's engine, the entry is one
        more statement of its transaction.
        """
        shared = getattr(within, "connection", None)
        if isinstance(shared, Connection) and shared.engine is self.engine:
            self._insert_entry(shared, entry)
            return
        with self.engine.begin() as conn:
            self._insert_entry(conn, entry)

    def _insert_entry(self, conn: Connection, entry: LedgerEntry) -> None:
        conn.execute(
            dialect_insert(conn)(t.ach_entries)
            .values(self._entry_values(entry))
            .on_conflict_do_nothing(index_elements=["reference"])
        )

    def standing(self, reference: str) -> EntryStanding | None:
        """Where the entry with this reference stands, or None if it was never taken."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_e.tenant_id, _e.effective_date, _e.return_code).where(
                    _e.reference == reference
                )
            ).first()
        return None if row is None else EntryStanding(*row)

    def cut_off_taken(self, at: str) -> bool:
        """Whether the cut-off at this moment has been filed already."""
        with self.engine.connect() as conn:
            c = t.ach_cut_offs.c
            return conn.execute(select(c.at).where(c.at == at)).first() is not None

    def file_pending(self, *, cut_off: str | None, day_prefix: str, make: MakeFile) -> None:
        """Take the cut-off and file every pending entry, as one transaction under the lock."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FILING_LOCK})
            if cut_off is not None:
                conn.execute(
                    dialect_insert(conn)(t.ach_cut_offs)
                    .values(at=cut_off)
                    .on_conflict_do_nothing(index_elements=["at"])
                )
            pending = conn.execute(
                select(t.ach_entries)
                .where(_e.file_name.is_(None))
                .order_by(_e.taken_at, _e.reference)
            ).all()
            if not pending:
                return
            filing = make(
                Backlog(
                    pending=tuple(self._entry(row) for row in pending),
                    traced=_count(conn, _e.trace_number.is_not(None)),
                    files_today=self._files_named(conn, day_prefix),
                )
            )
            made = filing.file
            conn.execute(insert(t.ach_files).values(self._file_values(made)))
            for reference, trace in filing.traces.items():
                conn.execute(
                    update(t.ach_entries)
                    .where(_e.reference == reference)
                    .values(
                        file_name=made.name,
                        trace_number=trace,
                        effective_date=made.effective_date,
                    )
                )

    def unannounced(self) -> Sequence[AchFileRecord]:
        """The files whose hand-off has not been recorded yet, by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.ach_files).where(_f.announced.is_(False)).order_by(_f.name)
            ).all()
        return [self._file(row) for row in rows]

    def mark_announced(self, names: Sequence[str]) -> None:
        """The hand-offs of these files were recorded."""
        if names:
            with self.engine.begin() as conn:
                conn.execute(
                    update(t.ach_files).where(_f.name.in_(list(names))).values(announced=True)
                )

    def file(self, name: str) -> AchFileRecord | None:
        """A recorded file by name."""
        with self.engine.connect() as conn:
            row = conn.execute(select(t.ach_files).where(_f.name == name)).first()
        return None if row is None else self._file(row)

    def by_trace(self, trace_number: str) -> tuple[str, str] | None:
        """The reference and tenant of the entry filed under this trace number."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_e.reference, _e.tenant_id).where(_e.trace_number == trace_number)
            ).first()
        return None if row is None else (row.reference, row.tenant_id)

    def note_return(self, reference: str, code: str) -> None:
        """The bank returned this entry with this R code."""
        with self.engine.begin() as conn:
            conn.execute(
                update(t.ach_entries).where(_e.reference == reference).values(return_code=code)
            )

    # -- rows ------------------------------------------------------------------

    def _entry_values(self, entry: LedgerEntry) -> dict[str, Any]:
        return {
            "reference": entry.reference,
            "tenant_id": entry.tenant_id,
            "transaction_code": entry.transaction_code,
            "routing_number": entry.routing_number,
            "account_number_enc": self.cipher.encrypt(entry.account_number),
            "amount_cents": entry.amount_cents,
            "name": entry.name,
            "taken_at": must_utc(entry.taken_at),
        }

    def _entry(self, row: Row[Any]) -> LedgerEntry:
        return LedgerEntry(
            reference=row.reference,
            tenant_id=row.tenant_id,
            transaction_code=row.transaction_code,
            routing_number=row.routing_number,
            account_number=self.cipher.decrypt(row.account_number_enc),
            amount_cents=row.amount_cents,
            name=row.name,
            taken_at=must_utc(row.taken_at),
        )

    def _file_values(self, made: AchFileRecord) -> dict[str, Any]:
        return {
            "name": made.name,
            "created_at": must_utc(made.created_at),
            "content_enc": self.cipher.encrypt(made.content),
            "entries": made.entries,
            "total_debit_cents": made.total_debit_cents,
            "total_credit_cents": made.total_credit_cents,
            "effective_date": made.effective_date,
        }

    def _file(self, row: Row[Any]) -> AchFileRecord:
        return AchFileRecord(
            name=row.name,
            created_at=must_utc(row.created_at),
            content=self.cipher.decrypt(row.content_enc),
            entries=row.entries,
            total_debit_cents=row.total_debit_cents,
            total_credit_cents=row.total_credit_cents,
            effective_date=row.effective_date,
        )

    @staticmethod
    def _files_named(conn: Connection, prefix: str) -> int:
        escaped = escape_like(prefix)
        return int(
            conn.execute(
                select(func.count())
                .select_from(t.ach_files)
                .where(_f.name.like(f"{escaped}%", escape="\\"))
            ).scalar_one()
        )


def _count(conn: Connection, condition: Any) -> int:
    return int(
        conn.execute(select(func.count()).select_from(t.ach_entries).where(condition)).scalar_one()
    )


@dataclass(frozen=True)
class ImportedLedger:
    """What moving a ledger file in added (rows already in the database are skipped)."""

    entries: int
    files: int
    cut_offs: int


def import_ledger_file(engine: Engine, cipher: FieldCipher, path: Path) -> ImportedLedger:
    """Move the books an earlier cbp kept in a SQLite file of their own into the database.

    The file is only read. Account numbers and contents are encrypted on the
    way in, and rows already moved are skipped, so a second run adds nothing.
    ValueError when the file is not such a ledger.
    """
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        try:
            entries = source.execute(
                "SELECT reference, tenant_id, transaction_code, routing_number, account_number, "
                "amount_cents, name, taken_at, file_name, trace_number, effective_date, "
                "return_code FROM entries"
            ).fetchall()
            files = source.execute(
                "SELECT name, created_at, content, entries, total_debit, total_credit, "
                "effective_date, announced FROM files"
            ).fetchall()
            cut_offs = [at for (at,) in source.execute("SELECT at FROM cut_offs")]
        except sqlite3.DatabaseError:
            raise ValueError(f"{path} is not a nacha ledger file") from None
    finally:
        source.close()
    ledger = SqlAchLedger(engine, cipher)
    with engine.begin() as conn:
        known_entries = set(conn.execute(select(_e.reference)).scalars())
        known_files = set(conn.execute(select(_f.name)).scalars())
        known_cut_offs = set(conn.execute(select(t.ach_cut_offs.c.at)).scalars())
        new_files = [row for row in files if row[0] not in known_files]
        for name, created, content, count, debit, credit, effective, announced in new_files:
            made = AchFileRecord(
                name=name,
                created_at=datetime.fromisoformat(created),
                content=content,
                entries=count,
                total_debit_cents=debit,
                total_credit_cents=credit,
                effective_date=date.fromisoformat(effective),
            )
            conn.execute(
                insert(t.ach_files).values(
                    {**ledger._file_values(made), "announced": bool(announced)}
                )
            )
        new_entries = [row for row in entries if row[0] not in known_entries]
        for row in new_entries:
            reference, tenant, code, routing, account, cents, name, taken = row[:8]
            file_name, trace, effective, returned = row[8:]
            entry = LedgerEntry(
                reference=reference,
                tenant_id=tenant,
                transaction_code=code,
                routing_number=routing,
                account_number=account,
                amount_cents=cents,
                name=name,
                taken_at=datetime.fromisoformat(taken),
            )
            conn.execute(
                insert(t.ach_entries).values(
                    {
                        **ledger._entry_values(entry),
                        "file_name": file_name,
                        "trace_number": trace,
                        "effective_date": date.fromisoformat(effective) if effective else None,
                        "return_code": returned,
                    }
                )
            )
        new_cut_offs = [at for at in cut_offs if at not in known_cut_offs]
        if new_cut_offs:
            conn.execute(insert(t.ach_cut_offs), [{"at": at} for at in new_cut_offs])
    return ImportedLedger(len(new_entries), len(new_files), len(new_cut_offs))
