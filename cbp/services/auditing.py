"""Recording every change in the hash-chained audit log."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from cbp.domain.audit import AuditDraft, ChainVerifier
from cbp.domain.errors import InvalidInput
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitOfWorkFactory
from cbp.ports.system import Clock
from cbp.services.commands import Command, RecordPayeeActivity, RecordPaymentActivity
from cbp.services.dependencies import Dependencies
from cbp.services.outbox import already_consumed


def record(
    uow: UnitOfWork,
    command: Command,
    *,
    at: datetime,
    tenant_id: str | None,
    subject_id: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Record ``command`` in the audit log, committed with the caller's transaction.

    ``data`` must hold no account number or secret: callers pass ids,
    statuses and masked values only. The entry takes its place in the chain
    when ``chain_audit_log`` next runs (the relay runs it every round).
    """
    uow.audit.record(
        AuditDraft(
            tenant_id=tenant_id,
            actor=command.actor,
            action=type(command).__name__,
            subject_id=subject_id,
            data=data or {},
            recorded_at=at,
        )
    )


def chain_audit_log(deps: Dependencies, *, batch: int = 1000) -> int:
    """Link every recorded draft to the chain, a batch per transaction; return how many."""
    chained = 0
    while True:
        with deps.unit_of_work() as uow:
            linked = uow.audit.chain_pending(deps.options.audit_key, limit=batch)
            uow.commit()
        chained += linked
        if linked < batch:
            return chained


def verify_audit_log(deps: Dependencies, *, batch: int = 1000) -> tuple[int, int | None]:
    """Chain what waits, then walk the chain; return how many were checked and the first bad one."""
    chain_audit_log(deps)
    verifier = ChainVerifier(deps.options.audit_key)
    with deps.unit_of_work() as uow:
        while entries := uow.audit.entries(after_sequence=verifier.sequence, limit=batch):
            for entry in entries:
                if not verifier.accept(entry):
                    return verifier.sequence, entry.sequence
    return verifier.sequence, None


def audit_checkpoint(deps: Dependencies) -> str | None:
    """The chain's head as ``sequence:hash``, to keep somewhere the database is not."""
    chain_audit_log(deps)
    with deps.unit_of_work() as uow:
        head = uow.audit.last()
    return None if head is None else f"{head.sequence}:{head.entry_hash}"


def check_checkpoint(deps: Dependencies, checkpoint: str) -> str | None:
    """Why the chain no longer holds the checkpointed head, or None if it does."""
    sequence_text, _, entry_hash = checkpoint.partition(":")
    if not sequence_text.isdigit() or len(entry_hash) != 64:
        raise InvalidInput("a checkpoint is SEQUENCE:HASH, as `cbp audit checkpoint` prints it")
    sequence = int(sequence_text)
    with deps.unit_of_work() as uow:
        found = uow.audit.entries(after_sequence=sequence - 1, limit=1)
    if not found or found[0].sequence != sequence:
        return f"the chain ends before entry {sequence}: its tail was cut off"
    if not hmac.compare_digest(found[0].entry_hash, entry_hash):
        return f"entry {sequence} is not the one checkpointed: the chain was rewritten"
    return None


def record_payment_activity(
    command: RecordPaymentActivity, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> None:
    """Record a published payment event in the audit log, once per message."""
    with unit_of_work() as uow:
        _record_activity(uow, command, "audit-log", command.payment_id, at=clock.now())


def record_payee_activity(
    command: RecordPayeeActivity, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> None:
    """Record a published payee or directory event in the audit log, once per message."""
    with unit_of_work() as uow:
        _record_activity(uow, command, "payee-audit-log", command.subject_id, at=clock.now())


def _record_activity(
    uow: UnitOfWork,
    command: RecordPaymentActivity | RecordPayeeActivity,
    consumer: str,
    subject_id: str,
    *,
    at: datetime,
) -> None:
    if already_consumed(uow, consumer, command.message_id, at=at):
        return
    data = {"event_type": command.event_type, **command.data}
    record(uow, command, at=at, tenant_id=command.tenant_id, subject_id=subject_id, data=data)
    uow.commit()
