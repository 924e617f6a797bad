"""A tenant's webhook endpoint: registered, rotated, retried for days, paused, resumed, replayed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cbp.adapters.memory.clock import InMemoryClock
from cbp.adapters.memory.notifiers import InMemoryNotifier, InMemoryWebhookSender
from cbp.domain.errors import AlreadyExists, IllegalTransition, InvalidInput, NotFound
from cbp.domain.notification import NotificationStatus
from cbp.domain.webhook_endpoint import DEFAULT_RETRY_SCHEDULE, EndpointStatus
from cbp.ports.contracts import WebhookEndpointPaused
from cbp.ports.messages import DeliveryStatus
from cbp.ports.storage.notices import ExceptionFilter
from cbp.services import commands as c
from tests.unit.services.conftest import World

URL = "https://hooks.example.com/cbp"


def register(world: World, url: str = URL) -> str:
    issued = world.app.handle(c.RegisterWebhookEndpoint(tenant_id=world.tenant_id, url=url))
    assert issued.secret.startswith("whsec_")
    return str(issued.secret)


def exception_of_a_failed_payment(world: World) -> str:
    world.pay("25.13")
    world.app.run_until_idle()
    return world.app.queries.list_exceptions(ExceptionFilter(tenant_id=world.tenant_id)).items[0].id


def notify_by_webhook(world: World, exception_id: str) -> str:
    (notification_id,) = world.app.handle(
        c.SendCustomerNotification(
            tenant_id=world.tenant_id, exception_id=exception_id, channels=("webhook",)
        )
    )
    return str(notification_id)


def status(world: World, notification_id: str) -> tuple[NotificationStatus, int]:
    n = world.app.queries.get_notification(world.tenant_id, notification_id)
    return n.status, n.attempts


def test_a_webhook_goes_to_the_registered_endpoint_signed_with_its_secret(
    world: World, webhooks: InMemoryWebhookSender
) -> None:
    secret = register(world)
    notification_id = notify_by_webhook(world, exception_of_a_failed_payment(world))
    world.app.run_until_idle()
    assert status(world, notification_id) == (NotificationStatus.SENT, 1)
    [(url, _, secrets)] = [s for s in webhooks.sent if s[1].id == notification_id]
    assert (url, secrets) == (URL, [secret])


def test_an_endpoint_is_registered_once_and_internal_or_bad_urls_are_refused(
    world: World,
) -> None:
    register(world)
    with pytest.raises(AlreadyExists):
        register(world)
    for url in ("http://localhost:8000/x", "ftp://example.com/x", "https://a b.example.com/"):
        with pytest.raises(InvalidInput):
            world.app.handle(c.ChangeWebhookEndpoint(tenant_id=world.tenant_id, url=url))
    world.app.handle(c.ChangeWebhookEndpoint(tenant_id=world.tenant_id, url=URL + "/v2"))
    assert world.app.queries.webhook_endpoint(world.tenant_id).url == URL + "/v2"


def test_without_an_endpoint_a_webhook_notification_is_refused(world: World) -> None:
    exception_id = exception_of_a_failed_payment(world)
    with pytest.raises(InvalidInput, match="no webhook endpoint"):
        notify_by_webhook(world, exception_id)


def test_rotation_signs_with_both_secrets_for_the_overlap_then_the_new_one_only(
    world: World, webhooks: InMemoryWebhookSender, clock: InMemoryClock
) -> None:
    old = register(world)
    new = world.app.handle(c.RotateWebhookSecret(tenant_id=world.tenant_id)).secret
    exception_id = exception_of_a_failed_payment(world)
    notify_by_webhook(world, exception_id)
    world.app.run_until_idle()
    assert webhooks.sent[-1][2] == [new, old]
    clock.advance(hours=24, seconds=1)
    notify_by_webhook(world, exception_id)
    world.app.run_until_idle()
    assert webhooks.sent[-1][2] == [new]
    endpoint = world.app.queries.webhook_endpoint(world.tenant_id)
    assert endpoint.signing_secrets(clock.now()) == [new]


def test_a_failing_endpoint_is_retried_on_the_schedule_for_more_than_three_days(
    world: World, webhooks: InMemoryWebhookSender, clock: InMemoryClock
) -> None:
    assert sum(DEFAULT_RETRY_SCHEDULE) > 3 * 24 * 3600
    register(world)
    webhooks.failing_urls.add(URL)
    notification_id = notify_by_webhook(world, exception_of_a_failed_payment(world))
    world.app.run_until_idle()
    for attempt, wait in enumerate(DEFAULT_RETRY_SCHEDULE, start=1):
        assert status(world, notification_id) == (NotificationStatus.FAILED, attempt)
        clock.advance(seconds=wait - 1)
        world.app.run_until_idle()
        assert status(world, notification_id)[1] == attempt  # NOTE: not before its time
        clock.advance(seconds=1)
        world.app.run_until_idle()
    assert status(world, notification_id) == (
        NotificationStatus.DEAD,
        len(DEFAULT_RETRY_SCHEDULE) + 1,
    )
    with world.app.deps.unit_of_work() as uow:
        assert uow.deliveries.counts()[DeliveryStatus.DEAD] == 0  # NOTE: the schedule is its own


def test_an_endpoint_failing_for_days_is_paused_the_tenant_told_and_resume_sends_what_it_missed(
    world: World,
    webhooks: InMemoryWebhookSender,
    notifier: InMemoryNotifier,
    clock: InMemoryClock,
) -> None:
    world.app.handle(c.SetTenantContact(tenant_id=world.tenant_id, contact_email="ops@acme.test"))
    register(world)
    webhooks.failing_urls.add(URL)
    exception_id = exception_of_a_failed_payment(world)
    first = notify_by_webhook(world, exception_id)
    world.app.run_until_idle()
    for _ in range(6):  # NOTE: one day at a time, a new webhook each day, each failing
        clock.advance(days=1)
        notify_by_webhook(world, exception_id)
        world.app.run_until_idle()
    endpoint = world.app.queries.webhook_endpoint(world.tenant_id)
    assert endpoint.status is EndpointStatus.PAUSED
    told = [n for n in notifier.sent if n.template == "webhook_endpoint_paused"]
    assert [(n.recipient, n.customer_id) for n in told] == [("ops@acme.test", None)]
    events = [m.type for m in world.app.container.adapters.broker().messages]
    assert WebhookEndpointPaused.TYPE in events

    clock.advance(hours=1)
    paused_one = notify_by_webhook(world, exception_id)  # NOTE: made while paused: held
    world.app.run_until_idle()
    assert status(world, paused_one)[0] is NotificationStatus.DEAD
    delivered_before = len(webhooks.sent)
    webhooks.failing_urls.clear()
    replayed = world.app.handle(c.ResumeWebhookEndpoint(tenant_id=world.tenant_id))
    assert replayed == 8  # NOTE: the first, one a day for six days, and the held one
    world.app.run_until_idle()
    assert status(world, first)[0] is NotificationStatus.SENT
    assert status(world, paused_one)[0] is NotificationStatus.SENT
    assert len(webhooks.sent) - delivered_before == 8
    assert world.app.queries.webhook_endpoint(world.tenant_id).status is EndpointStatus.ACTIVE
    with pytest.raises(IllegalTransition):
        world.app.handle(c.ResumeWebhookEndpoint(tenant_id=world.tenant_id))


def test_replay_sends_past_webhooks_again_with_their_ids(
    world: World, webhooks: InMemoryWebhookSender, clock: InMemoryClock
) -> None:
    register(world)
    exception_id = exception_of_a_failed_payment(world)
    start = clock.now()
    ids = [notify_by_webhook(world, exception_id) for _ in range(3)]
    world.app.run_until_idle()
    webhooks.sent.clear()
    replayed = world.app.handle(
        c.ReplayWebhooks(tenant_id=world.tenant_id, since=start - timedelta(seconds=1))
    )
    assert replayed == 3
    world.app.run_until_idle()
    assert sorted(n.id for _, n, _ in webhooks.sent) == sorted(ids)
    assert (
        world.app.handle(c.ReplayWebhooks(tenant_id=world.tenant_id, since=start, unsent_only=True))
        == 0
    )


def test_a_removed_endpoint_gets_nothing_and_other_tenants_cannot_touch_it(
    world: World, webhooks: InMemoryWebhookSender
) -> None:
    register(world)
    exception_id = exception_of_a_failed_payment(world)
    notification_id = notify_by_webhook(world, exception_id)
    world.app.handle(c.RemoveWebhookEndpoint(tenant_id=world.tenant_id))
    world.app.run_until_idle()
    assert status(world, notification_id)[0] is NotificationStatus.DEAD
    assert webhooks.sent == []
    other = world.app.handle(c.CreateTenant(name="Other"))
    for command in (
        c.RotateWebhookSecret(tenant_id=other),
        c.RemoveWebhookEndpoint(tenant_id=other),
        c.ResumeWebhookEndpoint(tenant_id=other),
    ):
        with pytest.raises(NotFound):
            world.app.handle(command)
