"""Processing jobs: a run of payments sent together."""

from __future__ import annotations

from typing import Protocol

from cbp.domain.processing import ProcessJob


class ProcessJobRepository(Protocol):
    """Processing jobs, for polling."""

    def add(self, job: ProcessJob) -> None:
        """Store a new job."""
        ...

    def get(self, tenant_id: str, job_id: str) -> ProcessJob:
        """The job, or NotFound."""
        ...
