"""Payment exceptions: opening them, telling the customer, resolving them."""

from __future__ import annotations

from datetime import datetime

from cbp.domain import identifiers
from cbp.domain.customer import Channel
from cbp.domain.errors import InvalidInput
from cbp.domain.payment import Payment
from cbp.domain.payment_exception import ExceptionKind, PaymentException
from cbp.ports.contracts import ExceptionCreated, HandleExceptionTask
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.ports.system import Clock, IdGenerator
from cbp.services.commands import (
    HandleException,
    ResolveException,
    SendCustomerNotification,
)
from cbp.services.inbox import already_consumed
from cbp.services.notifications import notify_customer
from cbp.services.outbox import send


def fail_with_exception(
    uow: UnitOfWork,
    payment: Payment,
    code: str,
    reason: str,
    kind: ExceptionKind,
    *,
    ids: IdGenerator,
    at: datetime,
) -> None:
    """Fail a payment and open its exception, in the caller's transaction."""
    payment.fail(failure_code=code, reason=reason, at=at)
    open_exception(uow, payment, ids=ids, at=at, kind=kind, reason_code=code)


def return_with_exception(
    uow: UnitOfWork,
    payment: Payment,
    code: str,
    reason: str,
    *,
    ids: IdGenerator,
    at: datetime,
) -> None:
    """Mark a completed payment returned (its money given back) and open its exception."""
    payment.mark_returned(return_code=code, reason=reason, at=at)
    open_exception(uow, payment, ids=ids, at=at, kind=ExceptionKind.RETURNED, reason_code=code)


def open_exception(
    uow: UnitOfWork,
    payment: Payment,
    *,
    ids: IdGenerator,
    at: datetime,
    kind: ExceptionKind,
    reason_code: str,
) -> PaymentException:
    """Open an exception for a failed or returned payment, in the caller's transaction."""
    exception = PaymentException(
        id=ids.new(identifiers.EXCEPTION),
        tenant_id=payment.tenant_id,
        payment_id=payment.id,
        customer_id=payment.customer_id,
        kind=kind,
        reason_code=reason_code,
        created_at=at,
    )
    uow.exceptions.add(exception)
    created = ExceptionCreated(
        exception_id=exception.id,
        tenant_id=exception.tenant_id,
        payment_id=payment.id,
        customer_id=payment.customer_id,
        kind=kind.value,
        reason_code=reason_code,
    )
    send(uow, created, tenant_id=payment.tenant_id, ids=ids, at=at, ordering_key=payment.id)
    task = HandleExceptionTask(tenant_id=exception.tenant_id, exception_id=exception.id)
    send(uow, task, tenant_id=payment.tenant_id, ids=ids, at=at, ordering_key=payment.id)
    return exception


def handle_exception(
    command: HandleException, *, uow: UnitOfWork, clock: Clock, ids: IdGenerator
) -> list[str]:
    """Notify the customer of a new exception on their preferred channels."""
    now = clock.now()
    if already_consumed(uow, "handle_exception", command.message_id, at=now):
        return []
    exception = uow.exceptions.get(command.tenant_id, command.exception_id)
    customer = uow.customers.get(exception.tenant_id, exception.customer_id)
    return _create_notifications(
        uow,
        exception,
        ids=ids,
        at=now,
        channels=customer.notification_channels,
        template="payment_exception",
    )


def send_customer_notification(
    command: SendCustomerNotification,
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdGenerator,
) -> list[str]:
    """Queue a notification of an exception; delivery is retried in the background."""
    try:
        channels = tuple(Channel(c) for c in command.channels)
    except ValueError:
        raise InvalidInput("channels must be among email, sms, webhook") from None
    exception = uow.exceptions.get(command.tenant_id, command.exception_id)
    customer = uow.customers.get(exception.tenant_id, exception.customer_id)
    channels = channels or customer.notification_channels
    if Channel.WEBHOOK in channels and uow.webhook_endpoints.for_tenant(customer.tenant_id) is None:
        raise InvalidInput("the tenant has no webhook endpoint: register one first")
    now = clock.now()
    return _create_notifications(
        uow,
        exception,
        ids=ids,
        at=now,
        channels=channels,
        template=command.template,
    )


def resolve_exception(command: ResolveException, *, uow: UnitOfWork, clock: Clock) -> None:
    """Close an exception; resolving twice is an illegal transition."""
    exception = uow.exceptions.get(command.tenant_id, command.exception_id)
    exception.resolve(resolution=command.resolution, at=clock.now())
    uow.exceptions.save(exception)


def _create_notifications(
    uow: UnitOfWork,
    exception: PaymentException,
    *,
    ids: IdGenerator,
    at: datetime,
    channels: tuple[Channel, ...],
    template: str,
) -> list[str]:
    customer = uow.customers.get(exception.tenant_id, exception.customer_id)
    return notify_customer(
        uow,
        customer,
        channels=channels,
        template=template,
        payload={
            "exception_id": exception.id,
            "payment_id": exception.payment_id,
            "kind": exception.kind.value,
            "reason_code": exception.reason_code,
        },
        ids=ids,
        at=at,
        exception_id=exception.id,
    )
