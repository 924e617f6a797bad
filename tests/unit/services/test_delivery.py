"""Messaging in the core: the sweep, retries with back-off, dead letters, duplicates."""

from __future__ import annotations

from datetime import date

import pytest

from cbp.adapters.memory.clock import InMemoryClock
from cbp.adapters.memory.notifiers import InMemoryNotifier
from cbp.ports import contracts as ct
from cbp.ports.errors import DependencyDeferred
from cbp.ports.messages import DeliveryStatus, Message, subscriber_of
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.services import commands as c
from cbp.services.delivery import Consumer, RetryPolicy
from cbp.services.payments import PAYMENT_PROCESSOR
from tests.unit.services.conftest import World
from tests.unit.services.test_status_notices import opt_in, status_notices


def test_the_sweep_queues_a_payment_once_its_date_has_come_where_its_tenant_is(
    world: World, clock: InMemoryClock
) -> None:
    payment_id = world.pay(send_on=date(2026, 3, 3))
    world.app.run_until_idle()
    clock.advance(hours=10, minutes=30)  # 2026-03-03 00:30 UTC: still the 2nd in New York
    assert world.app.handle(c.QueueDuePayments()) == 0
    clock.advance(hours=13)  # 08:30 on the 3rd in New York
    assert world.app.handle(c.QueueDuePayments()) == 1
    assert world.app.handle(c.QueueDuePayments()) == 0, "a queued payment is not queued again"
    world.app.run_until_idle()
    assert world.status(payment_id) == "completed"


def test_the_sweep_takes_the_earliest_dates_first_whatever_the_ids(
    world: World, clock: InMemoryClock
) -> None:
    """Payments made earlier for a later date never crowd today's out of a sweep."""
    for _ in range(2):
        world.pay(send_on=date(2026, 3, 4))
    today = world.pay(send_on=date(2026, 3, 3))  # NOTE: the newest id
    clock.advance(days=1)  # NOTE: the 3rd in New York; the sweep also reads the 4th
    assert world.app.handle(c.QueueDuePayments(limit=2)) == 1
    world.app.run_until_idle()
    assert world.status(today) == "completed"


def test_a_payment_queued_at_creation_is_left_to_that_delivery(world: World) -> None:
    world.pay()
    assert world.app.handle(c.QueueDuePayments()) == 0


@pytest.mark.parametrize("attempts", [1, 2, 5, 12])
def test_retry_delays_grow_exponentially_under_a_cap_with_full_jitter(attempts: int) -> None:
    policy = RetryPolicy(retry_base_seconds=2, retry_max_seconds=60)
    ceiling = min(60, 2 * 2 ** (attempts - 1))
    delays = [policy.retry_delay(attempts) for _ in range(200)]
    assert all(0 <= d <= ceiling for d in delays)
    assert max(delays) > ceiling / 2, "the jitter should spread over the whole window"


def test_a_failing_delivery_backs_off_then_dead_letters_and_can_be_retried(world: World) -> None:
    app = world.app
    calls: list[str] = []

    def broken(message: Message, subscriber: str, uow: UnitOfWork | None = None) -> None:
        if subscriber != "payment-processor":
            app.router.consume(message, subscriber, uow)
            return
        calls.append(subscriber)
        raise RuntimeError("handler bug")

    app.run_until_idle()
    world.pay()
    app.deliveries.relay(app.router.route)
    broker = app.container.adapters.broker()
    for _ in range(app.deliveries.policy.max_attempts + 2):
        app.deliveries.dispatch_due(broker)
        broker.drain(lambda delivery_id: app.deliveries.consume(broken, delivery_id))
    assert calls == ["payment-processor"] * app.deliveries.policy.max_attempts
    assert app.deliveries.dispatch_due(broker) == 0, "a dead delivery is not sent again"
    (dead,) = app.queries.dead_letters()
    assert (dead.attempts, dead.status) == (
        app.deliveries.policy.max_attempts,
        DeliveryStatus.DEAD,
    )
    assert dead.last_error == "RuntimeError: handler bug"
    with app.deps.unit_of_work() as uow:
        (announced,) = [m for m in uow.outbox.pending(100) if m.destination == "system.events"]
    assert ct.decode(announced) == ct.DeliveryDeadLettered(
        delivery_id=dead.id,
        subscriber="payment-processor",
        message_type=ct.ProcessPaymentTask.TYPE,
        tenant_id=world.tenant_id,
        attempts=dead.attempts,
        error="RuntimeError: handler bug",
    )
    app.handle(c.RetryDeadLetter(delivery_id=dead.id))
    app.run_until_idle()
    assert app.queries.dead_letters() == []
    assert world.status(dead.message.payload["payment_id"]) == "completed"


