"""The nacha processor's books in the main database: shared, encrypted, rotated, moved in."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from cbp.adapters.sql import schema as t
from cbp.adapters.sql.ach_ledger import ImportedLedger, SqlAchLedger, import_ledger_file
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.engine import build_engine
from cbp.adapters.sql.maintenance import rotate_encryption_keys
from cbp.ports.ach_ledger import AchFileRecord, Backlog, Filing, LedgerEntry

ENGINES = ["sqlite_engine", pytest.param("postgres_engine", marks=pytest.mark.services)]
ACCOUNT = "000123456789"
TAKEN = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def entry(n: int, account: str = ACCOUNT) -> LedgerEntry:
    return LedgerEntry(
        reference=f"pay_{n:04d}",
        tenant_id="ten_1",
        transaction_code=27,
        routing_number="011000015",
        account_number=account,
        amount_cents=1000 + n,
        name="ADA LOVELACE",
        taken_at=TAKEN,
    )


def make_file(backlog: Backlog, *, pause: float = 0.0) -> Filing:
    """A stand-in for the NACHA writer: one line per entry, account numbers in the clear."""
    time.sleep(pause)  # NOTE: a slow writer, so that a second filer would overlap it
    traces = {
        e.reference: f"01100001{backlog.traced + n:07d}"
        for n, e in enumerate(backlog.pending, start=1)
    }
    return Filing(
        AchFileRecord(
            name=f"ach-20260302-{backlog.files_today}.ach",
            created_at=TAKEN,
            content="\n".join(f"{e.reference} {e.account_number}" for e in backlog.pending),
            entries=len(backlog.pending),
            total_debit_cents=sum(e.amount_cents for e in backlog.pending),
            total_credit_cents=0,
            effective_date=date(2026, 3, 3),
        ),
        traces,
    )


def test_the_books_hold_no_account_number_in_the_clear_and_rotate_with_the_keys(
    engine: Engine,
) -> None:
    old_key, new_key = FieldCipher.generate_key(), FieldCipher.generate_key()
    ledger = SqlAchLedger(engine, FieldCipher([old_key]))
    ledger.take(entry(1))
    ledger.file_pending(cut_off=None, day_prefix="ach-20260302-", make=make_file)
    with engine.connect() as conn:
        dump = repr([*conn.execute(select(t.ach_entries)), *conn.execute(select(t.ach_files))])
    assert ACCOUNT not in dump and "pay_0001" in dump

    assert rotate_encryption_keys(engine, FieldCipher([new_key, old_key])) == 2
    rotated = SqlAchLedger(engine, FieldCipher([new_key]))
    recorded = rotated.file("ach-20260302-0.ach")
    assert recorded is not None and recorded.content == f"pay_0001 {ACCOUNT}"
    with pytest.raises(ValueError, match="cannot be decrypted"):
        SqlAchLedger(engine, FieldCipher([old_key])).unannounced()


def test_two_processes_cutting_off_at_once_file_each_entry_once(engine: Engine) -> None:
    cipher = FieldCipher([FieldCipher.generate_key()])
    other_engine = build_engine(engine.url.render_as_string(hide_password=False))
    ledgers = [SqlAchLedger(engine, cipher), SqlAchLedger(other_engine, cipher)]
    for n in range(20):
        ledgers[n % 2].take(entry(n))
    ledgers[0].take(entry(0, account="999"))  # NOTE: a repeat changes nothing
    errors: list[BaseException] = []

    def cut_off(ledger: SqlAchLedger) -> None:
        try:
            ledger.file_pending(
                cut_off="2026-03-02T16:00:00-05:00",
                day_prefix="ach-20260302-",
                make=lambda backlog: make_file(backlog, pause=0.3),
            )
        except BaseException as error:  # NOTE: reported below, in the test thread
            errors.append(error)

    threads = [threading.Thread(target=cut_off, args=(ledger,)) for ledger in ledgers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other_engine.dispose()

    assert errors == []
    (only,) = ledgers[0].unannounced()
    assert only.entries == 20 and only.content.count(ACCOUNT) == 20
    assert ledgers[0].cut_off_taken("2026-03-02T16:00:00-05:00")
    assert {ledgers[1].by_trace(f"01100001{n + 1:07d}") for n in range(20)} == {
        (f"pay_{n:04d}", "ten_1") for n in range(20)
    }


#: The books as an earlier cbp kept them: a SQLite file of their own, accounts in the clear.
LEGACY_SCHEMA = """
CREATE TABLE entries (
    reference TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, transaction_code INTEGER NOT NULL,
    routing_number TEXT NOT NULL, account_number TEXT NOT NULL, amount_cents INTEGER NOT NULL,
    name TEXT NOT NULL, taken_at TEXT NOT NULL, file_name TEXT, trace_number TEXT UNIQUE,
    effective_date TEXT, return_code TEXT
);
CREATE TABLE files (
    name TEXT PRIMARY KEY, created_at TEXT NOT NULL, content TEXT NOT NULL,
    sha256 TEXT NOT NULL, entries INTEGER NOT NULL, total_debit INTEGER NOT NULL,
    total_credit INTEGER NOT NULL, effective_date TEXT NOT NULL,
    announced INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE cut_offs (at TEXT PRIMARY KEY);
"""


def legacy_ledger(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.executescript(LEGACY_SCHEMA)
    row = "INSERT INTO entries VALUES (?, 'ten_1', 27, '011000015', ?, ?, 'ADA', ?, ?, ?, ?, ?)"
    db.execute(row, ("pay_filed", ACCOUNT, 1500, TAKEN.isoformat(), "old.ach", "011000010000001",
                     "2026-03-03", "R01"))  # fmt: skip
    db.execute(row, ("pay_pending", "4417", 2500, TAKEN.isoformat(), None, None, None, None))
    db.execute(
        "INSERT INTO files VALUES ('old.ach', ?, 'old content', 'x', 1, 1500, 0, '2026-03-03', 0)",
        (TAKEN.isoformat(),),
    )
    db.execute("INSERT INTO cut_offs VALUES ('2026-03-02T16:00:00-05:00')")
    db.commit()
    db.close()
    return path


def test_a_ledger_file_of_an_earlier_version_moves_in_once(engine: Engine, tmp_path: Path) -> None:
    cipher = FieldCipher([FieldCipher.generate_key()])
    path = legacy_ledger(tmp_path / "cbp-ach.db")

    assert import_ledger_file(engine, cipher, path) == ImportedLedger(2, 1, 1)
    assert import_ledger_file(engine, cipher, path) == ImportedLedger(0, 0, 0)

    ledger = SqlAchLedger(engine, cipher)
    standing = ledger.standing("pay_filed")
    assert standing is not None
    assert (standing.effective_date, standing.return_code) == (date(2026, 3, 3), "R01")
    assert ledger.by_trace("011000010000001") == ("pay_filed", "ten_1")
    assert [f.content for f in ledger.unannounced()] == ["old content"]
    assert ledger.cut_off_taken("2026-03-02T16:00:00-05:00")
    ledger.file_pending(cut_off=None, day_prefix="ach-20260302-", make=make_file)
    recorded = ledger.file("ach-20260302-0.ach")
    assert recorded is not None and recorded.content == "pay_pending 4417"
    with engine.connect() as conn:
        stored = conn.execute(select(t.ach_entries.c.account_number_enc)).scalars().all()
    assert ACCOUNT not in repr(stored)


def test_a_file_that_is_not_a_ledger_is_refused_by_name(engine: Engine, tmp_path: Path) -> None:
    cipher = FieldCipher([FieldCipher.generate_key()])
    (tmp_path / "notes.txt").write_text("not a database")
    with pytest.raises(ValueError, match="not a nacha ledger file"):
        import_ledger_file(engine, cipher, tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="no such file"):
        import_ledger_file(engine, cipher, tmp_path / "nowhere.db")
