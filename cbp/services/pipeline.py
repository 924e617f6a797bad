"""The payment pipeline: submit to the processor, settle, reconcile, returns.

External calls never run inside a database transaction: a handler reads in
one unit of work, calls the processor, and records the result in another,
re-checking the payment's state. The processor is idempotent on the
payment's own reference, so a repeat after a crash or a race cannot move
money twice.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cbp.domain import identifiers
from cbp.domain.errors import DomainError, InvalidInput
from cbp.domain.funding import FundingAccount
from cbp.domain.payee import Payee
from cbp.domain.payment import Payment, PaymentStatus
from cbp.domain.payment_exception import ExceptionKind
from cbp.domain.processing import JobProgress, ProcessJob
from cbp.ports import messages as m
from cbp.ports.errors import (
    DependencyDeferred,
    DependencyError,
    DependencyTimeout,
    PaymentRefused,
)
from cbp.ports.outside import PaymentProcessor, ProcessorResult, ProcessorStatus, Submission
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitOfWorkFactory
from cbp.ports.system import Clock, IdGenerator
from cbp.services import auditing
from cbp.services.commands import (
    ApplyProcessorEvent,
    ProcessPayment,
    QueueDuePayments,
    ReconcilePayments,
    RecordPaymentReturn,
    StartProcessingJob,
)
from cbp.services.exceptions import fail_with_exception, open_exception
from cbp.services.outbox import already_consumed, headers_for
from cbp.services.payments import (
    PAYMENT_PROCESSOR,
    QUEUED,
    check_payable,
    hold_for_queueing,
    queue_processing,
    save_payment,
)

logger = logging.getLogger("cbp.pipeline")

_CONSUMER = "process_payment"


def start_processing_job(
    command: StartProcessingJob, *, unit_of_work: UnitOfWorkFactory, clock: Clock, ids: IdGenerator
) -> str:
    """Queue the given payments, or all due by a date, and return a job to poll.

    One rule for both forms: a payment goes only once its send-on date has
    come (in the tenant's time zone), unless ``send_now`` asks, explicitly
    and in the audit log, to send it early. Payments no longer scheduled
    are refused by id, and left out of a date's selection.
    """
    if bool(command.payment_ids) == (command.due_on is not None):
        raise InvalidInput("give either payment_ids or due_on, not both or neither")
    now = clock.now()
    with unit_of_work() as uow:
        tenant = uow.tenants.get(command.tenant_id)
        today = tenant.policy.local_now(now).date()
        if command.due_on is not None:
            if command.due_on > today and not command.send_now:
                raise InvalidInput(
                    f"due_on {command.due_on} is after today ({today}): nothing is sent before "
                    "its send-on date unless send_now is true"
                )
            payments = _every_due(uow, command.due_on, tenant.id)
        else:
            payments = [
                uow.payments.get(tenant.id, pid) for pid in dict.fromkeys(command.payment_ids)
            ]
            not_scheduled = [p.id for p in payments if p.status is not PaymentStatus.SCHEDULED]
            if not_scheduled:
                raise InvalidInput(f"payments no longer scheduled: {', '.join(not_scheduled)}")
            early = [p.id for p in payments if not p.is_due(today)]
            if early and not command.send_now:
                raise InvalidInput(
                    f"payments before their send-on date: {', '.join(early)} "
                    "(send_now: true sends them now)"
                )
        job = ProcessJob(
            id=ids.new(identifiers.JOB),
            tenant_id=tenant.id,
            payment_ids=tuple(p.id for p in payments),
            created_at=now,
            due_on=command.due_on,
            send_now=command.send_now,
        )
        uow.jobs.add(job)
        headers = headers_for(command, tenant.id)
        hold_for_queueing(uow, payments)
        for payment in payments:
            queue_processing(uow, payment, headers, ids=ids, at=now, job_id=job.id)
        auditing.record(
            uow,
            command,
            at=now,
            tenant_id=tenant.id,
            subject_id=job.id,
            data={
                "payments": len(payments),
                "sent_early": [p.id for p in payments if not p.is_due(today)],
            },
        )
        uow.commit()
    return job.id


#: How many due payments one read takes.
DUE_PAGE = 1000


def _every_due(uow: UnitOfWork, on: date, tenant_id: str) -> list[Payment]:
    """Every scheduled payment of the tenant due by ``on``, read a page at a time."""
    found: list[Payment] = []
    while True:
        after = (found[-1].send_on, found[-1].id) if found else None
        page = uow.payments.due(on, tenant_id=tenant_id, limit=DUE_PAGE, after=after)
        found.extend(page)
        if len(page) < DUE_PAGE:
            return found


def job_progress(
    unit_of_work: UnitOfWorkFactory, tenant_id: str, job_id: str
) -> tuple[ProcessJob, JobProgress]:
    """A job and the counts of its payments by outcome, as of now."""
    with unit_of_work() as uow:
        job = uow.jobs.get(tenant_id, job_id)
        statuses = uow.payments.statuses(tenant_id, job.payment_ids)
    return job, JobProgress.of(statuses)


def queue_due_payments(
    command: QueueDuePayments, *, unit_of_work: UnitOfWorkFactory, clock: Clock, ids: IdGenerator
) -> int:
    """Queue every scheduled payment due by a date and not queued before; return how many.

    With ``on``, the date is the caller's. Without it (the periodic sweep),
    each payment is due once its send-on date has come in its tenant's time
    zone, so a sweep never sends a tenant's payments early. A payment queued
    already (at creation, or by an earlier sweep) is left to that delivery,
    so a sweep every few seconds adds no duplicates.
    """
    now = clock.now()
    horizon = command.on or (now + timedelta(days=1)).date()
    with unit_of_work() as uow:
        local_today: dict[str, date] = {}
        to_queue = []
        for payment in uow.payments.due(horizon, limit=command.limit):
            if uow.inbox.seen(QUEUED, payment.id) and uow.deliveries.owed(
                m.PAYMENT_PROCESSING, PAYMENT_PROCESSOR, payment.id
            ):
                continue
            if command.on is None and payment.tenant_id not in local_today:
                policy = uow.tenants.get(payment.tenant_id).policy
                local_today[payment.tenant_id] = policy.local_now(now).date()
            if command.on is None and not payment.is_due(local_today[payment.tenant_id]):
                continue
            to_queue.append(payment)
        hold_for_queueing(uow, to_queue)
        # NOTE: read again with the customers held: a change that committed meanwhile may
        # have moved a payment's date on, and it must not go on the date it had before
        still_due = {p.id: p for p in uow.payments.due(horizon, limit=command.limit)}
        to_queue = [
            still_due[p.id]
            for p in to_queue
            if p.id in still_due
            and (command.on is not None or still_due[p.id].is_due(local_today[p.tenant_id]))
        ]
        for payment in to_queue:
            headers = headers_for(command, payment.tenant_id)
            queue_processing(uow, payment, headers, ids=ids, at=now)
        uow.commit()
    return len(to_queue)


def process_payment(
    command: ProcessPayment,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    ids: IdGenerator,
    processor: PaymentProcessor,
) -> PaymentStatus:
    """Submit a due payment to the processor and record what it said.

    A processor that is unavailable leaves the payment scheduled and raises,
    so the queue retries later; one that times out leaves it processing for
    the reconciler. A payment already past ``scheduled`` is left alone.
    """
    with unit_of_work() as uow:
        if command.message_id and uow.inbox.seen(_CONSUMER, command.message_id):
            return uow.payments.get(command.tenant_id, command.payment_id).status
        payment = uow.payments.get(command.tenant_id, command.payment_id)
        if payment.status is not PaymentStatus.SCHEDULED:
            return payment.status
        try:
            parties = uow.parties.for_payment(
                payment.tenant_id,
                payment.customer_id,
                payment.payee_id,
                payment.funding_account_id,
            )
            payee, funding = parties.payee, parties.funding_account
            check_payable(parties)
            problem: DomainError | None = None
        except DomainError as error:
            problem = error
    result: ProcessorResult | None = None
    if problem is None:
        # NOTE: on a timeout the outcome is unknown; the payment waits in processing
        # until the reconciler asks the processor.
        with contextlib.suppress(DependencyTimeout):
            result = _submit(processor, _submission(payment, payee, funding, command.traceparent))
    with unit_of_work() as uow:
        now = clock.now()
        payment = uow.payments.get(command.tenant_id, command.payment_id)
        consumed = already_consumed(uow, _CONSUMER, command.message_id, at=now)
        if consumed or payment.status is not PaymentStatus.SCHEDULED:
            return payment.status  # NOTE: another delivery or worker got here first
        headers = headers_for(command, payment.tenant_id)
        if problem is not None:
            fail_with_exception(
                uow,
                payment,
                problem.code,
                problem.detail,
                ExceptionKind.VALIDATION_FAILED,
                headers,
                ids=ids,
                at=now,
            )
        else:
            payment.submit(processor_reference=payment.id, at=now)
            if result is not None:
                _apply_result(uow, payment, result, headers, ids=ids, at=now)
        save_payment(uow, payment, command, at=now)
        uow.commit()
    return payment.status


@dataclass(frozen=True)
class ReconcilePass:
    """What one pass of the reconciler did, and where the next one starts."""

    #: How many payments the processor's answers moved on.
    moved: int
    #: The last payment this pass asked about, or None to start again from the oldest.
    resume_after: str | None


def reconcile_payments(
    command: ReconcilePayments,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    ids: IdGenerator,
    processor: PaymentProcessor,
) -> ReconcilePass:
    """Settle payments left processing by asking the processor.

    A reference the processor has never seen was lost on the way there, so
    it is submitted again under the same reference.

    A processor that cannot answer now leaves the payments for the next
    pass; an open breaker ends this pass at once, and the next pass starts
    where it stopped. A pass takes up to ``limit`` payments after
    ``command.after``: payments the processor keeps in flight for days
    cannot keep the reconciler from the ones after them.
    """
    moved = 0
    with unit_of_work() as uow:
        processing = uow.payments.in_status(
            PaymentStatus.PROCESSING, limit=command.limit, after=command.after
        )
    resume_after = processing[-1].id if len(processing) == command.limit else None
    for index, stale in enumerate(processing):
        try:
            result = processor.outcome(stale.processor_reference or stale.id)
            if result.status is ProcessorStatus.UNKNOWN:
                with unit_of_work() as uow:
                    payee = uow.payees.get(stale.tenant_id, stale.payee_id)
                    funding = uow.funding_accounts.get(stale.tenant_id, stale.funding_account_id)
                result = _submit(processor, _submission(stale, payee, funding, command.traceparent))
            moved += _record_outcome(stale, result, command, unit_of_work, clock=clock, ids=ids)
        except DependencyDeferred:
            # NOTE: the next pass starts with this payment, the first not asked about
            return ReconcilePass(moved, processing[index - 1].id if index else command.after)
        except DependencyError:
            continue
        except Exception:  # NOTE: one payment's fault must not keep the pass from the rest
            logger.exception("payment not reconciled", extra={"payment_id": stale.id})
    return ReconcilePass(moved, resume_after)


def _record_outcome(
    stale: Payment,
    result: ProcessorResult,
    command: ReconcilePayments,
    unit_of_work: UnitOfWorkFactory,
    *,
    clock: Clock,
    ids: IdGenerator,
) -> int:
    """Apply the processor's answer to a payment still processing; 1 if it moved on."""
    with unit_of_work() as uow:
        payment = uow.payments.get(stale.tenant_id, stale.id)
        if payment.status is not PaymentStatus.PROCESSING:
            return 0
        now = clock.now()
        headers = headers_for(command, payment.tenant_id)
        _apply_result(uow, payment, result, headers, ids=ids, at=now)
        if not payment.pending_events:
            return 0
        save_payment(uow, payment, command, at=now)
        uow.commit()
        return 1


def record_payment_return(
    command: RecordPaymentReturn, *, unit_of_work: UnitOfWorkFactory, clock: Clock, ids: IdGenerator
) -> None:
    """Move a completed payment to returned and open an exception for it."""
    with unit_of_work() as uow:
        payment = uow.payments.get(command.tenant_id, command.payment_id)
        now = clock.now()
        headers = headers_for(command, payment.tenant_id)
        _return(uow, payment, command.return_code, command.reason, headers, ids=ids, at=now)
        save_payment(uow, payment, command, at=now)
        uow.commit()


#: What each processor event type stands for.
PROCESSOR_EVENTS = (
    "payment.settled",
    "payment.failed",
    "payment.returned",
    "payment.notification_of_change",
)


def apply_processor_event(
    command: ApplyProcessorEvent, *, unit_of_work: UnitOfWorkFactory, clock: Clock, ids: IdGenerator
) -> bool:
    """Apply an event the processor pushed; return False for one seen before.

    The event id goes into the inbox with the effect, so a replayed event
    has no second effect. An event that no longer fits the payment's state
    (a settlement the reconciler already recorded) is taken and changes nothing.
    """
    if command.event_type not in PROCESSOR_EVENTS:
        raise InvalidInput(f"unknown processor event type {command.event_type!r}")
    with unit_of_work() as uow:
        now = clock.now()
        if already_consumed(uow, "processor_events", command.event_id, at=now):
            return False
        payment = uow.payments.get(command.tenant_id, command.payment_id)
        headers = headers_for(command, payment.tenant_id)
        status = {
            "payment.settled": ProcessorStatus.SETTLED,
            "payment.failed": ProcessorStatus.FAILED,
            "payment.returned": ProcessorStatus.RETURNED,
        }.get(command.event_type)
        result = ProcessorResult(
            reference=payment.id,
            status=status or ProcessorStatus.ACCEPTED,
            failure_code=command.code,
            reason=command.reason,
        )
        if payment.status is PaymentStatus.PROCESSING:
            _apply_result(uow, payment, result, headers, ids=ids, at=now)
        elif payment.status is PaymentStatus.COMPLETED and status is ProcessorStatus.RETURNED:
            code, reason = command.code or "R01", command.reason or "returned"
            _return(uow, payment, code, reason, headers, ids=ids, at=now)
        save_payment(uow, payment, command, at=now)
        uow.commit()
    return True


def _submission(
    payment: Payment, payee: Payee, funding: FundingAccount, traceparent: str | None
) -> Submission:
    return Submission(
        reference=payment.processor_reference or payment.id,
        tenant_id=payment.tenant_id,
        amount=payment.amount,
        payee_id=payee.id,
        payee_name=payee.name,
        payee_account_number=payee.account_number,
        funding_account_id=funding.id,
        funding_routing_number=funding.routing_number,
        funding_account_number=funding.account_number,
        deliver_by=payment.deliver_by.isoformat(),
        traceparent=traceparent,
        funding_account_type=funding.account_type.value,
        funding_holder_name=funding.holder_name,
    )


def _submit(processor: PaymentProcessor, submission: Submission) -> ProcessorResult:
    """Submit; a refusal of the submission itself is the processor's "failed"."""
    try:
        return processor.submit(submission)
    except PaymentRefused as refusal:
        return ProcessorResult(
            reference=submission.reference,
            status=ProcessorStatus.FAILED,
            failure_code=refusal.code,
            reason=refusal.detail,
        )


def _apply_result(
    uow: UnitOfWork,
    payment: Payment,
    result: ProcessorResult,
    headers: m.Headers,
    *,
    ids: IdGenerator,
    at: datetime,
) -> None:
    if result.status in (ProcessorStatus.SETTLED, ProcessorStatus.RETURNED):
        payment.complete(at=at)
    if result.status is ProcessorStatus.RETURNED:
        code, reason = result.failure_code or "R01", result.reason or "returned"
        _return(uow, payment, code, reason, headers, ids=ids, at=at)
    if result.status is ProcessorStatus.FAILED:
        code = result.failure_code or "processor_error"
        kind = ExceptionKind.from_failure_code(code)
        reason = result.reason or "declined"
        fail_with_exception(uow, payment, code, reason, kind, headers, ids=ids, at=at)


def _return(
    uow: UnitOfWork,
    payment: Payment,
    code: str,
    reason: str,
    headers: m.Headers,
    *,
    ids: IdGenerator,
    at: datetime,
) -> None:
    payment.mark_returned(return_code=code, reason=reason, at=at)
    kind = ExceptionKind.RETURNED
    open_exception(uow, payment, ids=ids, at=at, kind=kind, reason_code=code, headers=headers)