def test_a_delivery_consumed_twice_has_one_effect(world: World) -> None:
    app = world.app
    app.run_until_idle()
    sent_before = len(app.container.adapters.broker().sent)
    payment_id = world.pay()
    app.deliveries.relay(app.router.route)
    app.deliveries.dispatch_due(app.container.adapters.broker())
    (delivery,) = [
        d
        for d in app.container.adapters.broker().sent[sent_before:]
        if d.subscriber == "payment-processor"
    ]
    assert app.consume(delivery.id) is DeliveryStatus.DONE
    assert app.consume(delivery.id) is DeliveryStatus.DONE  # a broker's duplicate
    app.run_until_idle()
    assert app.container.adapters.processor().submissions[payment_id] == 1


def test_delivered_messages_are_purged_after_the_retention_and_not_before(
    world: World, clock: InMemoryClock
) -> None:
    app = world.app
    world.pay()
    app.run_until_idle()
    assert app.handle(c.PurgeDeliveredMessages(older_than_days=7)) == 0
    clock.advance(days=8)
    assert app.handle(c.PurgeDeliveredMessages(older_than_days=7)) > 0
    with app.deps.unit_of_work() as uow:
        assert uow.deliveries.counts()[DeliveryStatus.DONE] == 0
        assert uow.outbox.backlog().pending == 0
    assert app.handle(c.PurgeDeliveredMessages(older_than_days=7)) == 0


def test_a_deferred_delivery_never_spends_its_attempts_nor_dead_letters(
    world: World, clock: InMemoryClock
) -> None:
    app = world.app
    deferrals = 0

    def processor_breaker_open(
        message: Message, subscriber: str, uow: UnitOfWork | None = None
    ) -> None:
        nonlocal deferrals
        if subscriber != "payment-processor":
            app.router.consume(message, subscriber, uow)
            return
        deferrals += 1
        raise DependencyDeferred("processor", "circuit breaker open", retry_after=5)

    app.run_until_idle()
    payment_id = world.pay()
    app.deliveries.relay(app.router.route)
    broker = app.container.adapters.broker()
    for _ in range(app.deliveries.policy.max_attempts * 3):
        app.deliveries.dispatch_due(broker)
        broker.drain(
            lambda delivery_id: app.deliveries.consume(processor_breaker_open, delivery_id)
        )
        clock.advance(seconds=10)
    assert deferrals == app.deliveries.policy.max_attempts * 3
    assert app.queries.dead_letters() == []
    assert world.status(payment_id) == "scheduled"
    app.run_until_idle()  # the processor is back
    assert world.status(payment_id) == "completed"


def test_the_sweep_queues_again_a_due_payment_whose_delivery_died(world: World) -> None:
    app = world.app

    def poison(message: Message, subscriber: str, uow: UnitOfWork | None = None) -> None:
        if subscriber != "payment-processor":
            app.router.consume(message, subscriber, uow)
            return
        raise RuntimeError("handler bug")

    app.run_until_idle()
    payment_id = world.pay()
    app.deliveries.relay(app.router.route)
    broker = app.container.adapters.broker()
    for _ in range(app.deliveries.policy.max_attempts + 1):
        app.deliveries.dispatch_due(broker)
        broker.drain(lambda delivery_id: app.deliveries.consume(poison, delivery_id))
    assert len(app.queries.dead_letters()) == 1
    assert world.status(payment_id) == "scheduled"
    assert app.handle(c.QueueDuePayments()) == 1, "stranded: nothing would move it"
    assert app.handle(c.QueueDuePayments()) == 0, "queued again once, not on every sweep"
    app.run_until_idle()
    assert world.status(payment_id) == "completed"


def test_a_local_subscriber_keeps_its_effect_only_with_its_delivery_done(
    world: World, notifier: InMemoryNotifier
) -> None:
    app = world.app
    opt_in(world, "scheduled")
    app.run_until_idle()
    failing = {"on": True}

    def notice_then_crash(message: Message, subscriber: str, uow: UnitOfWork | None = None) -> None:
        app.router.consume(message, subscriber, uow)  # NOTE: the notice queued, the inbox noted
        if subscriber == "status-notifier" and failing["on"]:
            raise RuntimeError("crashed before the delivery was marked done")

    def consume(delivery_id: str) -> DeliveryStatus:
        return app.deliveries.consume(
            notice_then_crash, delivery_id, in_one_transaction=app.router.is_local
        )

    payment_id = world.pay()
    app.deliveries.relay(app.router.route)
    broker = app.container.adapters.broker()
    app.deliveries.dispatch_due(broker)
    broker.drain(consume)
    with app.deps.unit_of_work() as uow:
        queued = [m.type for m in uow.outbox.pending(1000)]
    assert ct.DeliverNotificationTask.TYPE not in queued, "the notice queued was rolled back"
    failing["on"] = False
    app.run_until_idle()
    assert status_notices(notifier) == [(payment_id, "scheduled", None)]


