"""Recording every change in the hash-chained audit log."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cbp.domain.audit import AuditDraft, ChainVerifier
from cbp.domain.banking import mask_account_number, normalize_account_number
from cbp.domain.errors import InvalidAccountNumber, InvalidInput
from cbp.ports import contracts as ct
from cbp.ports.storage.events import Recorded
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.ports.system import Clock
from cbp.services.commands import Command, RecordPayeeActivity, RecordPaymentActivity
from cbp.services.inbox import already_consumed

if TYPE_CHECKING:  # NOTE: the dependencies import the handlers, which publish through here
    from cbp.services.dependencies import Dependencies


def record_command(
    uow: UnitOfWork,
    command: Command,
    *,
    at: datetime,
    changed: Sequence[Recorded],
    returned: object = None,
) -> None:
    """Record a command that ran in ``uow``, as its class's ``audit`` says, if it says.

    ``changed`` is what the command's aggregates recorded in ``uow``, and
    ``returned`` what its handler returned: an id, ids, or a record with an
    ``id``. A handler of several transactions is recorded at each commit
    that changed an aggregate, one entry per aggregate. The command bus
    calls this, and nothing else does: handlers record no audit entries.
    """
    audited = command.audit
    if audited is None:
        return
    data = {name: _plain(getattr(command, name)) for name in audited.fields}
    data |= {
        name: _masked(value)
        for name in audited.masked
        if (value := getattr(command, name)) is not None
    }
    made = _ids_in(returned)
    if audited.subject is not None:
        subjects = [(str(getattr(command, audited.subject)), changed)]
    elif made:
        subjects = [(made_id, changed) for made_id in made]
    else:
        subjects = [(recorded.events[0].stream_id, [recorded]) for recorded in changed]
    for subject_id, caused in subjects:
        events = [event.type for recorded in caused for event in recorded.events]
        tenant_id = getattr(command, "tenant_id", None) or _tenant_of(caused)
        record(
            uow,
            command,
            at=at,
            tenant_id=tenant_id,
            subject_id=subject_id,
            data=data | {"events": events} if events else data,
        )


def _ids_in(returned: object) -> list[str]:
    """The ids a handler returned: one, several, or a record's ``id``."""
    if isinstance(returned, list | tuple):
        return [item for item in returned if isinstance(item, str)]
    found = returned if isinstance(returned, str) else getattr(returned, "id", None)
    return [found] if isinstance(found, str) else []


def _tenant_of(changed: Sequence[Recorded]) -> str | None:
    for recorded in changed:
        if recorded.payment is not None:
            return recorded.payment.tenant_id
        tenant_id = getattr(recorded.events[0], "tenant_id", None)
        if tenant_id is not None:
            return str(tenant_id)
    return None


def _masked(account_number: str) -> str:
    """An account number as the audit log may keep it: its last four characters."""
    try:
        return mask_account_number(normalize_account_number(account_number))
    except InvalidAccountNumber:  # NOTE: the handler took it; never let the audit refuse it
        return mask_account_number(account_number)


def _plain(value: object) -> object:
    """A command's field as JSON keeps it in the audit entry's data."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(str(item) for item in value)
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


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
    with deps.unit_of_work(read_only=True) as uow:
        while entries := uow.audit.entries(after_sequence=verifier.sequence, limit=batch):
            for entry in entries:
                if not verifier.accept(entry):
                    return verifier.sequence, entry.sequence
    return verifier.sequence, None


def audit_checkpoint(deps: Dependencies) -> str | None:
    """The chain's head as ``sequence:hash``, to keep somewhere the database is not."""
    chain_audit_log(deps)
    with deps.unit_of_work(read_only=True) as uow:
        head = uow.audit.last()
    return None if head is None else f"{head.sequence}:{head.entry_hash}"


