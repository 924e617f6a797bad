"""API keys and idempotency records in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    delete,
    select,
    tuple_,
    update,
)

from cbp.adapters.sql import codecs
from cbp.adapters.sql import schema as t
from cbp.adapters.sql.statements import (
    insert_if_absent,
    insert_row,
    row_by_id,
)
from cbp.adapters.sql.writes import Staged, Updated, write_together
from cbp.domain.access import ApiKey
from cbp.domain.errors import (
    NotFound,
)
from cbp.domain.idempotency import IdempotencyRecord


class SqlApiKeyRepository:
    """API keys in SQL (hashes only)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _values(self, key: ApiKey) -> dict[str, Any]:
        return {
            "id": key.id,
            "tenant_id": key.tenant_id,
            "secret_hash": key.secret_hash,
            "scopes": sorted(s.value for s in key.scopes),
            "name": key.name,
            "created_at": key.created_at,
            "revoked_at": key.revoked_at,
        }

    def add(self, key: ApiKey) -> None:
        insert_row(self.conn, t.api_keys, self._values(key), "api key")

    def get(self, key_id: str) -> ApiKey:
        return codecs.api_key_from_row(row_by_id(self.conn, t.api_keys, "api key", key_id))

    def list(self, tenant_id: str | None = None) -> list[ApiKey]:
        c = t.api_keys.c
        query = select(t.api_keys).order_by(c.created_at, c.id)
        if tenant_id is not None:
            query = query.where(c.tenant_id == tenant_id)
        return [codecs.api_key_from_row(row) for row in self.conn.execute(query)]

    def save(self, key: ApiKey) -> None:
        result = self.conn.execute(
            update(t.api_keys).where(t.api_keys.c.id == key.id).values(**self._values(key))
        )
        if result.rowcount == 0:
            raise NotFound("api key", key.id)


#: Built once: every command with a key stores its answer with this statement.
_SAVE_ANSWER = Updated(t.idempotency_records, keys=("tenant_id", "key"))


class SqlIdempotencyStore:
    """Idempotency records; the claim is one atomic insert-if-absent.

    An answer saved is written when the unit of work commits (with its other
    writes, in one round trip on PostgreSQL), or before this store next
    touches a record.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.staged: list[dict[str, Any]] = []

    def take_staged(self) -> list[Staged]:
        """The answers saved so far, to write now."""
        answers, self.staged = self.staged, []
        return [(_SAVE_ANSWER, answers)]

    def flush(self) -> None:
        """Write the answers saved so far."""
        write_together(self.conn, self.take_staged())

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        self.flush()
        values = {
            "tenant_id": record.tenant_id,
            "key": record.key,
            "fingerprint": record.fingerprint,
            "state": record.state.value,
            "created_at": record.created_at,
            "expires_at": record.expires_at,
        }
        if insert_if_absent(self.conn, t.idempotency_records, values):
            return None
        c = t.idempotency_records.c
        row = self.conn.execute(
            select(t.idempotency_records).where(
                c.tenant_id == record.tenant_id, c.key == record.key
            )
        ).one()
        return codecs.idempotency_from_row(row)

    def save(self, record: IdempotencyRecord) -> None:
        self.staged.append(
            {
                "tenant_id": record.tenant_id,
                "key": record.key,
                "state": record.state.value,
                "response_status": record.response_status,
                "response_body": record.response_body,
            }
        )

    def release(self, tenant_id: str, key: str) -> None:
        self.flush()
        c = t.idempotency_records.c
        self.conn.execute(
            delete(t.idempotency_records).where(c.tenant_id == tenant_id, c.key == key)
        )

    def purge_expired(self, now: datetime, *, limit: int) -> int:
        self.flush()
        c = t.idempotency_records.c
        oldest = (
            select(c.tenant_id, c.key)
            .where(c.expires_at <= now)
            .order_by(c.expires_at)
            .limit(limit)
        )
        result = self.conn.execute(
            delete(t.idempotency_records).where(tuple_(c.tenant_id, c.key).in_(oldest))
        )
        return int(result.rowcount)
