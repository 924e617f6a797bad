"""Delivering notifications, one attempt at a time."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any, Protocol

from cbp.domain import identifiers
from cbp.domain.customer import Channel, Customer
from cbp.domain.errors import IllegalTransition
from cbp.domain.notification import Notification, NotificationStatus
from cbp.domain.webhook_endpoint import EndpointStatus, WebhookEndpoint, next_retry
from cbp.ports.contracts import DeliverNotificationTask, WebhookEndpointPaused
from cbp.ports.errors import (
    DependencyDeferred,
    DependencyError,
    DependencyTimeout,
    DependencyUnavailable,
)
from cbp.ports.messages import DeliveryPostponed, Undeliverable
from cbp.ports.notifiers import Notifier, WebhookSender
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitsOfWork
from cbp.ports.system import Clock, IdGenerator
from cbp.services.commands import DeliverNotification
from cbp.services.outbox import send

#: How long a notice waits before trying a channel that is down again (capped by settings).
CHANNEL_OUTAGE_RETRY_SECONDS = 5.0


class DeliveryOutcome(enum.StrEnum):
    """What the messaging layer should do after an attempt."""

    SENT = "sent"
    RETRY = "retry"
    DEAD = "dead"
    ALREADY_SETTLED = "already_settled"


def queue_notification(
    uow: UnitOfWork,
    notification: Notification,
    *,
    ids: IdGenerator,
    at: datetime,
) -> None:
    """Store a notification and queue its delivery, in the caller's transaction."""
    uow.notifications.add(notification)
    queue_delivery(uow, notification, ids=ids, at=at)


def notify_customer(
    uow: UnitOfWork,
    customer: Customer,
    *,
    channels: tuple[Channel, ...],
    template: str,
    payload: dict[str, Any],
    ids: IdGenerator,
    at: datetime,
    exception_id: str | None = None,
) -> list[str]:
    """Queue one notification to the customer per channel; return their ids.

    ``payload`` is what the template is filled with: ids, statuses and
    codes, never an account number.
    """
    created: list[str] = []
    for channel in channels:
        notification = Notification(
            id=ids.new(identifiers.NOTIFICATION),
            tenant_id=customer.tenant_id,
            customer_id=customer.id,
            exception_id=exception_id,
            channel=channel,
            recipient=None if channel is Channel.WEBHOOK else customer.recipient_for(channel),
            template=template,
            payload=payload,
            created_at=at,
        )
        queue_notification(uow, notification, ids=ids, at=at)
        created.append(notification.id)
    return created


class HeldByCustomer(Protocol):
    """Anything a customer holds: a funding account, a payee."""

    tenant_id: str
    customer_id: str


def notify_account_holder(
    uow: UnitOfWork,
    account: HeldByCustomer,
    *,
    template: str,
    payload: dict[str, Any],
    ids: IdGenerator,
    at: datetime,
) -> list[str]:
    """Tell the customer who holds an account (a funding account, a payee), as they chose."""
    customer = uow.customers.get(account.tenant_id, account.customer_id)
    return notify_customer(
        uow,
        customer,
        channels=customer.notification_channels,
        template=template,
        payload=payload,
        ids=ids,
        at=at,
    )


def queue_delivery(
    uow: UnitOfWork,
    notification: Notification,
    *,
    ids: IdGenerator,
    at: datetime,
    after: str | None = None,
) -> None:
    """Queue one more delivery of a stored notification (a replay, say).

    Deliveries sharing ``after`` (an ordering key) go one at a time, in the
    order queued; by default each notification is on its own.
    """
    task = DeliverNotificationTask(notification_id=notification.id)
    send(
        uow,
        task,
        tenant_id=notification.tenant_id,
        ids=ids,
        at=at,
        ordering_key=after or notification.id,
    )


def outcome_of(notification: Notification) -> DeliveryOutcome:
    """What an attempt that left ``notification`` as it is means for its delivery."""
    if notification.status is NotificationStatus.SENT:
        return DeliveryOutcome.SENT
    if notification.status is NotificationStatus.DEAD:
        return DeliveryOutcome.DEAD
    return DeliveryOutcome.RETRY


def deliver_notification(
    command: DeliverNotification,
    *,
    unit_of_work: UnitsOfWork,
    clock: Clock,
    ids: IdGenerator,
    notifier: Notifier,
    webhooks: WebhookSender,
    max_notification_attempts: int,
    webhook_retry_schedule: tuple[float, ...],
    webhook_pause_after_seconds: float,
) -> DeliveryOutcome:
    """Try to deliver; record the attempt and say whether to retry.

    The provider is called outside any transaction; a crash between the
    send and the record means one more send, which receivers de-duplicate
    by the notification id (at-least-once delivery). Webhooks keep their
    own, longer schedule.

    Only the provider's refusal of this notification (a bad address) spends
    one of its attempts. A channel that is down or slow (the mail server
    gone, its breaker open or probing) defers the delivery instead, however
    long the outage lasts, so the notice goes out once the channel is back.
    A notification whose attempts are spent is dead, and its delivery a
    dead letter that operators are told of.
    """
    with unit_of_work(read_only=True) as uow:
        notification = uow.notifications.get_any(command.notification_id)
    if notification.is_settled:
        return DeliveryOutcome.ALREADY_SETTLED
    if notification.channel is Channel.WEBHOOK:
        return _deliver_webhook(
            notification,
            unit_of_work=unit_of_work,
            clock=clock,
            ids=ids,
            webhooks=webhooks,
            retry_schedule=webhook_retry_schedule,
            pause_after_seconds=webhook_pause_after_seconds,
        )
    error: str | None = None
    try:
        notifier.send(notification)
    except DependencyDeferred:
        raise  # NOTE: not an attempt: the delivery comes back when the channel can take it
    except (DependencyUnavailable, DependencyTimeout) as outage:
        # NOTE: the channel's outage, not this notice's fault: wait for it, spend nothing
        raise DependencyDeferred(
            outage.dependency, outage.detail, retry_after=CHANNEL_OUTAGE_RETRY_SECONDS
        ) from None
    except DependencyError as failure:
        error = failure.detail
    with unit_of_work() as uow:
        notification = uow.notifications.get_any(command.notification_id)
        if notification.is_settled:
            return DeliveryOutcome.ALREADY_SETTLED
        if error is None:
            _record_sent(uow, notification, at=clock.now())
        else:
            notification.record_failure(error=error, max_attempts=max_notification_attempts)
        uow.notifications.save(notification)
        uow.commit()
    outcome = outcome_of(notification)
    if outcome is DeliveryOutcome.DEAD:
        raise Undeliverable(
            f"notification {notification.id} failed {notification.attempts} times: {error}"
        )
    return outcome