def test_deliveries_sent_together_run_in_one_go_and_a_failure_runs_each_alone(
    world: World,
) -> None:
    app = world.app
    opt_in(world, "scheduled")
    app.run_until_idle()
    payments = [world.pay(f"{n}.00") for n in (11, 12, 13)]
    poisoned = payments[1]

    def notify_but_one(message: Message, subscriber: str, uow: UnitOfWork | None = None) -> None:
        if subscriber == "status-notifier" and message.payload.get("payment_id") == poisoned:
            raise RuntimeError("this one is broken")
        app.router.consume(message, subscriber, uow)

    app.deliveries.relay(app.router.route)
    broker = app.container.adapters.broker()
    app.deliveries.dispatch_due(broker, together=app.router.is_local)
    groups: list[tuple[str, ...]] = []

    def consume(*delivery_ids: str) -> None:
        groups.append(delivery_ids)
        if len(delivery_ids) == 1:
            app.deliveries.consume(notify_but_one, delivery_ids[0])
        else:
            app.deliveries.consume_together(
                notify_but_one, list(delivery_ids), in_one_transaction=app.router.is_local
            )

    broker.drain(consume)
    assert [len(g) for g in groups if "status-notifier" in g[0]] == [3]
    with app.deps.unit_of_work() as uow:
        statuses = {
            p: uow.deliveries.get(d).status
            for p in payments
            for d in next(g for g in groups if "status-notifier" in g[0])
            if uow.deliveries.get(d).message.payload["payment_id"] == p
        }
    assert statuses == {
        payments[0]: DeliveryStatus.DONE,
        poisoned: DeliveryStatus.PENDING,  # NOTE: its attempt failed alone; it backs off
        payments[2]: DeliveryStatus.DONE,
    }


def process_as_a_worker(world: World, consume: Consumer, sent: list[tuple[str, ...]]) -> None:
    """Relay, send and run what the payments made so far caused; note each processing message."""
    app = world.app
    app.deliveries.relay(app.router.route)
    broker = app.container.adapters.broker()
    app.deliveries.dispatch_due(broker, together=app.router.is_local)

    def worker(*delivery_ids: str) -> None:
        if subscriber_of(delivery_ids[0]) == PAYMENT_PROCESSOR:
            sent.append(delivery_ids)
        app.deliveries.consume_sent(
            consume, list(delivery_ids), in_one_transaction=app.router.is_local
        )

    broker.drain(worker)


def test_deliveries_of_a_subscriber_that_calls_out_go_together_and_run_each_on_its_own(
    world: World,
) -> None:
    app = world.app
    payments = [world.pay(amount) for amount in ("10.00", "11.00", "12.00")]

    def process_but_one(message: Message, subscriber: str, uow: UnitOfWork | None = None) -> None:
        if message.payload.get("payment_id") == payments[0]:
            raise RuntimeError("this one is broken")
        app.router.consume(message, subscriber, uow)

    sent: list[tuple[str, ...]] = []
    process_as_a_worker(world, process_but_one, sent)

    assert [len(ids) for ids in sent] == [3], "due at once: one broker message"
    assert [world.status(p) for p in payments] == ["scheduled", "completed", "completed"]


def test_deliveries_sent_together_not_begun_by_half_their_lease_are_left_to_it(
    world: World, clock: InMemoryClock
) -> None:
    app = world.app
    lease = app.deliveries.policy.lease_seconds
    payments = [world.pay(amount) for amount in ("11.00", "12.00", "13.00")]

    def slow(message: Message, subscriber: str, uow: UnitOfWork | None = None) -> None:
        app.router.consume(message, subscriber, uow)
        clock.advance(seconds=lease / 2 + 1)  # NOTE: a dependency that took its time

    sent: list[tuple[str, ...]] = []
    process_as_a_worker(world, slow, sent)

    assert [len(ids) for ids in sent] == [3]
    assert [world.status(p) for p in payments] == ["completed", "scheduled", "scheduled"]
    with app.deps.unit_of_work() as uow:
        statuses = [uow.deliveries.get(d).status for d in sent[0]]
        left = [uow.deliveries.get(d).leased_until for d in sent[0][1:]]
    assert statuses == [DeliveryStatus.DONE, DeliveryStatus.PENDING, DeliveryStatus.PENDING]
    assert all(left), "still leased: sent again when the lease ends"
    clock.advance(seconds=lease)
    app.run_until_idle()
    assert [world.status(p) for p in payments] == ["completed"] * 3


def test_deliveries_run_in_turn_are_marked_done_even_when_the_worker_is_stopped_among_them(
    world: World,
) -> None:
    app = world.app
    payments = [world.pay(amount) for amount in ("11.00", "12.00", "13.00")]
    runs: list[str] = []

    def stopped_on_the_second(
        message: Message, subscriber: str, uow: UnitOfWork | None = None
    ) -> None:
        runs.append(message.payload["payment_id"])
        if len(runs) == 2:
            raise SystemExit("the worker's time limit")  # NOTE: not an Exception: it escapes
        app.router.consume(message, subscriber, uow)

    sent: list[tuple[str, ...]] = []
    with pytest.raises(SystemExit):
        process_as_a_worker(world, stopped_on_the_second, sent)

    with app.deps.unit_of_work() as uow:
        statuses = [uow.deliveries.get(d).status for d in sent[0]]
    assert statuses == [DeliveryStatus.DONE, DeliveryStatus.PENDING, DeliveryStatus.PENDING]
    assert [world.status(p) for p in payments] == ["completed", "scheduled", "scheduled"]
