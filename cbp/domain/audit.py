"""The audit log: an append-only, keyed hash chain of every change and who made it.

Each entry's hash is an HMAC-SHA256, under a key only the server holds, of
the entry and the hash before it. Without the key no one can rewrite an
entry, or the whole chain, and have it verify; cutting the tail off is
caught by comparing the head with a checkpoint kept elsewhere.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, kw_only=True)
class AuditDraft:
    """A change to record, before it has its place in the chain.

    Commands write drafts in their own transaction, without waiting on one
    another; the chainer links them to the chain later, in batches.
    """

    tenant_id: str | None
    actor: str
    action: str
    subject_id: str
    data: dict[str, Any]
    recorded_at: datetime


@dataclass(frozen=True, kw_only=True)
class AuditEntry(AuditDraft):
    """A change in its place in the chain, linked to the entry before it by ``previous_hash``."""

    sequence: int
    previous_hash: str
    entry_hash: str

    @classmethod
    def following(cls, previous: AuditEntry | None, draft: AuditDraft, key: bytes) -> AuditEntry:
        """The entry ``draft`` becomes when chained after ``previous`` (or starts the chain)."""
        unsigned = cls(
            **{field.name: getattr(draft, field.name) for field in dataclasses.fields(AuditDraft)},
            sequence=1 if previous is None else previous.sequence + 1,
            previous_hash=GENESIS_HASH if previous is None else previous.entry_hash,
            entry_hash="",
        )
        return dataclasses.replace(unsigned, entry_hash=unsigned.expected_hash(key))

    def expected_hash(self, key: bytes) -> str:
        """The hash this entry must carry, recomputed from its contents under ``key``."""
        return _digest(key, self.previous_hash, self._fields())

    def legacy_hash(self) -> str:
        """The unkeyed hash entries carried before the chain was keyed."""
        canonical = json.dumps(self._fields(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(f"{self.previous_hash}|{canonical}".encode()).hexdigest()

    def _fields(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "tenant_id": self.tenant_id,
            "actor": self.actor,
            "action": self.action,
            "subject_id": self.subject_id,
            "data": self.data,
            "recorded_at": self.recorded_at.astimezone(UTC).isoformat(),
        }


def _digest(key: bytes, previous_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, f"{previous_hash}|{canonical}".encode(), hashlib.sha256).hexdigest()


class ChainVerifier:
    """Walks a chain in order, entry by entry, and names the first broken link.

    Entries written before the chain was keyed (unkeyed SHA-256) are accepted
    only as the chain's first run of entries: once a keyed entry is seen,
    every later one must be keyed too.
    """

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.previous = GENESIS_HASH
        self.sequence = 0
        self.keyed_seen = False

    def accept(self, entry: AuditEntry) -> bool:
        """Whether ``entry`` links to the one before it and carries its own hash."""
        if entry.sequence != self.sequence + 1 or entry.previous_hash != self.previous:
            return False
        if entry.entry_hash == entry.expected_hash(self.key):
            self.keyed_seen = True
        elif self.keyed_seen or entry.entry_hash != entry.legacy_hash():
            return False
        self.previous, self.sequence = entry.entry_hash, entry.sequence
        return True


def first_broken_link(entries: Iterable[AuditEntry], key: bytes) -> int | None:
    """The sequence number of the first tampered or missing entry, or None."""
    verifier = ChainVerifier(key)
    for entry in entries:
        if not verifier.accept(entry):
            return entry.sequence
    return None