def _record_sent(uow: UnitOfWork, notification: Notification, *, at: datetime) -> None:
    notification.record_sent(at=at)
    if notification.exception_id:
        exception = uow.exceptions.get(notification.tenant_id, notification.exception_id)
        try:
            exception.mark_notified()
            uow.exceptions.save(exception)
        except IllegalTransition:
            pass  # NOTE: resolved already by an operator; telling the customer is fine


def _deliver_webhook(
    notification: Notification,
    *,
    unit_of_work: UnitsOfWork,
    clock: Clock,
    ids: IdGenerator,
    webhooks: WebhookSender,
    retry_schedule: tuple[float, ...],
    pause_after_seconds: float,
) -> DeliveryOutcome:
    """One attempt to the tenant's endpoint, on the webhook schedule (days, not minutes).

    A failure counts against the endpoint too: one failing for
    ``webhook_pause_after`` is paused and the tenant told. Nothing is sent
    to a paused endpoint or a tenant without one; resuming sends it again.
    """
    with unit_of_work(read_only=True) as uow:
        endpoint = uow.webhook_endpoints.for_tenant(notification.tenant_id)
    now = clock.now()
    error: str | None = None
    endpoint_failed = False
    if endpoint is None:
        error = "the tenant has no webhook endpoint"
    elif endpoint.status is EndpointStatus.PAUSED:
        error = "the webhook endpoint is paused"
    else:
        try:
            webhooks.send(endpoint, notification, at=now)
        except DependencyDeferred:
            raise
        except DependencyError as failure:
            error, endpoint_failed = failure.detail, True
    schedule = retry_schedule
    with unit_of_work() as uow:
        notification = uow.notifications.get_any(notification.id)
        if notification.is_settled:
            return DeliveryOutcome.ALREADY_SETTLED
        endpoint = uow.webhook_endpoints.for_tenant(notification.tenant_id)
        if error is None:
            _record_sent(uow, notification, at=now)
            if endpoint is not None and endpoint.failing_since is not None:
                endpoint.record_delivered()
                uow.webhook_endpoints.save_health(endpoint)
        else:
            final = not endpoint_failed
            notification.record_failure(
                error=error,
                max_attempts=notification.attempts + 1 if final else len(schedule) + 1,
            )
            if endpoint is not None and endpoint_failed:
                pause_after = timedelta(seconds=pause_after_seconds)
                _count_endpoint_failure(uow, endpoint, ids=ids, at=now, pause_after=pause_after)
        uow.notifications.save(notification)
        uow.commit()
    outcome = outcome_of(notification)
    if outcome is DeliveryOutcome.RETRY:
        wait = next_retry(schedule, notification.attempts) or timedelta(0)
        raise DeliveryPostponed(now + wait, f"webhook not delivered: {error}")
    return outcome


def _count_endpoint_failure(
    uow: UnitOfWork,
    endpoint: WebhookEndpoint,
    *,
    ids: IdGenerator,
    at: datetime,
    pause_after: timedelta,
) -> None:
    was_failing = endpoint.failing_since is not None
    paused = endpoint.record_failed(at=at, pause_after=pause_after)
    if paused or not was_failing:
        uow.webhook_endpoints.save_health(endpoint)
    if not paused:
        return
    failing_since = endpoint.failing_since.isoformat() if endpoint.failing_since else None
    announcement = WebhookEndpointPaused(
        tenant_id=endpoint.tenant_id,
        endpoint_id=endpoint.id,
        failing_since=failing_since,
        at=at.isoformat(),
    )
    send(uow, announcement, tenant_id=endpoint.tenant_id, ids=ids, at=at)
    tenant = uow.tenants.get(endpoint.tenant_id)
    if tenant.contact_email is None:
        return
    notice = Notification(
        id=ids.new(identifiers.NOTIFICATION),
        tenant_id=tenant.id,
        customer_id=None,
        channel=Channel.EMAIL,
        recipient=tenant.contact_email,
        template="webhook_endpoint_paused",
        payload={
            "endpoint_id": endpoint.id,
            "failing_since": failing_since,
            "paused_at": at.isoformat(),
        },
        created_at=at,
    )
    queue_notification(uow, notice, ids=ids, at=at)
