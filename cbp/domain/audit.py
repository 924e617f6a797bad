"""The audit log: an append-only hash chain of every change and who made it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    """One change, linked to the entry before it by ``previous_hash``."""

    sequence: int
    tenant_id: str | None
    actor: str
    action: str
    subject_id: str
    data: dict[str, Any]
    recorded_at: datetime
    previous_hash: str
    entry_hash: str

    @classmethod
    def chain(
        cls,
        previous: AuditEntry | None,
        *,
        tenant_id: str | None,
        actor: str,
        action: str,
        subject_id: str,
        data: dict[str, Any],
        recorded_at: datetime,
    ) -> AuditEntry:
        """The entry that follows ``previous`` (or starts the chain)."""
        draft = cls(
            sequence=1 if previous is None else previous.sequence + 1,
            tenant_id=tenant_id,
            actor=actor,
            action=action,
            subject_id=subject_id,
            data=data,
            recorded_at=recorded_at,
            previous_hash=GENESIS_HASH if previous is None else previous.entry_hash,
            entry_hash="",
        )
        return dataclasses.replace(draft, entry_hash=draft.expected_hash())

    def expected_hash(self) -> str:
        """The hash this entry must carry, recomputed from its contents."""
        return _digest(
            self.previous_hash,
            {
                "sequence": self.sequence,
                "tenant_id": self.tenant_id,
                "actor": self.actor,
                "action": self.action,
                "subject_id": self.subject_id,
                "data": self.data,
                "recorded_at": self.recorded_at.astimezone(UTC).isoformat(),
            },
        )


def _digest(previous_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{previous_hash}|{canonical}".encode()).hexdigest()


def first_broken_link(entries: Iterable[AuditEntry]) -> int | None:
    """The sequence number of the first tampered or missing entry, or None."""
    expected_previous = GENESIS_HASH
    expected_sequence = 1
    for entry in entries:
        if (
            entry.sequence != expected_sequence
            or entry.previous_hash != expected_previous
            or entry.entry_hash != entry.expected_hash()
        ):
            return entry.sequence
        expected_previous = entry.entry_hash
        expected_sequence += 1
    return None
