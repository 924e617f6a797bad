"""Commands the system gives itself: breakers, activity records, purges, dead letters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cbp.services.commands.base import Audited, Command


@dataclass(frozen=True, kw_only=True)
class AnnounceBreakerChange(Command):
    """A circuit breaker changed state: say so on system.events."""

    breaker: str
    old_state: str
    new_state: str


@dataclass(frozen=True, kw_only=True)
class RecordPaymentActivity(Command):
    """Write a published payment event to the audit log (the audit-log subscriber)."""

    tenant_id: str
    payment_id: str
    event_type: str
    data: dict[str, Any] = field(default_factory=dict)
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordPayeeActivity(Command):
    """Write a published payee or directory event to the audit log (its audit subscriber)."""

    tenant_id: str | None
    subject_id: str
    event_type: str
    data: dict[str, Any] = field(default_factory=dict)
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class PurgeDeliveredMessages(Command):
    """Forget messages every subscriber has handled, once older than the retention."""

    older_than_days: float = 7.0
    batch: int = 1000


@dataclass(frozen=True, kw_only=True)
class PurgeExpiredIdempotencyKeys(Command):
    """Forget Idempotency-Keys past their retention, a batch at a time."""

    batch: int = 1000


@dataclass(frozen=True, kw_only=True)
class RetryDeadLetter(Command):
    """Give a dead-lettered delivery fresh attempts, once its cause is fixed."""

    audit = Audited(subject="delivery_id")

    delivery_id: str
