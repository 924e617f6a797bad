"""Messages: what the outbox keeps and the broker carries."""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
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
#: Every work queue; any other destination is a topic.
TASK_QUEUES = frozenset({PAYMENT_PROCESSING, NOTIFICATION_DELIVERY, EXCEPTION_HANDLING})
# Topics (events, fan out to every subscriber whose filter matches).
PAYMENT_EVENTS = "payment.events"
PAYEE_EVENTS = "payee.events"
BILL_EVENTS = "bill.events"
SYSTEM_EVENTS = "system.events"
# Message types and payloads: one contract each, in ``cbp.ports.contracts``.


@dataclass(frozen=True, kw_only=True)
class Headers:
    """Who and what caused a message: tenant, correlation, causation, trace."""

    tenant_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None
    baggage: str | None = None

    @property
    def has_cause(self) -> bool:
        """Whether a correlation or a trace says what caused the message."""
        return self.correlation_id is not None or self.traceparent is not None

    def caused_by(self, correlation_id: str | None, traceparent: str | None) -> Headers:
        """These headers with a cause's correlation and trace, where they have none."""
        return replace(
            self,
            correlation_id=self.correlation_id or correlation_id,
            traceparent=self.traceparent or traceparent,
        )

    def as_dict(self) -> dict[str, str]:
        """The headers that are set, for a broker or a JSON column."""
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @property
    def trace_id(self) -> str | None:
        """The W3C trace id of ``traceparent``, for log lines: ``00-<trace id>-<span>-<flags>``."""
        parts = (self.traceparent or "").split("-")
        return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


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


@dataclass(frozen=True, kw_only=True)
class Backlog:
    """Messages not yet handed to the broker: how many, and the oldest one's time."""

    pending: int
    oldest_created_at: datetime | None


def stamped(
    messages: list[Message], correlation_id: str | None, traceparent: str | None
) -> list[Message]:
    """``messages``, those with no cause yet given this correlation and trace (for outboxes)."""
    return [
        message
        if message.headers.has_cause
        else replace(message, headers=message.headers.caused_by(correlation_id, traceparent))
        for message in messages
    ]


class Outbox(Protocol):
    """Messages committed with the state change that caused them."""

    def add(self, message: Message) -> None:
        """Keep ``message`` to be sent once the unit of work commits."""
        ...

    def stamp_cause(self, correlation_id: str | None, traceparent: str | None) -> None:
        """Give the messages added in this unit of work with no cause yet the cause's headers.

        The command bus calls it once a command's handler has returned, so
        that no handler builds message headers.
        """
        ...

    def pending(self, limit: int) -> list[Message]:
        """Messages not yet dispatched, oldest first."""
        ...

    def mark_dispatched(self, message_ids: list[str], at: datetime) -> None:
        """Record that the broker has these messages."""
        ...

    def backlog(self) -> Backlog:
        """How many messages wait for the relay, and since when (for metrics)."""
        ...

    def purge(self, before: datetime, *, limit: int) -> int:
        """Forget relayed messages created before ``before`` that no delivery needs."""
        ...


class Inbox(Protocol):
    """Message ids a consumer has already handled, for exactly-once effects."""

    def seen(self, consumer: str, message_id: str) -> bool:
        """Whether ``consumer`` already committed the effect of ``message_id``."""
        ...

    def seen_among(self, consumer: str, message_ids: Collection[str]) -> set[str]:
        """Those of ``message_ids`` whose effect ``consumer`` already committed.

        One read for a sweep over many, where ``seen`` for each would be a
        round trip each.
        """
        ...

    def claim(self, consumer: str, message_id: str, at: datetime) -> bool:
        """Note the message as handled by ``consumer``, in the consumer's own transaction.

        False when it was handled already: committed before, or by a
        concurrent transaction that commits first (the claim waits for it, or
        this transaction's commit is refused). Only a True claim may apply
        the message's effect.
        """
        ...

    def claim_on_commit(self, consumer: str, message_id: str, at: datetime) -> None:
        """Claim the message for ``consumer`` as its transaction commits.

        For a consumer that has already seen, in what it read, that the
        message's effect is not there yet: the claim waits for no answer,
        and a store may write it with the commit, which is refused as a
        conflict if the message was handled already (a duplicate that
        raced this one). The consumer's retry then finds the effect.
        """
        ...

    def note(self, consumer: str, message_id: str, at: datetime) -> None:
        """Note the message as handled by ``consumer``, whether or not it was before.

        For a mark that guards nothing in this transaction (a payment queued
        once, say): no answer is waited for, so a store may write it with
        the transaction's commit. What ``seen`` answers afterwards is the same.
        """
        ...


