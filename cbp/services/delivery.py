"""Getting every committed message to every subscriber, once, in order, or to dead letters.

Three steps, each safe to crash in:

1. ``relay_outbox`` fans each committed outbox message out into one delivery
   row per subscriber, in one transaction with marking it relayed.
2. ``dispatch_due`` leases the deliveries that may go now and hands them to
   the broker. A delivery the broker loses, or whose worker dies, is leased
   again when its lease runs out.
3. ``consume_delivery`` (in a worker) runs the subscriber, whose effect
   commits with an inbox record of the message id, then marks the delivery
   done; a failure backs off exponentially with full jitter, and the last
   allowed attempt dead-letters it. A subscriber whose dependency could not
   take the work (an open breaker, a full bulkhead) defers it instead: it
   comes back later and the attempt is given back, so an outage of a party
   outside never turns work into dead letters.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import timedelta

from cbp.ports.contracts import DeliveryDeadLettered
from cbp.ports.errors import DependencyDeferred
from cbp.ports.messages import (
    SYSTEM_EVENTS,
    Delivery,
    DeliveryPostponed,
    DeliveryStatus,
    DeliveryTransport,
    Headers,
    Message,
    Undeliverable,
)
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitOfWorkFactory
from cbp.ports.system import Clock
from cbp.services import auditing
from cbp.services.commands import PurgeDeliveredMessages, RetryDeadLetter
from cbp.services.dependencies import Dependencies, ServiceOptions
from cbp.services.outbox import send
from cbp.services.transaction import RequestTransaction

logger = logging.getLogger("cbp.delivery")

#: Each message's subscribers, by name, for a batch (the message router decides).
Subscribers = Callable[[UnitOfWork, list[Message]], dict[str, list[str]]]
#: Runs one subscriber on one message; raises if it could not.
Consumer = Callable[[Message, str], None]


def relay_outbox(deps: Dependencies, *, subscribers: Subscribers, batch: int = 200) -> int:
    """Turn up to ``batch`` committed messages into deliveries; return how many."""
    with deps.unit_of_work() as uow:
        pending = uow.outbox.pending(batch)
        if not pending:
            return 0
        now = deps.clock.now()
        routes = subscribers(uow, pending)
        for message in pending:
            uow.deliveries.schedule(message, routes[message.message_id], at=now)
        uow.outbox.mark_dispatched([m.message_id for m in pending], now)
        uow.commit()
    return len(pending)


#: How many deliveries of one local subscriber travel in one broker message.
TOGETHER = 50


def dispatch_due(
    deps: Dependencies,
    transport: DeliveryTransport,
    *,
    limit: int = 200,
    together: Callable[[str], bool] = lambda subscriber: False,
) -> int:
    """Lease the deliveries that may go now and send them; return how many were sent.

    Deliveries of a subscriber for which ``together`` is true (one that only
    records) go in broker messages of up to ``TOGETHER``, to be consumed in
    one transaction. A send that fails leaves the lease to run out, after
    which the delivery is due again: the database, not the broker, is the
    record of what is owed.
    """
    with deps.unit_of_work() as uow:
        claimed = uow.deliveries.claim_due(
            deps.clock.now(), lease_seconds=deps.options.delivery_lease_seconds, limit=limit
        )
        uow.commit()
    groups: dict[str, list[Delivery]] = {}
    batches: list[list[Delivery]] = []
    for delivery in claimed:
        if together(delivery.subscriber):
            groups.setdefault(delivery.subscriber, []).append(delivery)
        else:
            batches.append([delivery])
    for group in groups.values():
        batches.extend(group[n : n + TOGETHER] for n in range(0, len(group), TOGETHER))
    sent = 0
    for batch in batches:
        try:
            transport.send_together(batch)
            sent += len(batch)
        except Exception:  # NOTE: any broker failure: the lease brings it back
            logger.warning(
                "broker did not take a delivery; it goes again when its lease ends",
                extra={"delivery_ids": [delivery.id for delivery in batch]},
                exc_info=True,
            )
    return sent


def consume_delivery(
    deps: Dependencies,
    consume: Consumer,
    delivery_id: str,
    *,
    in_one_transaction: Callable[[str], bool] = lambda subscriber: False,
) -> DeliveryStatus:
    """Run one delivery's subscriber and record the outcome; return its new status.

    A subscriber for which ``in_one_transaction`` is true touches nothing
    but the database: reading the delivery, its effect, its inbox record
    and marking it done then commit as one transaction.
    """
    failure: Exception | None = None
    with RequestTransaction(deps.unit_of_work) as transaction:
        with deps.unit_of_work() as uow:
            delivery = uow.deliveries.get(delivery_id)
        pending = delivery.status is DeliveryStatus.PENDING
        atomic = pending and in_one_transaction(delivery.subscriber)
        if atomic:
            try:
                consume(delivery.message, delivery.subscriber)
                _complete(deps, [delivery])
                transaction.commit()
            except Exception as error:  # NOTE: all of it rolled back; the failure is kept below
                failure = error
        transaction.close()
    if not pending:
        return delivery.status  # NOTE: a duplicate from the broker; already settled
    if not atomic:
        try:
            consume(delivery.message, delivery.subscriber)
        except Exception as error:
            failure = error
        else:
            _complete(deps, [delivery])
    if failure is not None:
        return _settle_failure(deps, delivery, failure)
    logger.info(
        "delivered",
        extra={
            "delivery_id": delivery.id,
            "subscriber": delivery.subscriber,
            "message_type": delivery.message.type,
            "attempts": delivery.attempts,
            # NOTE: the cause's trace, wherever the worker runs (a span, if any, says the same)
            "trace_id": delivery.message.headers.trace_id,
            "correlation_id": delivery.message.headers.correlation_id,
        },
    )
    return DeliveryStatus.DONE


def consume_together(
    deps: Dependencies,
    consume: Consumer,
    delivery_ids: list[str],
    *,
    in_one_transaction: Callable[[str], bool] = lambda subscriber: False,
) -> None:
    """Run deliveries sent together in one transaction, or each on its own if one fails.

    They belong to one subscriber that only records, so one transaction holds
    every effect, inbox record and completion. If any of them fails, all of
    it is rolled back and each runs again alone, so only the failing one is
    retried or dead-lettered.
    """
    try:
        with RequestTransaction(deps.unit_of_work) as transaction:
            with deps.unit_of_work() as uow:
                deliveries = [uow.deliveries.get(delivery_id) for delivery_id in delivery_ids]
            pending = [d for d in deliveries if d.status is DeliveryStatus.PENDING]
            for delivery in pending:
                consume(delivery.message, delivery.subscriber)
            _complete(deps, pending)
            transaction.commit()
    except Exception:  # NOTE: any one failure: each goes again on its own
        logger.info("deliveries sent together failed; running each alone", exc_info=True)
        for delivery_id in delivery_ids:
            consume_delivery(deps, consume, delivery_id, in_one_transaction=in_one_transaction)
        return
    logger.info("delivered together", extra={"deliveries": len(pending)})


def _complete(deps: Dependencies, deliveries: list[Delivery]) -> None:
    """Mark deliveries done (in the caller's transaction, when it has one to join)."""
    with deps.unit_of_work() as uow:
        for delivery in deliveries:
            uow.deliveries.complete(delivery.id, at=deps.clock.now())
        uow.commit()


def _settle_failure(deps: Dependencies, delivery: Delivery, error: Exception) -> DeliveryStatus:
    """Defer, postpone, or count a failed attempt (retried, then dead-lettered)."""
    if isinstance(error, DependencyDeferred):
        return _defer(deps, delivery, error)
    if isinstance(error, DeliveryPostponed):
        return _postpone(deps, delivery, error)
    return _record_failure(deps, delivery, error, last=isinstance(error, Undeliverable))


def retry_delay(options: ServiceOptions, attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: exponential, capped, full jitter."""
    ceiling = min(
        options.delivery_retry_max_seconds,
        options.delivery_retry_base_seconds * 2 ** max(0, attempts - 1),
    )
    return random.uniform(0, ceiling)


def _defer(deps: Dependencies, delivery: Delivery, deferral: DependencyDeferred) -> DeliveryStatus:
    # NOTE: jittered so that deferred work does not come back as one herd
    delay = min(
        deps.options.delivery_retry_max_seconds,
        deferral.retry_after * random.uniform(1.0, 1.5),
    )
    with deps.unit_of_work() as uow:
        uow.deliveries.defer(
            delivery.id,
            until=deps.clock.now() + timedelta(seconds=delay),
            reason=f"deferred: {deferral}"[:500],
        )
        uow.commit()
    logger.info(
        "delivery deferred",
        extra={"delivery_id": delivery.id, "subscriber": delivery.subscriber, "delay": delay},
    )
    return DeliveryStatus.PENDING


def _postpone(
    deps: Dependencies, delivery: Delivery, postponed: DeliveryPostponed
) -> DeliveryStatus:
    with deps.unit_of_work() as uow:
        uow.deliveries.defer(delivery.id, until=postponed.until, reason=str(postponed)[:500])
        uow.commit()
    logger.info(
        "delivery postponed",
        extra={
            "delivery_id": delivery.id,
            "subscriber": delivery.subscriber,
            "until": postponed.until.isoformat(),
        },
    )
    return DeliveryStatus.PENDING


def _record_failure(
    deps: Dependencies, delivery: Delivery, error: Exception, *, last: bool = False
) -> DeliveryStatus:
    reason = f"{type(error).__name__}: {error}"[:500]
    last = last or delivery.attempts >= deps.options.delivery_max_attempts
    retry_at = None
    if not last:
        delay = retry_delay(deps.options, delivery.attempts)
        retry_at = deps.clock.now() + timedelta(seconds=delay)
    with deps.unit_of_work() as uow:
        uow.deliveries.fail(delivery.id, error=reason, retry_at=retry_at)
        if last and delivery.message.destination != SYSTEM_EVENTS:
            _announce_dead_letter(uow, deps, delivery, reason)
        uow.commit()
    logger.warning(
        "delivery dead-lettered" if last else "delivery failed; retrying later",
        extra={
            "delivery_id": delivery.id,
            "subscriber": delivery.subscriber,
            "attempts": delivery.attempts,
            "error": reason,
        },
    )
    return DeliveryStatus.DEAD if last else DeliveryStatus.PENDING


def _announce_dead_letter(
    uow: UnitOfWork, deps: Dependencies, delivery: Delivery, reason: str
) -> None:
    """Tell operators' subscribers on system.events, with the dead letter itself.

    A dead letter of system.events is not announced: that could loop.
    """
    headers = delivery.message.headers
    dead = DeliveryDeadLettered(
        delivery_id=delivery.id,
        subscriber=delivery.subscriber,
        message_type=delivery.message.type,
        tenant_id=headers.tenant_id,
        attempts=delivery.attempts,
        error=reason,
    )
    headers = Headers(tenant_id=headers.tenant_id, correlation_id=headers.correlation_id)
    send(uow, dead, headers, ids=deps.ids, at=deps.clock.now())


def retry_dead_letter(
    command: RetryDeadLetter, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> None:
    """Give a dead delivery a fresh set of attempts, due now; audited."""
    now = clock.now()
    with unit_of_work() as uow:
        uow.deliveries.revive(command.delivery_id, at=now)
        auditing.record(uow, command, at=now, tenant_id=None, subject_id=command.delivery_id)
        uow.commit()


def purge_delivered_messages(
    command: PurgeDeliveredMessages, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> int:
    """Delete done deliveries, then relayed messages no delivery needs; return how many.

    Dead and pending deliveries, and the messages they carry, are kept
    whatever their age. The inbox is kept, so a very late duplicate still
    finds its consumer's record.
    """
    cutoff = clock.now() - timedelta(days=command.older_than_days)
    with unit_of_work() as uow:
        purged = uow.deliveries.purge_done(cutoff, limit=command.batch)
        purged += uow.outbox.purge(cutoff, limit=command.batch)
        uow.commit()
    if purged:
        logger.info("purged delivered messages", extra={"rows": purged})
    return purged


def dead_letters(deps: Dependencies, *, limit: int, tenant_id: str | None = None) -> list[Delivery]:
    """Deliveries that ran out of attempts, oldest first; only one tenant's if named."""
    with deps.unit_of_work() as uow:
        return uow.deliveries.dead_letters(limit=limit, tenant_id=tenant_id)
