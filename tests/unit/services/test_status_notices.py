"""Customers are told of exactly the payment status changes they opted into."""

from __future__ import annotations

import pytest

from cbp.adapters.memory.notifiers import InMemoryNotifier
from cbp.domain.customer import Channel
from cbp.domain.errors import InvalidInput
from cbp.ports.contracts import PaymentStatusChanged
from cbp.ports.messages import DeliveryStatus, Message, MessageKind
from cbp.services import commands as c
from tests.unit.services.conftest import World


def opt_in(world: World, *notify_on: str, channels: tuple[str, ...] | None = None) -> None:
    world.app.handle(
        c.SetNotificationPreferences(
            tenant_id=world.tenant_id,
            customer_id=world.customer_id,
            notification_channels=channels,
            notify_on=notify_on,
        )
    )


def status_notices(notifier: InMemoryNotifier) -> list[tuple[str, str, str | None]]:
    return sorted(
        (n.payload["payment_id"], n.payload["status"], n.payload.get("failure_code"))
        for n in notifier.sent
        if n.template == "payment_status"
    )


def test_a_customer_opted_into_failed_and_returned_gets_exactly_those(
    world: World, notifier: InMemoryNotifier
) -> None:
    opt_in(world, "failed", "returned")
    completed, failed, returned = world.pay("20.00"), world.pay("20.13"), world.pay("20.14")
    world.app.run_until_idle()
    assert [world.status(p) for p in (completed, failed, returned)] == [
        "completed",
        "failed",
        "returned",
    ]
    assert status_notices(notifier) == sorted(
        [(failed, "failed", "nsf"), (returned, "returned", "R01")]
    )
    assert {n.recipient for n in notifier.sent if n.template == "payment_status"} == {
        "ada@example.com"
    }


def test_every_step_a_customer_opted_into_is_told_once(
    world: World, notifier: InMemoryNotifier
) -> None:
    opt_in(world, "scheduled", "sent", "completed")
    payment_id = world.pay("20.00")
    world.app.run_until_idle()
    world.app.run_until_idle()
    assert status_notices(notifier) == [
        (payment_id, "completed", None),
        (payment_id, "scheduled", None),
        (payment_id, "sent", None),
    ]


def test_a_customer_who_opted_into_nothing_hears_only_of_exceptions(
    world: World, notifier: InMemoryNotifier
) -> None:
    world.pay("20.13")
    world.app.run_until_idle()
    assert status_notices(notifier) == []
    assert [n.template for n in notifier.sent] == ["payment_exception"]


def status_changed(world: World, *event_types: str) -> Message:
    """A status message of the events saved together, oldest first."""
    event_type = event_types[-1]
    change = PaymentStatusChanged(
        payment_id="pmt_1",
        tenant_id=world.tenant_id,
        customer_id=world.customer_id,
        event_type=event_type,
        event_id=f"evt_{event_type.lower()}",
        status="scheduled",
        version=len(event_types),
        event_types=event_types,
    )
    return Message(
        message_id=f"msg_{event_type.lower()}",
        kind=MessageKind.EVENT,
        destination=change.DESTINATION,
        type=change.TYPE,
        payload=change.encode(),
        created_at=world.app.deps.clock.now(),
    )


def test_a_payment_status_change_fans_out_to_each_of_its_subscribers(world: World) -> None:
    """The notifier takes only the changes the customer opted into; nothing else takes a
    delivery (the audit log records each change as it is published)."""
    opt_in(world, "completed", "failed")
    events = ["PaymentCreated", "PaymentValidated", "PaymentProcessed", "PaymentCompleted"]
    messages = [status_changed(world, event_type) for event_type in events]
    with world.app.deps.unit_of_work() as uow:
        routes = world.app.router.route(uow, messages)
    assert [routes[m.message_id] for m in messages] == [[], [], [], ["status-notifier"]]


