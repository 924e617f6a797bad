"""Which use case each message triggers: the consumer side of messaging.

A task has one consumer; an event goes to every subscriber whose filter
names its type. Messaging adapters call ``MessageRouter.consume`` and
know nothing of the use cases behind it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cbp.ports import messages as m
from cbp.ports.messages import (
    BREAKER_STATE_CHANGED,
    DELIVER_NOTIFICATION_TASK,
    EXCEPTION_CREATED,
    HANDLE_EXCEPTION_TASK,
    PAYMENT_STATUS_CHANGED,
    PROCESS_PAYMENT_TASK,
    WEBHOOK_ENDPOINT_PAUSED,
)
from cbp.services import commands as c
from cbp.services.bus import CommandBus
from cbp.services.directory import invalidate_directory_cache
from cbp.services.notifications import DeliveryOutcome
from cbp.services.payments import PAYMENT_PROCESSOR

logger = logging.getLogger("cbp.system")


class RetryLater(Exception):
    """The message could not be handled yet; deliver it again after a back-off."""


@dataclass(frozen=True)
class Subscription:
    """A named consumer of some message types on one queue or topic."""

    name: str
    destination: str
    types: frozenset[str]
    handle: Callable[[m.Message, CommandBus], None]

    @property
    def kind(self) -> m.MessageKind:
        """Tasks go to a queue; anything else is an event on a topic."""
        return m.MessageKind.TASK if self.destination in m.TASK_QUEUES else m.MessageKind.EVENT

    def matches(self, message: m.Message) -> bool:
        """Whether this subscriber wants ``message``."""
        return message.destination == self.destination and message.type in self.types


def _process_payment(message: m.Message, bus: CommandBus) -> None:
    p = message.payload
    bus.handle(
        c.ProcessPayment(
            tenant_id=p["tenant_id"],
            payment_id=p["payment_id"],
            job_id=p.get("job_id"),
            message_id=message.message_id,
            correlation_id=message.headers.correlation_id,
            traceparent=message.headers.traceparent,
            actor="worker",
        )
    )


def _handle_exception(message: m.Message, bus: CommandBus) -> None:
    bus.handle(
        c.HandleException(
            tenant_id=message.payload["tenant_id"],
            exception_id=message.payload["exception_id"],
            message_id=message.message_id,
            correlation_id=message.headers.correlation_id,
            traceparent=message.headers.traceparent,
            actor="worker",
        )
    )


def _deliver_notification(message: m.Message, bus: CommandBus) -> None:
    outcome = bus.handle(
        c.DeliverNotification(
            notification_id=message.payload["notification_id"],
            message_id=message.message_id,
            traceparent=message.headers.traceparent,
            actor="worker",
        )
    )
    if outcome is DeliveryOutcome.RETRY:
        raise RetryLater(f"notification {message.payload['notification_id']} not delivered yet")


def _verify_account(message: m.Message, bus: CommandBus) -> None:
    kind = message.payload.get("account_kind")
    common: dict[str, Any] = {
        "tenant_id": message.payload["tenant_id"],
        "message_id": message.message_id,
        "traceparent": message.headers.traceparent,
        "actor": "validation-service",
    }
    if kind == "payee":
        bus.handle(c.VerifyPayeeAccount(payee_id=message.payload["subject_id"], **common))
    elif kind == "funding_account":
        bus.handle(c.VerifyFundingAccount(account_id=message.payload["subject_id"], **common))


def _invalidate_directory(message: m.Message, bus: CommandBus) -> None:
    if message.payload.get("payee_kind") == "global_payee":
        invalidate_directory_cache(bus.deps)


def _record_payment_activity(message: m.Message, bus: CommandBus) -> None:
    p = message.payload
    facts = ("status", "version", "failure_code", "exception_id", "kind")
    bus.handle(
        c.RecordPaymentActivity(
            tenant_id=p["tenant_id"],
            payment_id=p["payment_id"],
            event_type=p.get("event_type", message.type),
            data={k: p[k] for k in facts if p.get(k) is not None},
            message_id=message.message_id,
            correlation_id=message.headers.correlation_id,
            traceparent=message.headers.traceparent,
            actor="audit-log",
        )
    )


def _log_system_event(message: m.Message, bus: CommandBus) -> None:
    logger.warning(
        "system event %s", message.type, extra={"event": message.type, **message.payload}
    )


SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription(
        PAYMENT_PROCESSOR,
        m.PAYMENT_PROCESSING,
        frozenset({PROCESS_PAYMENT_TASK}),
        _process_payment,
    ),
    Subscription(
        "exception-handler",
        m.EXCEPTION_HANDLING,
        frozenset({HANDLE_EXCEPTION_TASK}),
        _handle_exception,
    ),
    Subscription(
        "notification-sender",
        m.NOTIFICATION_DELIVERY,
        frozenset({DELIVER_NOTIFICATION_TASK}),
        _deliver_notification,
    ),
    Subscription(
        "audit-log",
        m.PAYMENT_EVENTS,
        frozenset({PAYMENT_STATUS_CHANGED, EXCEPTION_CREATED}),
        _record_payment_activity,
    ),
    Subscription(
        "validation-service", m.PAYEE_EVENTS, frozenset({"AccountUpdated"}), _verify_account
    ),
    Subscription(
        "directory-cache", m.PAYEE_EVENTS, frozenset({"PayeeStatusChanged"}), _invalidate_directory
    ),
    Subscription(
        "operations-log",
        m.SYSTEM_EVENTS,
        frozenset({BREAKER_STATE_CHANGED, WEBHOOK_ENDPOINT_PAUSED}),
        _log_system_event,
    ),
)


#: The internal services, each a set of subscribers that can run, scale and
#: restart on its own (``cbp worker --service NAME``).
SERVICES: dict[str, frozenset[str]] = {
    "payments": frozenset({PAYMENT_PROCESSOR}),
    "exceptions": frozenset({"exception-handler"}),
    "notifications": frozenset({"notification-sender"}),
    "validation": frozenset({"validation-service", "directory-cache"}),
    "audit": frozenset({"audit-log", "operations-log"}),
}


def of_service(service: str | None) -> tuple[Subscription, ...]:
    """The subscriptions one service runs (all of them for None)."""
    if service is None:
        return SUBSCRIPTIONS
    if service not in SERVICES:
        raise ValueError(f"no service {service!r}: one of {', '.join(sorted(SERVICES))}")
    return tuple(s for s in SUBSCRIPTIONS if s.name in SERVICES[service])


def broker_queues(subscriptions: tuple[Subscription, ...] = SUBSCRIPTIONS) -> list[str]:
    """The broker queues of these subscriptions: one per task queue and topic subscriber."""
    return sorted({m.queue_name(s.destination, s.name, s.kind) for s in subscriptions})


class MessageRouter:
    """Hands each message to the subscribers that want it."""

    def __init__(self, bus: CommandBus, subscriptions: tuple[Subscription, ...] = SUBSCRIPTIONS):
        self.bus = bus
        self.subscriptions = subscriptions

    def subscribers(self, message: m.Message) -> list[Subscription]:
        """Every subscription whose destination and type filter match."""
        return [s for s in self.subscriptions if s.matches(message)]

    def subscriber_names(self, message: m.Message) -> list[str]:
        """The names of the subscribers that want ``message`` (one delivery each)."""
        return [s.name for s in self.subscribers(message)]

    def queues(self) -> list[str]:
        """Every broker queue a worker consumes: one per task queue and topic subscriber."""
        return broker_queues(self.subscriptions)

    def consume(self, message: m.Message, subscriber: str) -> None:
        """Run the named subscriber on ``message``."""
        for subscription in self.subscribers(message):
            if subscription.name == subscriber:
                subscription.handle(message, self.bus)
                return
        raise LookupError(
            f"no subscriber {subscriber!r} for {message.type} on {message.destination}"
        )
