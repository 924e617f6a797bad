"""The embedded default processor: outcomes chosen by the amount's cents.

| cents | outcome                                             |
|-------|-----------------------------------------------------|
| .13   | failed, ``nsf``                                     |
| .14   | settles, then is returned (``R01``)                 |
| .15   | failed, ``account_closed``                          |
| .16   | failed, ``invalid_account``                         |
| .17   | the submission times out (outcome unknown, but the  |
|       | processor did take it)                              |
| .18   | unavailable on the first attempt, then accepted     |
| other | accepted, settled after ``settle_after_seconds``    |

Submissions are idempotent on the reference: a repeat returns the first
answer and never counts as a second movement of money. The simulator keeps
its ledger in SQLite (stdlib ``sqlite3``): in memory by default, or in a
file shared by every process of a deployment (``ledger_path``), as a real
processor's own books would be, so a reconciler in one process sees what a
worker in another submitted.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from datetime import datetime, timedelta

from cbp.ports.errors import DependencyTimeout, DependencyUnavailable
from cbp.ports.processor import Credit, ProcessorResult, ProcessorStatus, Submission
from cbp.ports.system import Clock

_FAILURES = {13: "nsf", 15: "account_closed", 16: "invalid_account"}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    reference TEXT PRIMARY KEY,
    attempts INTEGER NOT NULL,
    refused_once INTEGER NOT NULL DEFAULT 0,
    accepted_at TEXT,
    outcome TEXT,
    failure_code TEXT,
    traceparent TEXT
);
CREATE TABLE IF NOT EXISTS credits (
    reference TEXT PRIMARY KEY,
    account_last4 TEXT NOT NULL,
    amount TEXT NOT NULL,
    attempts INTEGER NOT NULL
)
"""


class SimulatedPaymentProcessor:
    """Deterministic processor for demos and tests; records every submission."""

    def __init__(
        self, clock: Clock, *, settle_after_seconds: float = 0.0, ledger_path: str | None = None
    ) -> None:
        self.clock = clock
        self.settle_after = timedelta(seconds=settle_after_seconds)
        self._lock = threading.RLock()  # NOTE: submit reads the result under its own lock
        self._db = sqlite3.connect(
            ledger_path or ":memory:", timeout=30, isolation_level=None, check_same_thread=False
        )
        if ledger_path:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def send_credit(self, credit: Credit) -> None:
        """Take a micro-deposit once per reference; repeats only count an attempt."""
        with self._lock:
            self._db.execute(
                "INSERT INTO credits (reference, account_last4, amount, attempts) "
                "VALUES (?, ?, ?, 1) ON CONFLICT (reference) DO UPDATE SET attempts = attempts + 1",
                (credit.reference, credit.account_number[-4:], str(credit.amount.amount)),
            )

    def credits(self) -> dict[str, tuple[str, int]]:
        """Each credit taken: its amount and how many times it was sent (the bank statement)."""
        with self._lock:
            rows = self._db.execute("SELECT reference, amount, attempts FROM credits").fetchall()
        return {reference: (amount, attempts) for reference, amount, attempts in rows}

    def submit(self, submission: Submission) -> ProcessorResult:
        """Accept (or refuse) a submission; repeats return the first answer."""
        cents = submission.amount.minor % 100
        reference = submission.reference
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO submissions (reference, attempts, traceparent) VALUES (?, 1, ?) "
                    "ON CONFLICT (reference) DO UPDATE SET attempts = attempts + 1",
                    (reference, submission.traceparent),
                )
                refused_once, accepted_at = self._db.execute(
                    "SELECT refused_once, accepted_at FROM submissions WHERE reference = ?",
                    (reference,),
                ).fetchone()
                if accepted_at is not None:
                    self._db.execute("COMMIT")
                    return self._result(reference)
                if cents == 18 and not refused_once:
                    self._db.execute(
                        "UPDATE submissions SET refused_once = 1 WHERE reference = ?", (reference,)
                    )
                    self._db.execute("COMMIT")
                    raise DependencyUnavailable("processor", "simulated outage")
                outcome, failure_code = ProcessorStatus.SETTLED, None
                if cents in _FAILURES:
                    outcome, failure_code = ProcessorStatus.FAILED, _FAILURES[cents]
                elif cents == 14:
                    outcome, failure_code = ProcessorStatus.RETURNED, "R01"
                self._db.execute(
                    "UPDATE submissions SET accepted_at = ?, outcome = ?, failure_code = ? "
                    "WHERE reference = ?",
                    (self.clock.now().isoformat(), outcome.value, failure_code, reference),
                )
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        if cents == 17:
            raise DependencyTimeout("processor", "simulated timeout")
        return self._result(reference)

    def outcome(self, reference: str) -> ProcessorResult:
        """The submission's outcome now, or UNKNOWN for a reference never taken."""
        return self._result(reference)

    @property
    def submissions(self) -> Counter[str]:
        """How many times each reference was submitted (refusals included)."""
        with self._lock:
            rows = self._db.execute("SELECT reference, attempts FROM submissions").fetchall()
        return Counter(dict(rows))

    @property
    def distinct_submissions(self) -> int:
        """How many different payments were taken (accepted at least once)."""
        with self._lock:
            (count,) = self._db.execute(
                "SELECT count(*) FROM submissions WHERE accepted_at IS NOT NULL"
            ).fetchone()
        return int(count)

    def taken(self) -> list[str]:
        """Every reference taken (accepted), in the order taken."""
        with self._lock:
            rows = self._db.execute(
                "SELECT reference FROM submissions WHERE accepted_at IS NOT NULL "
                "ORDER BY accepted_at, reference"
            ).fetchall()
        return [reference for (reference,) in rows]

    def _result(self, reference: str) -> ProcessorResult:
        with self._lock:
            row = self._db.execute(
                "SELECT accepted_at, outcome, failure_code FROM submissions WHERE reference = ?",
                (reference,),
            ).fetchone()
        if row is None or row[0] is None:
            return ProcessorResult(reference=reference, status=ProcessorStatus.UNKNOWN)
        accepted_at, outcome, failure_code = datetime.fromisoformat(row[0]), row[1], row[2]
        if outcome == ProcessorStatus.FAILED.value:
            return ProcessorResult(
                reference=reference,
                status=ProcessorStatus.FAILED,
                failure_code=failure_code,
                reason="declined by the simulated bank",
            )
        if self.clock.now() < accepted_at + self.settle_after:
            return ProcessorResult(reference=reference, status=ProcessorStatus.ACCEPTED)
        if outcome == ProcessorStatus.RETURNED.value:
            return ProcessorResult(
                reference=reference,
                status=ProcessorStatus.RETURNED,
                failure_code=failure_code,
                reason="no account / unable to locate account",
            )
        return ProcessorResult(reference=reference, status=ProcessorStatus.SETTLED)

    def close(self) -> None:
        """Close the ledger."""
        self._db.close()