def test_events_saved_together_are_one_message_and_each_opted_into_is_told(
    world: World, notifier: InMemoryNotifier
) -> None:
    opt_in(world, "sent", "completed")
    together = status_changed(world, "PaymentProcessed", "PaymentCompleted")
    created = status_changed(world, "PaymentCreated", "PaymentValidated")
    with world.app.deps.unit_of_work() as uow:
        routes = world.app.router.route(uow, [together, created])
    assert routes == {together.message_id: ["status-notifier"], created.message_id: []}
    world.app.router.consume(together, "status-notifier")
    world.app.router.consume(together, "status-notifier")  # NOTE: a duplicate tells no one
    world.app.run_until_idle()
    assert status_notices(notifier) == [("pmt_1", "completed", None), ("pmt_1", "sent", None)]
    versions = {n.payload["status"]: n.payload["version"] for n in notifier.sent}
    assert versions == {"sent": 1, "completed": 2}  # NOTE: a receiver can order them


def test_every_status_change_is_audited_and_the_chosen_one_delivered(
    world: World, notifier: InMemoryNotifier
) -> None:
    opt_in(world, "completed")
    payment_id = world.pay("20.00")
    world.app.run_until_idle()
    assert status_notices(notifier) == [(payment_id, "completed", None)]
    with world.app.deps.unit_of_work() as uow:
        assert uow.deliveries.counts().get(DeliveryStatus.PENDING, 0) == 0


@pytest.mark.parametrize(
    ("channels", "notify_on", "message"),
    [
        (("sms",), (), "cannot notify on sms: the customer has no phone number"),
        (("webhook",), (), "cannot notify on webhook: the tenant has no webhook endpoint"),
        ((), (), "choose at least one channel"),
        (("pigeon",), (), "notification_channels must be one of: email, sms, webhook"),
        (None, ("settled",), "notify_on must be one of: scheduled, sent, completed"),
    ],
)
def test_preferences_that_cannot_be_kept_are_refused(
    world: World, channels: tuple[str, ...] | None, notify_on: tuple[str, ...], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        opt_in(world, *notify_on, channels=channels)
    customer = world.app.queries.get_customer(world.tenant_id, world.customer_id)
    assert ([ch.value for ch in customer.notification_channels], customer.notify_on) == (
        ["email"],
        (),
    )


def test_preferences_left_out_stay_as_they_were(world: World) -> None:
    opt_in(world, "failed")
    world.app.handle(
        c.SetNotificationPreferences(
            tenant_id=world.tenant_id,
            customer_id=world.customer_id,
            notification_channels=("email",),
        )
    )
    customer = world.app.queries.get_customer(world.tenant_id, world.customer_id)
    assert [a.value for a in customer.notify_on] == ["failed"]


def test_a_customer_with_only_a_phone_is_told_by_text_and_can_change_their_choices(
    world: World,
) -> None:
    texted = world.app.handle(
        c.CreateCustomer(
            tenant_id=world.tenant_id, external_id="phone-only", name="Bo", phone="+15550100"
        )
    )
    assert [
        ch.value
        for ch in world.app.queries.get_customer(world.tenant_id, texted).notification_channels
    ] == ["sms"]
    world.app.handle(
        c.SetNotificationPreferences(
            tenant_id=world.tenant_id, customer_id=texted, notify_on=("failed",)
        )
    )
    world.app.handle(c.SetNotificationPreferences(tenant_id=world.tenant_id, customer_id=texted))
    customer = world.app.queries.get_customer(world.tenant_id, texted)
    assert (
        [ch.value for ch in customer.notification_channels],
        [a.value for a in customer.notify_on],
    ) == (
        ["sms"],
        ["failed"],
    )


def test_a_change_that_names_no_channel_drops_those_that_no_longer_reach_the_customer(
    world: World,
) -> None:
    customer = world.app.queries.get_customer(world.tenant_id, world.customer_id)
    customer.notification_channels = (Channel.EMAIL, Channel.WEBHOOK)  # NOTE: its endpoint removed
    assert customer.channels_kept(webhook_endpoint=False) == (Channel.EMAIL,)
    customer.email = None
    customer.phone = "+15550100"
    assert customer.channels_kept(webhook_endpoint=False) == (Channel.SMS,)
