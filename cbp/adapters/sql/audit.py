"""The audit chain in SQL."""

from __future__ import annotations

from sqlalchemy import (
    Connection,
    insert,
    select,
    text,
)

from cbp.adapters.sql import codecs
from cbp.adapters.sql import schema as t
from cbp.domain.audit import AuditEntry


class SqlAuditLog:
    """The audit chain; entries are chained when their transaction commits.

    ``append`` only stages an entry. ``chain_staged`` runs just before the
    commit, under a lock every writer of the chain takes, and links the
    staged entries to the committed head, so concurrent writers leave one
    chain in commit order.
    """

    def __init__(self, conn: Connection, key: bytes) -> None:
        self.conn = conn
        self.key = key
        self.staged: list[AuditEntry] = []

    def last(self) -> AuditEntry | None:
        if self.staged:
            return self.staged[-1]
        return self._head()

    def _head(self) -> AuditEntry | None:
        row = self.conn.execute(
            select(t.audit_log).order_by(t.audit_log.c.sequence.desc()).limit(1)
        ).first()
        return None if row is None else codecs.audit_from_row(row)

    def append(self, entry: AuditEntry) -> None:
        self.staged.append(entry)

    def entries(self, *, after_sequence: int = 0, limit: int = 1000) -> list[AuditEntry]:
        a = t.audit_log.c
        rows = self.conn.execute(
            select(t.audit_log).where(a.sequence > after_sequence).order_by(a.sequence).limit(limit)
        )
        return [codecs.audit_from_row(row) for row in rows]

    def chain_staged(self) -> None:
        """Link the staged entries to the committed head and write them."""
        if not self.staged:
            return
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK})
        head = self._head()
        rows = []
        for draft in self.staged:
            head = AuditEntry.chain(
                head,
                key=self.key,
                tenant_id=draft.tenant_id,
                actor=draft.actor,
                action=draft.action,
                subject_id=draft.subject_id,
                data=draft.data,
                recorded_at=draft.recorded_at,
            )
            rows.append(codecs.audit_values(head))
        self.conn.execute(insert(t.audit_log), rows)
        self.staged.clear()


#: The advisory lock id that serializes appends to the audit chain on PostgreSQL.
_AUDIT_LOCK = 0x0CB9_A0D1
