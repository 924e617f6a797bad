"""Getting every committed message to every subscriber, once, in order, or to dead letters.

Three steps, each safe to crash in:

1. ``Deliveries.relay`` fans each committed outbox message out into one delivery
   row per subscriber, in one transaction with marking it relayed.
2. ``Deliveries.dispatch_due`` leases the deliveries that may go now and hands them to
   the broker, several of one subscriber to a broker message when many are
   due at once. A delivery the broker loses, or whose worker dies, is
   leased again when its lease runs out.
3. ``Deliveries.consume`` (in a worker) runs the subscriber, whose effect
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
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from cbp.ports.contracts import DeliveryDeadLettered
from cbp.ports.errors import DependencyDeferred
from cbp.ports.messages import (
    SYSTEM_EVENTS,
    Delivery,
    DeliveryPostponed,
    DeliveryStatus,
    DeliveryTransport,
    Message,
    Undeliverable,
    subscriber_of,
)
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitsOfWork
from cbp.ports.system import Clock, IdGenerator
from cbp.services.commands import PurgeDeliveredMessages, RetryDeadLetter
from cbp.services.outbox import send

logger = logging.getLogger("cbp.delivery")

#: Each message's subscribers, by name, for a batch (the message router decides).
Subscribers = Callable[[UnitOfWork, list[Message]], dict[str, list[str]]]


#: How many deliveries of one local subscriber travel in one broker message.
TOGETHER = 50
#: How many of one subscriber that calls out travel in one, to be run one after another.
IN_TURN = 8


class Consumer(Protocol):
    """Runs one subscriber on one message (in ``uow``, if given); raises if it could not."""

    def __call__(self, message: Message, subscriber: str, uow: UnitOfWork | None = None) -> None:
        """Consume ``message`` as ``subscriber``."""
        ...


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How long a delivery is leased, and how failed attempts are spaced and counted."""

    lease_seconds: float = 60.0
    max_attempts: int = 8
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 300.0

    def retry_delay(self, attempts: int) -> float:
        """Seconds before attempt ``attempts + 1``: exponential, capped, full jitter."""
        ceiling = min(self.retry_max_seconds, self.retry_base_seconds * 2 ** max(0, attempts - 1))
        return random.uniform(0, ceiling)