class DeliveryPostponed(Exception):
    """The subscriber keeps its own schedule: run this delivery again at ``until``.

    Not a failure of the delivery: its attempts are not spent, because the
    subscriber counts its own (a webhook retried for days, say).
    """

    def __init__(self, until: datetime, reason: str) -> None:
        super().__init__(reason)
        self.until = until


class Undeliverable(Exception):
    """The subscriber's work failed for good: dead-letter the delivery now, and say so.

    Retrying the delivery could not change the outcome (the subscriber
    counted its own attempts, and they are spent), but an operator must
    hear of it: a dead letter and its announcement on ``system.events``.
    """


class DeliveryStatus(enum.StrEnum):
    """Where one subscriber's delivery of one message stands."""

    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """One message on its way to one subscriber."""

    id: str
    message: Message
    subscriber: str
    status: DeliveryStatus
    attempts: int
    available_at: datetime
    leased_until: datetime | None = None
    last_error: str | None = None


def delivery_id(message_id: str, subscriber: str) -> str:
    """The id of ``subscriber``'s delivery of ``message_id`` (safe in a URL path)."""
    return f"{message_id}.{subscriber}"


def subscriber_of(delivery: str) -> str:
    """The subscriber a delivery id names (subscriber names hold no dot)."""
    return delivery.rpartition(".")[2]


def queue_name(destination: str, subscriber: str, kind: MessageKind) -> str:
    """The broker queue a subscriber consumes: a task's queue, or one per topic subscriber.

    A topic is fanned out in the database (one delivery per subscriber), so on
    the broker each subscriber of a topic has a queue of its own, as a queue
    bound to an exchange would be.
    """
    return destination if kind is MessageKind.TASK else f"{destination}.{subscriber}"


class DeliveryTransport(Protocol):
    """Carries leased deliveries to the workers that consume them (a broker)."""

    def send(self, delivery: Delivery) -> None:
        """Hand the delivery to the broker; raise if the broker did not take it."""
        ...

    def send_together(self, deliveries: list[Delivery]) -> None:
        """Hand deliveries of one subscriber to the broker as one message, run together."""
        ...

    def ping(self) -> None:
        """Raise if the broker cannot be reached (readiness)."""
        ...


class DeliveryStore(Protocol):
    """Deliveries per subscriber: leased, retried with back-off, dead-lettered.

    A message's deliveries to one subscriber with one ordering key are
    claimed strictly in the order they were scheduled: a later one waits
    while an earlier one is pending (leased or backing off), so events of one
    payment reach each subscriber in order. A dead delivery no longer holds
    up those after it.
    """

    def schedule(self, message: Message, subscribers: list[str], *, at: datetime) -> None:
        """Create one pending delivery of ``message`` per subscriber."""
        ...

    def get(self, delivery_id: str) -> Delivery:
        """One delivery, whatever its status; ``NotFound`` if there is none."""
        ...

    def get_many(self, delivery_ids: Sequence[str]) -> list[Delivery]:
        """Several deliveries read at once, in the order asked; ``NotFound`` if one is missing."""
        ...

    def claim_due(self, now: datetime, *, lease_seconds: float, limit: int) -> list[Delivery]:
        """Lease up to ``limit`` deliveries that may go now, counting an attempt each.

        A delivery leased and not completed by the lease's end is due again,
        so a crashed consumer or a lost broker message delays it, never loses it.
        """
        ...

    def complete(self, delivery_id: str, *, at: datetime) -> None:
        """Mark a delivery done, in the consumer's own unit of work (written as it commits)."""
        ...

    def fail(self, delivery_id: str, *, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt: due again at ``retry_at``, or dead if None."""
        ...

    def defer(self, delivery_id: str, *, until: datetime, reason: str) -> None:
        """Put a leased delivery back until ``until``, giving back the attempt it took.

        For work a dependency could not take (an open breaker, a full
        bulkhead): deferral is not failure and never leads to a dead letter.
        """
        ...

    def owed(self, destination: str, subscriber: str, ordering_keys: Collection[str]) -> set[str]:
        """Those of ``ordering_keys`` with a message still on its way to ``subscriber``.

        A message is owed while committed to ``destination`` and not yet
        relayed, or while its delivery is pending; not once done or dead.
        """
        ...

    def dead_letters(self, *, limit: int, tenant_id: str | None = None) -> list[Delivery]:
        """Dead deliveries, oldest first; only those of one tenant's messages if named."""
        ...

    def revive(self, delivery_id: str, *, at: datetime) -> None:
        """Make a dead delivery pending again, with its attempts reset."""
        ...

    def counts(self) -> dict[DeliveryStatus, int]:
        """How many deliveries stand in each status (for metrics)."""
        ...

    def purge_done(self, before: datetime, *, limit: int) -> int:
        """Forget up to ``limit`` done deliveries created before ``before``."""
        ...
