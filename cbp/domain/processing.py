"""ProcessJob: a batch of payments submitted for processing, for polling."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from cbp.domain.payment import PaymentStatus


class JobStatus(enum.StrEnum):
    """Progress of a processing job."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"


#: The statuses a job's payment can end in; anything else is still pending.
_ENDS = {
    PaymentStatus.COMPLETED: "completed",
    PaymentStatus.RETURNED: "returned",
    PaymentStatus.FAILED: "failed",
    PaymentStatus.CANCELLED: "cancelled",
}


@dataclass(frozen=True, kw_only=True)
class JobProgress:
    """Counts of a job's payments by outcome, derived from their statuses."""

    status: JobStatus
    total: int
    completed: int
    returned: int
    failed: int
    cancelled: int
    pending: int

    @classmethod
    def of(cls, statuses: Iterable[PaymentStatus]) -> JobProgress:
        """Summarize the current statuses of a job's payments, each outcome counted apart."""
        counts = Counter(_ENDS.get(s, "pending") for s in statuses)
        total = sum(counts.values())
        pending = counts["pending"]
        if pending == 0:
            status = JobStatus.COMPLETED
        elif pending < total:
            status = JobStatus.RUNNING
        else:
            status = JobStatus.QUEUED
        return cls(
            status=status,
            total=total,
            completed=counts["completed"],
            returned=counts["returned"],
            failed=counts["failed"],
            cancelled=counts["cancelled"],
            pending=pending,
        )


@dataclass(frozen=True, kw_only=True)
class ProcessJob:
    """A request to process a set of payments, kept so clients can poll it."""

    id: str
    tenant_id: str
    payment_ids: tuple[str, ...]
    created_at: datetime
    due_on: date | None = None
    send_now: bool = False
