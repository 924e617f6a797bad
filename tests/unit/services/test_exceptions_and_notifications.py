import pytest

from cbp.domain.errors import IllegalTransition, InvalidInput, NotFound
from cbp.domain.notification import NotificationStatus
from cbp.domain.payment_exception import ExceptionStatus
from cbp.ports.storage.notices import ExceptionFilter
from cbp.services import commands as c
from tests.unit.services.conftest import World, make_world


def failed_payment_exception(world: World) -> str:
    world.pay("25.13")
    world.app.run_until_idle()
    return world.app.queries.list_exceptions(ExceptionFilter(tenant_id=world.tenant_id)).items[0].id


def test_sending_a_notification_answers_with_ids_and_delivers_in_the_background(
    world: World, notifier
) -> None:  # type: ignore[no-untyped-def]
    exception_id = failed_payment_exception(world)
    notifier.sent.clear()
    ids = world.app.handle(
        c.SendCustomerNotification(
            tenant_id=world.tenant_id, exception_id=exception_id, channels=("email",)
        )
    )
    (notification_id,) = ids
    assert (
        world.app.queries.get_notification(world.tenant_id, notification_id).status
        is NotificationStatus.PENDING
    )
    world.app.run_until_idle()
    assert (
        world.app.queries.get_notification(world.tenant_id, notification_id).status
        is NotificationStatus.SENT
    )
    assert [n.id for n in notifier.sent] == [notification_id]


def test_a_failing_recipient_is_retried_then_dead_after_the_last_attempt(
    world: World, notifier
) -> None:  # type: ignore[no-untyped-def]
    notifier.failing_recipients.add("ada@example.com")
    world.pay("25.13")
    world.app.run_until_idle()
    exception = world.app.queries.list_exceptions(ExceptionFilter(tenant_id=world.tenant_id)).items[
        0
    ]
    assert exception.status is ExceptionStatus.OPEN
    with world.app.deps.unit_of_work() as uow:
        (notification,) = [
            uow.notifications.get_any(m.payload["notification_id"])
            for m in world.app.container.adapters.broker().messages
            if m.destination == "notification.delivery"
        ]
    assert (notification.status, notification.attempts) == (NotificationStatus.DEAD, 3)
    assert "refused" in (notification.last_error or "")


def test_a_channel_without_a_recipient_is_never_delivered(world: World) -> None:
    exception_id = failed_payment_exception(world)
    (notification_id,) = world.app.handle(
        c.SendCustomerNotification(
            tenant_id=world.tenant_id, exception_id=exception_id, channels=("sms",)
        )
    )
    world.app.run_until_idle()
    notification = world.app.queries.get_notification(world.tenant_id, notification_id)
    assert notification.status is NotificationStatus.DEAD


def test_unknown_channels_and_other_tenants_exceptions_are_refused(app) -> None:  # type: ignore[no-untyped-def]
    acme, other = make_world(app, "Acme"), make_world(app, "Other")
    exception_id = failed_payment_exception(acme)
    with pytest.raises(InvalidInput, match="channels"):
        app.handle(
            c.SendCustomerNotification(
                tenant_id=acme.tenant_id, exception_id=exception_id, channels=("fax",)
            )
        )
    with pytest.raises(NotFound):
        app.handle(c.SendCustomerNotification(tenant_id=other.tenant_id, exception_id=exception_id))
    with pytest.raises(NotFound):
        app.queries.get_exception(other.tenant_id, exception_id)


def test_an_exception_is_resolved_once(world: World) -> None:
    exception_id = failed_payment_exception(world)
    world.app.handle(
        c.ResolveException(
            tenant_id=world.tenant_id, exception_id=exception_id, resolution="paid by check"
        )
    )
    exception = world.app.queries.get_exception(world.tenant_id, exception_id)
    assert (exception.status, exception.resolution) == (ExceptionStatus.RESOLVED, "paid by check")
    assert exception.resolved_at is not None
    with pytest.raises(IllegalTransition):
        world.app.handle(
            c.ResolveException(tenant_id=world.tenant_id, exception_id=exception_id, resolution="x")
        )
    still_open = ExceptionFilter(tenant_id=world.tenant_id, status=ExceptionStatus.OPEN)
    assert world.app.queries.list_exceptions(still_open).items == []


def test_a_channel_down_for_longer_than_every_attempt_spends_none_and_sends_after(
    world: World, notifier, clock
) -> None:  # type: ignore[no-untyped-def]
    exception_id = failed_payment_exception(world)
    notifier.sent.clear()
    notifier.down = True
    (notification_id,) = world.app.handle(
        c.SendCustomerNotification(
            tenant_id=world.tenant_id, exception_id=exception_id, channels=("email",)
        )
    )
    for _ in range(20):  # NOTE: far more tries than the notice's or its delivery's attempts
        world.app.run_until_idle()
        clock.advance(minutes=10)
    notification = world.app.queries.get_notification(world.tenant_id, notification_id)
    assert (notification.status, notification.attempts) == (NotificationStatus.PENDING, 0)
    assert world.app.queries.dead_letters() == []
    notifier.down = False
    clock.advance(minutes=10)
    world.app.run_until_idle()
    notification = world.app.queries.get_notification(world.tenant_id, notification_id)
    assert notification.status is NotificationStatus.SENT
    assert [n.id for n in notifier.sent] == [notification_id]


def test_a_notice_that_fails_for_good_is_a_dead_letter_and_announced(
    world: World, notifier
) -> None:  # type: ignore[no-untyped-def]
    notifier.failing_recipients.add("ada@example.com")
    world.pay("25.13")
    world.app.run_until_idle()
    (dead,) = world.app.queries.dead_letters()
    assert dead.subscriber.startswith("notification") and "failed 3 times" in (
        dead.last_error or ""
    )
    with world.app.deps.unit_of_work() as uow:
        announced = [
            m.payload["delivery_id"]
            for m in uow.outbox.pending(1000)
            if m.type == "delivery.dead_lettered"
        ] + [
            m.payload["delivery_id"]
            for m in world.app.container.adapters.broker().messages
            if m.type == "delivery.dead_lettered"
        ]
    assert dead.id in announced
