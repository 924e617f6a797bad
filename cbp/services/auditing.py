"""Recording every change in the hash-chained audit log."""

from __future__ import annotations

import itertools
from typing import Any

from cbp.domain.audit import AuditEntry, first_broken_link
from cbp.ports.storage import UnitOfWork
from cbp.services.commands import Command, RecordPaymentActivity
from cbp.services.dependencies import Dependencies
from cbp.services.outbox import already_consumed


def record(
    uow: UnitOfWork,
    deps: Dependencies,
    command: Command,
    *,
    tenant_id: str | None,
    subject_id: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Chain an entry for ``command`` to the log, in the caller's transaction.

    ``data`` must hold no account number or secret: callers pass ids,
    statuses and masked values only.
    """
    uow.audit.append(
        AuditEntry.chain(
            uow.audit.last(),
            tenant_id=tenant_id,
            actor=command.actor,
            action=type(command).__name__,
            subject_id=subject_id,
            data=data or {},
            recorded_at=deps.clock.now(),
        )
    )


def verify_audit_log(deps: Dependencies, *, batch: int = 1000) -> tuple[int, int | None]:
    """Walk the chain; return how many entries were checked and the first bad one."""
    checked = 0
    previous: AuditEntry | None = None
    with deps.uow() as uow:
        while entries := uow.audit.entries(after_sequence=checked, limit=batch):
            window = [previous, *entries] if previous else entries
            broken = first_broken_link(window) if previous is None else _check_window(window)
            if broken is not None:
                return checked, broken
            checked += len(entries)
            previous = entries[-1]
    return checked, None


def _check_window(window: list[AuditEntry]) -> int | None:
    for before, entry in itertools.pairwise(window):
        if (
            entry.sequence != before.sequence + 1
            or entry.previous_hash != before.entry_hash
            or entry.entry_hash != entry.expected_hash()
        ):
            return entry.sequence
    return None


def record_payment_activity(command: RecordPaymentActivity, deps: Dependencies) -> None:
    """Chain a published payment event to the audit log, once per message."""
    with deps.uow() as uow:
        if already_consumed(uow, deps, "audit-log", command.message_id):
            return
        record(
            uow,
            deps,
            command,
            tenant_id=command.tenant_id,
            subject_id=command.payment_id,
            data={"event_type": command.event_type, **command.data},
        )
        uow.commit()
