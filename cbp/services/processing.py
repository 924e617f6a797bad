"""Payment processing: submit to the processor, settle, reconcile, returns.

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
from datetime import datetime

from cbp.domain.directory import Address, GlobalPayee, PaymentMethod
from cbp.domain.errors import DomainError, InvalidInput
from cbp.domain.funding import FundingAccount
from cbp.domain.payee import Payee
from cbp.domain.payment import Payment, PaymentStatus
from cbp.domain.payment_exception import ExceptionKind
from cbp.ports.errors import (
    DependencyDeferred,
    DependencyError,
    DependencyTimeout,
    PaymentRefused,
)
from cbp.ports.processor import (
    PaymentProcessor,
    ProcessorResult,
    ProcessorStatus,
    Submission,
    TransactionalProcessor,
)
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitsOfWork
from cbp.ports.system import Clock, IdGenerator
from cbp.services.commands import (
    ApplyProcessorEvent,
    ProcessPayment,
    ReconcilePayments,
    RecordPaymentReturn,
)
from cbp.services.exceptions import fail_with_exception, return_with_exception
from cbp.services.inbox import already_consumed
from cbp.services.payments import (
    check_payable,
)

logger = logging.getLogger("cbp.processing")

_CONSUMER = "process_payment"


def process_payment(
    command: ProcessPayment,
    *,
    unit_of_work: UnitsOfWork,
    clock: Clock,
    ids: IdGenerator,
    processor: PaymentProcessor,
) -> PaymentStatus:
    """Submit a due payment to the processor and record what it said.

    A processor that is unavailable leaves the payment scheduled and raises,
    so the queue retries later; one that times out leaves it processing for
    the reconciler. A payment already past ``scheduled`` is left alone.

    A processor whose books are the payments' own database takes the
    submission in the transaction that records it; any other is called
    between a read (made only to read) and the transaction that records it,
    never holding the payment's row. What it said is recorded on the
    payment as that read found it; a change made in between makes the
    record conflict, and the retry finds the payment no longer scheduled.
    """
    if isinstance(processor, TransactionalProcessor):
        return _process_in_one_transaction(
            command, unit_of_work=unit_of_work, clock=clock, ids=ids, processor=processor
        )
    # NOTE: a message processed before needs no look in the inbox here: its record moved the
    # payment past scheduled in the same commit
    with unit_of_work(read_only=True) as uow:
        due = _due_for_processing(uow, command)
    if isinstance(due, PaymentStatus):
        return due
    result: ProcessorResult | None = None
    if due.submission is not None:
        # NOTE: on a timeout the outcome is unknown; the payment waits in processing
        # until the reconciler asks the processor.
        with contextlib.suppress(DependencyTimeout):
            result = _submit(processor, due.submission)
    with unit_of_work() as uow:
        now = clock.now()
        # NOTE: recorded on the payment as read, the message claimed with the commit: a
        # change made meanwhile (a cancellation, another worker, this message again) makes
        # the commit conflict, and the bus's retry finds the payment no longer scheduled
        if command.message_id is not None:
            uow.inbox.claim_on_commit(_CONSUMER, command.message_id, now)
        _record_submission(uow, due.payment, due.problem, result, ids=ids, at=now)
        uow.commit()
    return due.payment.status


def _process_in_one_transaction(
    command: ProcessPayment,
    *,
    unit_of_work: UnitsOfWork,
    clock: Clock,
    ids: IdGenerator,
    processor: TransactionalProcessor,
) -> PaymentStatus:
    """``process_payment`` for a processor whose submission commits with the payment."""
    with unit_of_work() as uow:
        now = clock.now()
        due = _due_for_processing(uow, command)
        if isinstance(due, PaymentStatus):
            return due
        if already_consumed(uow, _CONSUMER, command.message_id, at=now):
            return due.payment.status
        result = None
        if due.submission is not None:
            try:
                result = processor.submit_within(uow, due.submission)
            except PaymentRefused as refusal:
                result = _refused(due.submission, refusal)
        _record_submission(uow, due.payment, due.problem, result, ids=ids, at=now)
        uow.commit()
    return due.payment.status


@dataclass(frozen=True)
class _Due:
    """A scheduled payment about to be submitted, or the reason it cannot be."""

    payment: Payment
    #: What goes to the processor; None when ``problem`` keeps it from going.
    submission: Submission | None
    problem: DomainError | None


def _due_for_processing(uow: UnitOfWork, command: ProcessPayment) -> _Due | PaymentStatus:
    """The payment ready to submit, or its status when it is no longer scheduled."""
    payment = uow.payments.get(command.tenant_id, command.payment_id)
    if payment.status is not PaymentStatus.SCHEDULED:
        return payment.status
    try:
        parties = uow.parties.for_payment(
            payment.tenant_id, payment.customer_id, payment.payee_id, payment.funding_account_id
        )
        check_payable(parties)
    except DomainError as problem:
        return _Due(payment, None, problem)
    submission = _submission(
        payment, parties.payee, parties.funding_account, parties.biller, command.traceparent
    )
    return _Due(payment, submission, None)


def _record_submission(
    uow: UnitOfWork,
    payment: Payment,
    problem: DomainError | None,
    result: ProcessorResult | None,
    *,
    ids: IdGenerator,
    at: datetime,
) -> None:
    """Save the payment as submitted (with the processor's answer), or failed for ``problem``."""
    if problem is not None:
        fail_with_exception(
            uow,
            payment,
            problem.code,
            problem.detail,
            ExceptionKind.VALIDATION_FAILED,
            ids=ids,
            at=at,
        )
    else:
        payment.submit(processor_reference=payment.id, at=at)
        if result is not None:
            _apply_result(uow, payment, result, ids=ids, at=at)
    uow.payments.save(payment)


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
    unit_of_work: UnitsOfWork,
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
    with unit_of_work(read_only=True) as uow:
        processing = uow.payments.in_status(
            PaymentStatus.PROCESSING, limit=command.limit, after=command.after
        )
    resume_after = processing[-1].id if len(processing) == command.limit else None
    for index, stale in enumerate(processing):
        try:
            result = processor.outcome(stale.processor_reference or stale.id)
            if result.status is ProcessorStatus.UNKNOWN:
                with unit_of_work(read_only=True) as uow:
                    parties = uow.parties.for_payment(
                        stale.tenant_id, stale.customer_id, stale.payee_id, stale.funding_account_id
                    )
                submission = _submission(
                    stale,
                    parties.payee,
                    parties.funding_account,
                    parties.biller,
                    command.traceparent,
                )
                result = _submit(processor, submission)
            moved += _record_outcome(stale, result, unit_of_work, clock=clock, ids=ids)
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
    unit_of_work: UnitsOfWork,
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
        _apply_result(uow, payment, result, ids=ids, at=now)
        if not payment.pending_events:
            return 0
        uow.payments.save(payment)
        uow.commit()
        return 1


def record_payment_return(
    command: RecordPaymentReturn, *, uow: UnitOfWork, clock: Clock, ids: IdGenerator
) -> None:
    """Move a completed payment to returned and open an exception for it."""
    payment = uow.payments.get(command.tenant_id, command.payment_id)
    now = clock.now()
    return_with_exception(uow, payment, command.return_code, command.reason, ids=ids, at=now)
    uow.payments.save(payment)


#: What each processor event type stands for.
PROCESSOR_EVENTS = (
    "payment.settled",
    "payment.failed",
    "payment.returned",
    "payment.notification_of_change",
)


def apply_processor_event(
    command: ApplyProcessorEvent, *, uow: UnitOfWork, clock: Clock, ids: IdGenerator
) -> bool:
    """Apply an event the processor pushed; return False for one seen before.

    The event id goes into the inbox with the effect, so a replayed event
    has no second effect. An event that no longer fits the payment's state
    (a settlement the reconciler already recorded) is taken and changes nothing.
    """
    if command.event_type not in PROCESSOR_EVENTS:
        raise InvalidInput(f"unknown processor event type {command.event_type!r}")
    now = clock.now()
    if already_consumed(uow, "processor_events", command.event_id, at=now):
        return False
    payment = uow.payments.get(command.tenant_id, command.payment_id)
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
        _apply_result(uow, payment, result, ids=ids, at=now)
    elif payment.status is PaymentStatus.COMPLETED and status is ProcessorStatus.RETURNED:
        code, reason = command.code or "R01", command.reason or "returned"
        return_with_exception(uow, payment, code, reason, ids=ids, at=now)
    uow.payments.save(payment)
    return True


def _submission(
    payment: Payment,
    payee: Payee,
    funding: FundingAccount,
    biller: GlobalPayee | None,
    traceparent: str | None,
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
        mail_to=_check_address(payee, biller),
    )


def _check_address(payee: Payee, biller: GlobalPayee | None) -> Address | None:
    """Where a check to the payee is mailed, if it is paid by check.

    A personal payee has no electronic path; a directory biller is paid by
    check when its method says so.
    """
    if biller is None:
        return payee.address
    return biller.address if biller.payment_method is PaymentMethod.CHECK else None


def _submit(processor: PaymentProcessor, submission: Submission) -> ProcessorResult:
    """Submit; a refusal of the submission itself is the processor's "failed"."""
    try:
        return processor.submit(submission)
    except PaymentRefused as refusal:
        return _refused(submission, refusal)


def _refused(submission: Submission, refusal: PaymentRefused) -> ProcessorResult:
    """The processor's refusal of the submission itself, as its "failed" answer."""
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
    *,
    ids: IdGenerator,
    at: datetime,
) -> None:
    if result.status in (ProcessorStatus.SETTLED, ProcessorStatus.RETURNED):
        payment.complete(at=at)
    if result.status is ProcessorStatus.RETURNED:
        code, reason = result.failure_code or "R01", result.reason or "returned"
        return_with_exception(uow, payment, code, reason, ids=ids, at=at)
    if result.status is ProcessorStatus.FAILED:
        code = result.failure_code or "processor_error"
        kind = ExceptionKind.from_failure_code(code)
        reason = result.reason or "declined"
        fail_with_exception(uow, payment, code, reason, kind, ids=ids, at=at)