@dataclass(frozen=True, kw_only=True)
class Deliveries:
    """The three steps of delivery, over the ports they use: relay, dispatch, consume."""

    unit_of_work: UnitsOfWork
    clock: Clock
    ids: IdGenerator
    policy: RetryPolicy

    def relay(self, subscribers: Subscribers, *, batch: int = 200) -> int:
        """Turn up to ``batch`` committed messages into deliveries; return how many."""
        with self.unit_of_work() as uow:
            pending = uow.outbox.pending(batch)
            if pending:
                now = self.clock.now()
                routes = subscribers(uow, pending)
                for message in pending:
                    uow.deliveries.schedule(message, routes[message.message_id], at=now)
                uow.outbox.mark_dispatched([m.message_id for m in pending], now)
            # NOTE: committed even when it found nothing: a rollback would cost the connection
            # its prepared statements on PostgreSQL
            uow.commit()
        return len(pending)

    def dispatch_due(
        self,
        transport: DeliveryTransport,
        *,
        limit: int = 200,
        together: Callable[[str], bool] = lambda subscriber: False,
    ) -> int:
        """Lease the deliveries that may go now and send them; return how many were sent.

        Deliveries of a subscriber for which ``together`` is true (one that
        only records) go in broker messages of up to ``TOGETHER``, to be
        consumed in one transaction; those of any other subscriber in
        messages of up to ``IN_TURN``, to be consumed one after another.
        When little is due, each goes alone, as soon as it is due; under
        load, a broker message carries several. A send that fails leaves
        the lease to run out, after which the delivery is due again: the
        database, not the broker, is the record of what is owed.
        """
        with self.unit_of_work() as uow:
            claimed = uow.deliveries.claim_due(
                self.clock.now(), lease_seconds=self.policy.lease_seconds, limit=limit
            )
            uow.commit()
        groups: dict[str, list[Delivery]] = {}
        for delivery in claimed:
            groups.setdefault(delivery.subscriber, []).append(delivery)
        batches: list[list[Delivery]] = []
        for subscriber, group in groups.items():
            size = TOGETHER if together(subscriber) else IN_TURN
            batches.extend(group[n : n + size] for n in range(0, len(group), size))
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

    def consume(
        self,
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
        status, ran = self._run(consume, delivery_id, in_one_transaction=in_one_transaction)
        if ran is not None:
            self._complete([ran])
        return status

    def _run(
        self, consume: Consumer, delivery_id: str, *, in_one_transaction: Callable[[str], bool]
    ) -> tuple[DeliveryStatus, Delivery | None]:
        """``consume`` but for marking done a delivery whose subscriber ran on its own.

        Returns the delivery's new status, and the delivery if it is still
        to be marked done (its subscriber committed in transactions of its
        own): until it is, a crash sends it again, which its subscriber
        answers as a duplicate.
        """
        if not in_one_transaction(subscriber_of(delivery_id)):
            with self.unit_of_work(read_only=True) as uow:
                delivery = uow.deliveries.get(delivery_id)
            return self._run_on_its_own(consume, delivery)
        failure: Exception | None = None
        with self.unit_of_work() as uow:
            delivery = uow.deliveries.get(delivery_id)
            if delivery.status is not DeliveryStatus.PENDING:
                return delivery.status, None  # NOTE: a duplicate from the broker; already settled
            try:
                consume(delivery.message, delivery.subscriber, uow)
                self._complete_in(uow, [delivery])
                uow.commit()
            except Exception as error:  # NOTE: all of it rolled back; kept below
                failure = error
        if failure is not None:
            return self._settle_failure(delivery, failure), None
        _log_delivered(delivery)
        return DeliveryStatus.DONE, None

    def _run_on_its_own(
        self, consume: Consumer, delivery: Delivery
    ) -> tuple[DeliveryStatus, Delivery | None]:
        """``_run`` for a delivery read beforehand, whose subscriber commits on its own."""
        if delivery.status is not DeliveryStatus.PENDING:
            return delivery.status, None  # NOTE: a duplicate from the broker; already settled
        try:
            consume(delivery.message, delivery.subscriber)
        except Exception as error:
            return self._settle_failure(delivery, error), None
        _log_delivered(delivery)
        return DeliveryStatus.DONE, delivery

    def consume_sent(
        self,
        consume: Consumer,
        delivery_ids: list[str],
        *,
        in_one_transaction: Callable[[str], bool] = lambda subscriber: False,
    ) -> None:
        """Run the deliveries of one broker message: together, in turn, or the one alone."""
        if len(delivery_ids) == 1:
            self.consume(consume, delivery_ids[0], in_one_transaction=in_one_transaction)
        elif in_one_transaction(subscriber_of(delivery_ids[0])):
            self.consume_together(consume, delivery_ids, in_one_transaction=in_one_transaction)
        else:
            self.consume_in_turn(consume, delivery_ids)

    def consume_in_turn(self, consume: Consumer, delivery_ids: list[str]) -> None:
        """Run deliveries sent together, each on its own, one after another.

        They are read in one statement; each then has its own transactions,
        retries and dead letter, as if it had come alone (its subscriber, not
        that read, answers a duplicate); those that ran are marked done
        together at the end, in one transaction (a crash before it sends
        them again, and their subscribers answer a duplicate as such). One
        not begun before half its lease has passed (those before it were
        slow: a dependency timing out) is left to its lease, and sent again
        when that ends, rather than run so late that it could be leased
        twice.
        """
        deadline = self.clock.now() + timedelta(seconds=self.policy.lease_seconds / 2)
        with self.unit_of_work(read_only=True) as uow:
            deliveries = uow.deliveries.get_many(delivery_ids)
        ran: list[Delivery] = []
        try:
            for n, delivery in enumerate(deliveries):
                if self.clock.now() > deadline:
                    logger.warning(
                        "deliveries sent together left to their leases",
                        extra={"delivery_ids": delivery_ids[n:]},
                    )
                    return
                _, done = self._run_on_its_own(consume, delivery)
                if done is not None:
                    ran.append(done)
        finally:
            if ran:
                self._complete(ran)

    def consume_together(
        self,
        consume: Consumer,
        delivery_ids: list[str],
        *,
        in_one_transaction: Callable[[str], bool] = lambda subscriber: False,
    ) -> None:
        """Run deliveries sent together in one transaction, or each on its own if one fails.

        They belong to one subscriber that only records, so one transaction
        holds every effect, inbox record and completion. If any of them
        fails, all of it is rolled back and each runs again alone, so only
        the failing one is retried or dead-lettered.
        """
        try:
            with self.unit_of_work() as uow:
                deliveries = uow.deliveries.get_many(delivery_ids)
                pending = [d for d in deliveries if d.status is DeliveryStatus.PENDING]
                for delivery in pending:
                    consume(delivery.message, delivery.subscriber, uow)
                self._complete_in(uow, pending)
                uow.commit()
        except Exception:  # NOTE: any one failure: each goes again on its own
            logger.info("deliveries sent together failed; running each alone", exc_info=True)
            for delivery_id in delivery_ids:
                self.consume(consume, delivery_id, in_one_transaction=in_one_transaction)
            return
        logger.info("delivered together", extra={"deliveries": len(pending)})

    def _complete(self, deliveries: list[Delivery]) -> None:
        """Mark done, in one transaction, deliveries whose subscribers committed on their own."""
        with self.unit_of_work() as uow:
            self._complete_in(uow, deliveries)
            uow.commit()

    def _complete_in(self, uow: UnitOfWork, deliveries: list[Delivery]) -> None:
        """Mark deliveries done in ``uow``, which commits them with the subscriber's effect."""
        for delivery in deliveries:
            uow.deliveries.complete(delivery.id, at=self.clock.now())

    def _settle_failure(self, delivery: Delivery, error: Exception) -> DeliveryStatus:
        """Defer, postpone, or count a failed attempt (retried, then dead-lettered)."""
        if isinstance(error, DependencyDeferred):
            return self._defer(delivery, error)
        if isinstance(error, DeliveryPostponed):
            return self._postpone(delivery, error)
        return self._record_failure(delivery, error, last=isinstance(error, Undeliverable))

    def _defer(self, delivery: Delivery, deferral: DependencyDeferred) -> DeliveryStatus:
        # NOTE: jittered so that deferred work does not come back as one herd
        delay = min(self.policy.retry_max_seconds, deferral.retry_after * random.uniform(1.0, 1.5))
        with self.unit_of_work() as uow:
            uow.deliveries.defer(
                delivery.id,
                until=self.clock.now() + timedelta(seconds=delay),
                reason=f"deferred: {deferral}"[:500],
            )
            uow.commit()
        logger.info(
            "delivery deferred",
            extra={"delivery_id": delivery.id, "subscriber": delivery.subscriber, "delay": delay},
        )
        return DeliveryStatus.PENDING

    def _postpone(self, delivery: Delivery, postponed: DeliveryPostponed) -> DeliveryStatus:
        with self.unit_of_work() as uow:
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
        self, delivery: Delivery, error: Exception, *, last: bool = False
    ) -> DeliveryStatus:
        reason = f"{type(error).__name__}: {error}"[:500]
        last = last or delivery.attempts >= self.policy.max_attempts
        retry_at = None
        if not last:
            delay = self.policy.retry_delay(delivery.attempts)
            retry_at = self.clock.now() + timedelta(seconds=delay)
        with self.unit_of_work() as uow:
            uow.deliveries.fail(delivery.id, error=reason, retry_at=retry_at)
            if last and delivery.message.destination != SYSTEM_EVENTS:
                self._announce_dead_letter(uow, delivery, reason)
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

    def _announce_dead_letter(self, uow: UnitOfWork, delivery: Delivery, reason: str) -> None:
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
        send(uow, dead, tenant_id=headers.tenant_id, ids=self.ids, at=self.clock.now())
        uow.outbox.stamp_cause(
            headers.correlation_id, None
        )  # NOTE: caused by the message that died


