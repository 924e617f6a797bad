"""Messages: what the outbox keeps and the broker carries."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class MessageKind(enum.StrEnum):
    """A task goes to one queue's consumer; an event fans out on a topic."""

    TASK = "task"
    EVENT = "event"


# Queues (work, one consumer each).
PAYMENT_PROCESSING = "payment.processing"
NOTIFICATION_DELIVERY = "notification.delivery"
EXCEPTION_HANDLING = "exception.handling"
# Topics (events, fan out to every subscriber whose filter matches).
PAYMENT_EVENTS = "payment.events"
PAYEE_EVENTS = "payee.events"
SYSTEM_EVENTS = "system.events"


@dataclass(frozen=True, kw_only=True)
class Headers:
    """Who and what caused a message: tenant, correlation, causation, trace."""

    tenant_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None
    baggage: str | None = None

    def as_dict(self) -> dict[str, str]:
        """The headers that are set, for a broker or a JSON column."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True, kw_only=True)
class Message:
    """A task or event in ids and primitives, so it crosses any broker unchanged."""

    message_id: str
    kind: MessageKind
    destination: str
    type: str
    payload: dict[str, Any]
    created_at: datetime
    ordering_key: str | None = None
    headers: Headers = field(default_factory=Headers)


class Outbox(Protocol):
    """Messages committed with the state change that caused them."""

    def add(self, message: Message) -> None:
        """Keep ``message`` to be sent once the unit of work commits."""
        ...

    def pending(self, limit: int) -> list[Message]:
        """Messages not yet dispatched, oldest first."""
        ...

    def mark_dispatched(self, message_ids: list[str], at: datetime) -> None:
        """Record that the broker has these messages."""
        ...


class Inbox(Protocol):
    """Message ids a consumer has already handled, for exactly-once effects."""

    def seen(self, consumer: str, message_id: str) -> bool:
        """Whether ``consumer`` already committed the effect of ``message_id``."""
        ...

    def record(self, consumer: str, message_id: str, at: datetime) -> None:
        """Note the message as handled, in the consumer's own transaction."""
        ...


class TaskQueue(Protocol):
    """Sends tasks to the one consumer of their queue."""

    def enqueue(self, message: Message) -> None:
        """Hand ``message`` to the broker for its queue."""
        ...


class EventBus(Protocol):
    """Publishes events to every subscriber of their topic."""

    def publish(self, message: Message) -> None:
        """Hand ``message`` to the broker for its topic."""
        ...
