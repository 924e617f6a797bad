"""The audit chain in memory: drafts committed with their transaction, chained on demand."""

from __future__ import annotations

from cbp.adapters.memory.database import Transaction
from cbp.domain.audit import AuditDraft, AuditEntry


class InMemoryAuditLog:
    """Drafts and the chain in memory.

    ``chain_pending`` links committed drafts under the database's lock, at
    once: there is no transaction to wait for in memory.
    """

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def record(self, draft: AuditDraft) -> None:
        self.tx.audit.append(draft)

    def chain_pending(self, key: bytes, *, limit: int = 1000) -> int:
        db = self.tx.db
        with db.lock:
            drafts, db.audit_drafts = db.audit_drafts[:limit], db.audit_drafts[limit:]
            for draft in drafts:
                db.audit.append(
                    AuditEntry.following(db.audit[-1] if db.audit else None, draft, key)
                )
        return len(drafts)

    def pending(self) -> int:
        with self.tx.db.lock:
            return len(self.tx.db.audit_drafts)

    def last(self) -> AuditEntry | None:
        with self.tx.db.lock:
            return self.tx.db.audit[-1] if self.tx.db.audit else None

    def entries(self, *, after_sequence: int = 0, limit: int = 1000) -> list[AuditEntry]:
        with self.tx.db.lock:
            return self.tx.db.audit[after_sequence : after_sequence + limit]

    def for_subject(
        self, subject_id: str, *, tenant_id: str | None, limit: int = 1000
    ) -> list[AuditEntry]:
        with self.tx.db.lock:
            about = [
                e
                for e in self.tx.db.audit
                if e.subject_id == subject_id and tenant_id in (None, e.tenant_id)
            ]
        return about[:limit]
