"""Queueing due payments for processing: a job a caller polls, and the periodic sweep.

A payment goes to the processor once its send-on date has come in its
tenant's time zone, unless a job's ``send_now`` asks, in the audit log,
to send it early. Either way it is queued once.
"""

from __future__ import annotations

from datetime import date, timedelta

from cbp.domain import identifiers
from cbp.domain.errors import InvalidInput
from cbp.domain.payment import Payment, PaymentStatus
from cbp.domain.processing import ProcessJob
from cbp.ports import messages as m
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.ports.system import Clock, IdGenerator
from cbp.services.commands import (
    QueueDuePayments,
    StartProcessingJob,
)
from cbp.services.payments import (
    PAYMENT_PROCESSOR,
    QUEUED,
    hold_for_queueing,
    queue_processing,
)


def start_processing_job(
    command: StartProcessingJob, *, uow: UnitOfWork, clock: Clock, ids: IdGenerator
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
        payments = [uow.payments.get(tenant.id, pid) for pid in dict.fromkeys(command.payment_ids)]
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
    # NOTE: the job counts every payment it names; one already on its way (queued when
    # it was made, or by the sweep) is left to that delivery rather than sent twice
    on_their_way = _on_their_way(uow, payments)
    to_queue = [payment for payment in payments if payment.id not in on_their_way]
    hold_for_queueing(uow, to_queue)
    for payment in to_queue:
        queue_processing(uow, payment, ids=ids, at=now, job_id=job.id)
    return job.id


def _on_their_way(uow: UnitOfWork, payments: list[Payment]) -> set[str]:
    """The ids of those of ``payments`` queued already, whose processing is owed or done.

    Two reads however many payments: which were queued, and which of those
    still have a processing message or delivery pending. One queued whose
    processing is no longer owed was either dead-lettered (no longer on its
    way: it may go again) or processed after ``payments`` were read, its
    delivery done since: those few are read again, and one no longer
    scheduled is left out, so that it is not sent twice.
    """
    queued = uow.inbox.seen_among(QUEUED, [payment.id for payment in payments])
    owed = uow.deliveries.owed(m.PAYMENT_PROCESSING, PAYMENT_PROCESSOR, queued)
    no_longer_owed = queued - owed
    moved_on = {
        payment.id
        for payment in payments
        if payment.id in no_longer_owed
        and uow.payments.view(payment.tenant_id, payment.id).status is not PaymentStatus.SCHEDULED
    }
    return owed | moved_on


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


def queue_due_payments(
    command: QueueDuePayments, *, uow: UnitOfWork, clock: Clock, ids: IdGenerator
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
    local_today: dict[str, date] = {}
    to_queue = []
    due = uow.payments.due(horizon, limit=command.limit)
    on_their_way = _on_their_way(uow, due)
    for payment in due:
        if payment.id in on_their_way:
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
        queue_processing(uow, payment, ids=ids, at=now)
    return len(to_queue)
