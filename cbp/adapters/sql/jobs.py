"""Processing jobs in SQL: which payments a job queued."""

from __future__ import annotations

from sqlalchemy import (
    Connection,
)

from cbp.adapters.sql import codecs
from cbp.adapters.sql import schema as t
from cbp.adapters.sql.statements import (
    insert_row,
    row_by_id,
)
from cbp.domain.processing import ProcessJob


class SqlProcessJobRepository:
    """Processing jobs in SQL."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, job: ProcessJob) -> None:
        values = {
            "id": job.id,
            "tenant_id": job.tenant_id,
            "payment_ids": list(job.payment_ids),
            "due_on": job.due_on,
            "send_now": job.send_now,
            "created_at": job.created_at,
        }
        insert_row(self.conn, t.process_jobs, values, "job")

    def get(self, tenant_id: str, job_id: str) -> ProcessJob:
        row = row_by_id(self.conn, t.process_jobs, "job", job_id, tenant_id=tenant_id)
        return codecs.job_from_row(row)
