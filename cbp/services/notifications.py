"""Delivering notifications, one attempt at a time."""

from __future__ import annotations

import enum

from cbp.domain.errors import IllegalTransition
from cbp.domain.notification import NotificationStatus
from cbp.ports.errors import DependencyDeferred, DependencyError
from cbp.services.commands import DeliverNotification
from cbp.services.dependencies import Dependencies


class DeliveryOutcome(enum.StrEnum):
    """What the messaging layer should do after an attempt."""

    SENT = "sent"
    RETRY = "retry"
    DEAD = "dead"
    ALREADY_SETTLED = "already_settled"


def deliver_notification(command: DeliverNotification, deps: Dependencies) -> DeliveryOutcome:
    """Try to deliver; record the attempt and say whether to retry.

    The provider is called outside any transaction; a crash between the
    send and the record means one more send, which receivers de-duplicate
    by the notification id (at-least-once delivery).
    """
    with deps.uow() as uow:
        notification = uow.notifications.get_any(command.notification_id)
    if notification.is_settled:
        return DeliveryOutcome.ALREADY_SETTLED
    error: str | None = None
    try:
        deps.notifier.send(notification)
    except DependencyDeferred:
        raise  # NOTE: not an attempt: the delivery comes back when the channel can take it
    except DependencyError as failure:
        error = failure.detail
    with deps.uow() as uow:
        notification = uow.notifications.get_any(command.notification_id)
        if notification.is_settled:
            return DeliveryOutcome.ALREADY_SETTLED
        if error is None:
            notification.record_sent(at=deps.clock.now())
            if notification.exception_id:
                exception = uow.exceptions.get(notification.tenant_id, notification.exception_id)
                try:
                    exception.mark_notified()
                    uow.exceptions.save(exception)
                except IllegalTransition:
                    pass  # NOTE: resolved already by an operator; telling the customer is fine
        else:
            notification.record_failure(
                error=error, max_attempts=deps.options.max_notification_attempts
            )
        uow.notifications.save(notification)
        uow.commit()
    if notification.status is NotificationStatus.SENT:
        return DeliveryOutcome.SENT
    if notification.status is NotificationStatus.DEAD:
        return DeliveryOutcome.DEAD
    return DeliveryOutcome.RETRY