def check_checkpoint(deps: Dependencies, checkpoint: str) -> str | None:
    """Why the chain no longer holds the checkpointed head, or None if it does."""
    sequence_text, _, entry_hash = checkpoint.partition(":")
    if not sequence_text.isdigit() or len(entry_hash) != 64:
        raise InvalidInput("a checkpoint is SEQUENCE:HASH, as `cbp audit checkpoint` prints it")
    sequence = int(sequence_text)
    with deps.unit_of_work(read_only=True) as uow:
        found = uow.audit.entries(after_sequence=sequence - 1, limit=1)
    if not found or found[0].sequence != sequence:
        return f"the chain ends before entry {sequence}: its tail was cut off"
    if not hmac.compare_digest(found[0].entry_hash, entry_hash):
        return f"entry {sequence} is not the one checkpointed: the chain was rewritten"
    return None


#: Who records a published event in the audit log: the log itself, as the event leaves.
PUBLISHED_BY = "audit-log"


def published_activities(
    contract: ct.Contract,
) -> list[RecordPaymentActivity] | list[RecordPayeeActivity]:
    """What the audit log records of a published payment, exception or payee event.

    One entry for each payment event a status message carries, so the log
    holds every event whether it left alone or with others. Nothing for
    every other message: tasks, bills, and system events have audit entries
    of their own, or none.
    """
    if isinstance(contract, ct.PaymentStatusChanged):
        failure = {} if contract.failure_code is None else {"failure_code": contract.failure_code}
        return [
            RecordPaymentActivity(
                tenant_id=contract.tenant_id,
                payment_id=contract.payment_id,
                event_type=event_type,
                data={"status": contract.status, "version": version, **failure},
                actor=PUBLISHED_BY,
            )
            for event_type, version in contract.changes()
        ]
    if isinstance(contract, ct.ExceptionCreated):
        return [
            RecordPaymentActivity(
                tenant_id=contract.tenant_id,
                payment_id=contract.payment_id,
                event_type=contract.TYPE,
                data={"exception_id": contract.exception_id, "kind": contract.kind},
                actor=PUBLISHED_BY,
            )
        ]
    if isinstance(contract, ct.PayeeEvent):
        left_out = ("subject_id", "tenant_id", ct.SCHEMA_VERSION)
        return [
            RecordPayeeActivity(
                tenant_id=getattr(contract, "tenant_id", None),
                subject_id=contract.subject_id,
                event_type=contract.TYPE,
                data={
                    k: v
                    for k, v in contract.encode().items()
                    if k not in left_out and v is not None
                },
                actor=PUBLISHED_BY,
            )
        ]
    return []


def record_published(uow: UnitOfWork, contract: ct.Contract, *, at: datetime) -> None:
    """Record a payment, exception or payee event in the audit log as it is published.

    The entries commit with the events and their outbox message, so every
    event is recorded exactly once, with no delivery of its own.
    """
    for activity in published_activities(contract):
        _record_activity(uow, activity, at=at)


def record_payment_activity(
    command: RecordPaymentActivity, *, uow: UnitOfWork, clock: Clock
) -> None:
    """Record a payment event relayed before events were recorded as published, once."""
    now = clock.now()
    if not already_consumed(uow, "audit-log", command.message_id, at=now):
        _record_activity(uow, command, at=now)


def record_payee_activity(command: RecordPayeeActivity, *, uow: UnitOfWork, clock: Clock) -> None:
    """Record a payee event relayed before events were recorded as published, once."""
    now = clock.now()
    if not already_consumed(uow, "payee-audit-log", command.message_id, at=now):
        _record_activity(uow, command, at=now)


def _record_activity(
    uow: UnitOfWork, activity: RecordPaymentActivity | RecordPayeeActivity, *, at: datetime
) -> None:
    subject_id = (
        activity.payment_id if isinstance(activity, RecordPaymentActivity) else activity.subject_id
    )
    data = {"event_type": activity.event_type, **activity.data}
    record(uow, activity, at=at, tenant_id=activity.tenant_id, subject_id=subject_id, data=data)
