"""API keys, Idempotency-Keys and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from cbp.domain.access import ApiKey
from cbp.domain.audit import AuditDraft, AuditEntry
from cbp.domain.idempotency import IdempotencyRecord


class ApiKeyRepository(Protocol):
    """API keys, stored by id with only a hash of their secret."""

    def add(self, key: ApiKey) -> None:
        """Store a new key."""
        ...

    def get(self, key_id: str) -> ApiKey:
        """The key, or NotFound."""
        ...

    def list(self, tenant_id: str | None = None) -> list[ApiKey]:
        """Every key (of one tenant, if named), oldest first; hashes only, never secrets."""
        ...

    def save(self, key: ApiKey) -> None:
        """Store the key's changes (revocation)."""
        ...


class IdempotencyStore(Protocol):
    """Idempotency records, one per tenant and key."""

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Store ``record`` if its key is free; else return the record holding it."""
        ...

    def save(self, record: IdempotencyRecord) -> None:
        """Store the completed response."""
        ...

    def release(self, tenant_id: str, key: str) -> None:
        """Forget a key whose request failed on our side, so a retry may run."""
        ...

    def purge_expired(self, now: datetime, *, limit: int) -> int:
        """Forget up to ``limit`` keys past their retention; return how many."""
        ...


class AuditLog(Protocol):
    """The append-only, hash-chained log of every change.

    A command records a draft in its own transaction and waits on no one;
    ``chain_pending`` later links the committed drafts to the chain, oldest
    first, in batches, with one chainer at a time.
    """

    def record(self, draft: AuditDraft) -> None:
        """Keep a draft, committed with the caller's transaction, to be chained."""
        ...

    def chain_pending(self, key: bytes, *, limit: int = 1000) -> int:
        """Link up to ``limit`` committed drafts to the chain; return how many."""
        ...

    def pending(self) -> int:
        """How many committed drafts wait to be chained."""
        ...

    def last(self) -> AuditEntry | None:
        """The newest chained entry."""
        ...

    def entries(self, *, after_sequence: int = 0, limit: int = 1000) -> list[AuditEntry]:
        """Chained entries in chain order."""
        ...

    def for_subject(
        self, subject_id: str, *, tenant_id: str | None, limit: int = 1000
    ) -> list[AuditEntry]:
        """The chained entries about one record, of one tenant (None: any), in chain order."""
        ...
