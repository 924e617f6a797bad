"""Telling customers of the payment status changes they opted into."""

from __future__ import annotations

from cbp.domain.customer import StatusAlert
from cbp.domain.payment import (
    PaymentCompleted,
    PaymentFailed,
    PaymentProcessed,
    PaymentReleased,
    PaymentReturned,
    PaymentValidated,
)
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.ports.system import Clock, IdGenerator
from cbp.services.commands import NotifyPaymentStatus
from cbp.services.inbox import already_consumed
from cbp.services.notifications import notify_customer

#: The template of a status notice.
PAYMENT_STATUS = "payment_status"

#: Which payment event each alert is told on; other events tell no one.
ALERT_OF_EVENT: dict[str, StatusAlert] = {
    PaymentValidated.__name__: StatusAlert.SCHEDULED,
    PaymentReleased.__name__: StatusAlert.SCHEDULED,
    PaymentProcessed.__name__: StatusAlert.SENT,
    PaymentCompleted.__name__: StatusAlert.COMPLETED,
    PaymentFailed.__name__: StatusAlert.FAILED,
    PaymentReturned.__name__: StatusAlert.RETURNED,
}


def notify_payment_status(
    command: NotifyPaymentStatus,
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdGenerator,
) -> list[str]:
    """Queue a notice of each change on each of the customer's channels, if they opted in.

    A held payment's release counts as ``scheduled``: that is when it
    starts to wait for its date. Each notice carries the payment's version
    after its change, so a receiver can put notices that arrive out of
    order (a retried webhook) back in order. Returns the notifications' ids.
    """
    versions: dict[StatusAlert, int] = {}
    for event_type, version in command.changes:
        if event_type in ALERT_OF_EVENT:
            versions[ALERT_OF_EVENT[event_type]] = version
    if not versions:
        return []
    now = clock.now()
    if already_consumed(uow, "notify_payment_status", command.message_id, at=now):
        return []
    customer = uow.customers.get(command.tenant_id, command.customer_id)
    created: list[str] = []
    for alert, version in versions.items():
        if alert not in customer.notify_on:
            continue
        payload: dict[str, object] = {
            "payment_id": command.payment_id,
            "status": alert.value,
            "version": version,
        }
        if alert in (StatusAlert.FAILED, StatusAlert.RETURNED) and command.failure_code:
            payload["failure_code"] = command.failure_code
        created += notify_customer(
            uow,
            customer,
            channels=customer.notification_channels,
            template=PAYMENT_STATUS,
            payload=payload,
            ids=ids,
            at=now,
        )
    return created
