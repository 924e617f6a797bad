"""Processing jobs in memory: which payments a job queued."""

from __future__ import annotations

from cbp.adapters.memory.database import Transaction
from cbp.adapters.memory.rows import owned
from cbp.domain.processing import ProcessJob


class InMemoryProcessJobRepository:
    """Processing jobs in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, job: ProcessJob) -> None:
        self.tx.put("jobs", job.id, job, insert=True)

    def get(self, tenant_id: str, job_id: str) -> ProcessJob:
        return owned(self.tx.get("jobs", job_id), tenant_id, "job", job_id)  # type: ignore[no-any-return]
