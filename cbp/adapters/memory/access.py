"""API keys and idempotency records in memory."""

from __future__ import annotations

from datetime import datetime

from cbp.adapters.memory.database import Transaction
from cbp.domain.access import ApiKey
from cbp.domain.errors import NotFound
from cbp.domain.idempotency import IdempotencyRecord


class InMemoryApiKeyRepository:
    """API keys in memory (hashes only)."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, key: ApiKey) -> None:
        self.tx.put("api_keys", key.id, key, insert=True)

    def get(self, key_id: str) -> ApiKey:
        key = self.tx.get("api_keys", key_id)
        if key is None:
            raise NotFound("api key", key_id)
        return key  # type: ignore[no-any-return]

    def list(self, tenant_id: str | None = None) -> list[ApiKey]:
        keys = [k for k in self.tx.scan("api_keys") if tenant_id in (None, k.tenant_id)]
        return sorted(keys, key=lambda k: (k.created_at, k.id))

    def save(self, key: ApiKey) -> None:
        self.get(key.id)
        self.tx.put("api_keys", key.id, key)


class InMemoryIdempotencyStore:
    """Idempotency records in memory, one per tenant and key."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        existing = self.tx.get("idempotency", (record.tenant_id, record.key))
        if existing is not None:
            return existing  # type: ignore[no-any-return]
        self.tx.put("idempotency", (record.tenant_id, record.key), record, insert=True)
        return None

    def save(self, record: IdempotencyRecord) -> None:
        self.tx.put("idempotency", (record.tenant_id, record.key), record)

    def release(self, tenant_id: str, key: str) -> None:
        self.tx.delete("idempotency", (tenant_id, key))

    def purge_expired(self, now: datetime, *, limit: int) -> int:
        expired = sorted(
            (r for r in self.tx.scan("idempotency") if r.expires_at <= now),
            key=lambda r: r.expires_at,
        )[:limit]
        for record in expired:
            self.tx.delete("idempotency", (record.tenant_id, record.key))
        return len(expired)