def _log_delivered(delivery: Delivery) -> None:
    logger.info(
        "delivered",
        extra={
            "delivery_id": delivery.id,
            "subscriber": delivery.subscriber,
            "message_type": delivery.message.type,
            "attempts": delivery.attempts,
            # NOTE: the cause's trace, wherever the worker runs (a span says the same)
            "trace_id": delivery.message.headers.trace_id,
            "correlation_id": delivery.message.headers.correlation_id,
        },
    )


def retry_dead_letter(command: RetryDeadLetter, *, uow: UnitOfWork, clock: Clock) -> None:
    """Give a dead delivery a fresh set of attempts, due now; audited."""
    now = clock.now()
    uow.deliveries.revive(command.delivery_id, at=now)


def purge_delivered_messages(
    command: PurgeDeliveredMessages, *, uow: UnitOfWork, clock: Clock
) -> int:
    """Delete done deliveries, then relayed messages no delivery needs; return how many.

    Dead and pending deliveries, and the messages they carry, are kept
    whatever their age. The inbox is kept, so a very late duplicate still
    finds its consumer's record.
    """
    cutoff = clock.now() - timedelta(days=command.older_than_days)
    purged = uow.deliveries.purge_done(cutoff, limit=command.batch)
    purged += uow.outbox.purge(cutoff, limit=command.batch)
    if purged:
        logger.info("purged delivered messages", extra={"rows": purged})
    return purged
