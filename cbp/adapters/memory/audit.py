"""The audit chain in memory (chained at commit by the database)."""

from __future__ import annotations

from cbp.adapters.memory.database import Transaction
from cbp.domain.audit import AuditEntry


class InMemoryAuditLog:
    """The audit chain in memory; entries are chained in commit order."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def last(self) -> AuditEntry | None:
        if self.tx.audit:
            return self.tx.audit[-1]
        with self.tx.db.lock:
            return self.tx.db.audit[-1] if self.tx.db.audit else None

    def append(self, entry: AuditEntry) -> None:
        self.tx.audit.append(entry)

    def entries(self, *, after_sequence: int = 0, limit: int = 1000) -> list[AuditEntry]:
        with self.tx.db.lock:
            return self.tx.db.audit[after_sequence : after_sequence + limit]
