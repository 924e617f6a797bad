"""The audit chain in SQL: drafts written by commands, chained in batches."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, delete, func, select

from cbp.adapters.sql import codecs
from cbp.adapters.sql import schema as t
from cbp.adapters.sql.prepared import OverList, Prepared
from cbp.adapters.sql.writes import Inserted, Staged, write_together
from cbp.domain.audit import AuditDraft, AuditEntry

# NOTE: built once, as the relay chains a batch every round
#: A unit of work's audit drafts go in with this statement.
_ADD_DRAFTS = Inserted(t.audit_drafts)
_ADD_ENTRIES = Inserted(t.audit_log)
_LOCK_CHAIN = Prepared(select(func.pg_advisory_xact_lock(bindparam("key"))))
_OLDEST_DRAFTS = Prepared(
    select(t.audit_drafts).order_by(t.audit_drafts.c.id).limit(bindparam("limit"))
)
_DELETE_DRAFTS = OverList(delete(t.audit_drafts).where, t.audit_drafts.c.id, "ids")
_HEAD = Prepared(select(t.audit_log).order_by(t.audit_log.c.sequence.desc()).limit(1))


class SqlAuditLog:
    """Drafts in ``audit_drafts``, the chain in ``audit_log``.

    A command's drafts are written with its commit, in one insert, under no
    lock, so commands never wait on one another for the audit log.
    ``chain_pending`` takes the chain's lock (on PostgreSQL an advisory
    lock; SQLite has one writer anyway), links the oldest committed drafts
    to the head and moves them into the chain, in one transaction.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.staged: list[AuditDraft] = []

    def record(self, draft: AuditDraft) -> None:
        self.staged.append(draft)

    def take_staged(self) -> list[Staged]:
        """The staged drafts, in the order they were recorded, to write now."""
        rows = [codecs.audit_draft_values(draft) for draft in self.staged]
        self.staged = []
        return [(_ADD_DRAFTS, rows)]

    def flush(self) -> None:
        """Write the staged drafts, in the order they were recorded."""
        write_together(self.conn, self.take_staged())

    def chain_pending(self, key: bytes, *, limit: int = 1000) -> int:
        self.flush()
        if self.conn.dialect.name == "postgresql":
            _LOCK_CHAIN.first(self.conn, {"key": _AUDIT_LOCK})
        drafts = _OLDEST_DRAFTS.all(self.conn, {"limit": limit})
        if not drafts:
            return 0
        head = self.last()
        rows = []
        for row in drafts:
            head = AuditEntry.following(head, codecs.audit_draft_from_row(row), key)
            rows.append(codecs.audit_values(head))
        _ADD_ENTRIES.run(self.conn, rows)
        chained = [row.id for row in drafts]
        _DELETE_DRAFTS.on(self.conn).run(self.conn, {"ids": chained})
        return len(rows)

    def pending(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.audit_drafts)).scalar_one())

    def last(self) -> AuditEntry | None:
        row = _HEAD.first(self.conn, {})
        return None if row is None else codecs.audit_from_row(row)

    def entries(self, *, after_sequence: int = 0, limit: int = 1000) -> list[AuditEntry]:
        a = t.audit_log.c
        rows = self.conn.execute(
            select(t.audit_log).where(a.sequence > after_sequence).order_by(a.sequence).limit(limit)
        )
        return [codecs.audit_from_row(row) for row in rows]

    def for_subject(
        self, subject_id: str, *, tenant_id: str | None, limit: int = 1000
    ) -> list[AuditEntry]:
        a = t.audit_log.c
        query = select(t.audit_log).where(a.subject_id == subject_id)
        if tenant_id is not None:
            query = query.where(a.tenant_id == tenant_id)
        rows = self.conn.execute(query.order_by(a.sequence).limit(limit))
        return [codecs.audit_from_row(row) for row in rows]


#: The advisory lock id that keeps a single chainer on PostgreSQL.
_AUDIT_LOCK = 0x0CB9_A0D1
