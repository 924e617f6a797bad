"""Every message cbp sends, as a typed contract: named once, encoded once, decoded once.

A contract says where its messages go (a task queue or an event topic),
what they are called, and what their payload holds, in which version.
Publishers build a contract and hand it to the outbox; subscribers get the
contract back, decoded, never a dict to unpack by hand. A payload carries
its ``schema_version``: a reader refuses a version newer than it knows, and
ignores fields it does not know, so a new optional field needs no new
version and an old reader never misreads a new message.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from cbp.domain.events import DomainEvent
from cbp.ports import messages as m

#: The payload key holding the version of the contract that wrote it.
SCHEMA_VERSION = "schema_version"


class UnknownContract(ValueError):
    """A message whose type, or whose type's version, this code does not know."""


@dataclass(frozen=True, kw_only=True)
class Contract:
    """A message type: where it goes, its name, and its payload's fields and version."""

    TYPE: ClassVar[str]
    DESTINATION: ClassVar[str]
    VERSION: ClassVar[int] = 1

    registry: ClassVar[dict[str, type[Contract]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "TYPE" not in cls.__dict__:
            return  # NOTE: a family of contracts (payee events), not one sent by itself
        if cls.TYPE in Contract.registry:
            raise TypeError(f"two contracts are named {cls.TYPE!r}")
        Contract.registry[cls.TYPE] = cls

    @classmethod
    def message_kind(cls) -> m.MessageKind:
        """A task goes to one queue's consumer; an event fans out on a topic."""
        return m.MessageKind.TASK if cls.DESTINATION in m.TASK_QUEUES else m.MessageKind.EVENT

    def encode(self) -> dict[str, Any]:
        """The payload, in primitives, with this contract's version."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {SCHEMA_VERSION: self.VERSION, **fields}

    @classmethod
    def decode(cls, payload: dict[str, Any]) -> Self:
        """The contract a payload holds; UnknownContract for a newer version than this one."""
        version = payload.get(SCHEMA_VERSION, 1)
        if not isinstance(version, int) or version > cls.VERSION:
            raise UnknownContract(f"{cls.TYPE} version {version!r} is newer than {cls.VERSION}")
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in payload.items() if k in known})


def decode(message: m.Message) -> Contract:
    """The typed contract a message carries."""
    try:
        contract = Contract.registry[message.type]
    except KeyError:
        raise UnknownContract(f"no contract for message type {message.type!r}") from None
    return contract.decode(message.payload)


# -- tasks --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ProcessPaymentTask(Contract):
    """Submit one payment to the processor (in a job, if one is named)."""

    TYPE = "payment.process"
    DESTINATION = m.PAYMENT_PROCESSING

    tenant_id: str
    payment_id: str
    job_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class HandleExceptionTask(Contract):
    """Tell the customer of a new payment exception."""

    TYPE = "exception.handle"
    DESTINATION = m.EXCEPTION_HANDLING

    tenant_id: str
    exception_id: str


@dataclass(frozen=True, kw_only=True)
class DeliverNotificationTask(Contract):
    """Make one delivery attempt of a stored notification."""

    TYPE = "notification.deliver"
    DESTINATION = m.NOTIFICATION_DELIVERY

    notification_id: str


# -- payment.events -------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PaymentStatusChanged(Contract):
    """A payment's events were recorded in one transaction; ``status`` is where it stands after.

    ``event_types`` names every event the transaction recorded, oldest first
    (their versions run up to ``version``); ``event_type``, ``event_id`` and
    ``version`` are the newest one's. A payment is created, or submitted and
    settled, in one message, not one a step. Version 1 carried one event a
    message and no ``event_types``; ``changes`` reads both.
    """

    TYPE = "payment.status.changed"
    DESTINATION = m.PAYMENT_EVENTS
    VERSION = 2

    payment_id: str
    tenant_id: str
    customer_id: str
    event_type: str
    event_id: str
    status: str
    version: int
    failure_code: str | None = None
    #: The bill the payment pays, if it pays one.
    bill_id: str | None = None
    event_types: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # NOTE: a decoded payload holds a JSON list
        object.__setattr__(self, "event_types", tuple(self.event_types))

    def changes(self) -> list[tuple[str, int]]:
        """Each event recorded, as its type and the payment's version after it, oldest first."""
        types = self.event_types or (self.event_type,)
        first = self.version - len(types) + 1
        return [(event_type, first + n) for n, event_type in enumerate(types)]


@dataclass(frozen=True, kw_only=True)
class ExceptionCreated(Contract):
    """A payment exception was opened for a failed or returned payment."""

    TYPE = "payment.exception.created"
    DESTINATION = m.PAYMENT_EVENTS

    exception_id: str
    tenant_id: str
    payment_id: str
    customer_id: str
    kind: str
    reason_code: str


# -- bill.events ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BillChanged(Contract):
    """A bill event was recorded; ``status`` is where the bill stands after it."""

    TYPE = "bill.changed"
    DESTINATION = m.BILL_EVENTS

    bill_id: str
    tenant_id: str
    customer_id: str
    payee_id: str
    event_type: str
    event_id: str
    status: str
    version: int

    def changes(self) -> list[tuple[str, int]]:
        """The event, as its type and the bill's version after it (one a message)."""
        return [(self.event_type, self.version)]


# -- payee.events (the payee and directory domain events, as they were recorded) --


@dataclass(frozen=True, kw_only=True)
class PayeeEvent(Contract):
    """A payee's, funding account's or biller's domain event; ``subject_id`` is its id."""

    DESTINATION = m.PAYEE_EVENTS

    subject_id: str
    version: int

    @staticmethod
    def of(event: DomainEvent) -> PayeeEvent:
        """The message of a recorded payee or directory event."""
        contract = Contract.registry.get(event.type)
        if contract is None or not issubclass(contract, PayeeEvent):
            raise UnknownContract(f"{event.type} is not published on {m.PAYEE_EVENTS}")
        payload = {"subject_id": event.stream_id, "version": event.version, **event.data()}
        return contract.decode(payload)


@dataclass(frozen=True, kw_only=True)
class AccountUpdated(PayeeEvent):
    """An account number is new or changed: it must be verified (again)."""

    TYPE = "AccountUpdated"

    tenant_id: str
    account_kind: str


@dataclass(frozen=True, kw_only=True)
class AccountVerified(PayeeEvent):
    """An account number passed, or failed, verification."""

    TYPE = "AccountVerified"

    tenant_id: str
    account_kind: str
    verified: bool
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class MicroDepositsRequested(PayeeEvent):
    """A funding account is to be proven by two small credits, sent through the processor."""

    TYPE = "MicroDepositsRequested"

    tenant_id: str


@dataclass(frozen=True, kw_only=True)
class BillerChanged(PayeeEvent):
    """A directory biller's name, address, method, lead days or account masks changed."""

    TYPE = "BillerChanged"

    changed: list[str]


@dataclass(frozen=True, kw_only=True)
class PayeeStatusChanged(PayeeEvent):
    """A payee or a directory biller became active, inactive or suspended."""

    TYPE = "PayeeStatusChanged"

    tenant_id: str | None
    payee_kind: str
    old_status: str
    new_status: str


# -- system.events ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BreakerStateChanged(Contract):
    """A circuit breaker opened, half-opened or closed (``at`` in ISO 8601)."""

    TYPE = "breaker.state_changed"
    DESTINATION = m.SYSTEM_EVENTS

    breaker: str
    from_state: str
    to_state: str
    at: str


@dataclass(frozen=True, kw_only=True)
class AchFileHandedOff(Contract):
    """A NACHA file was put where the bank's transmission system takes it, at a cut-off."""

    TYPE = "ach.file_handed_off"
    DESTINATION = m.SYSTEM_EVENTS

    file_name: str
    entries: int
    total_debit: str
    total_credit: str
    effective_date: str
    at: str


@dataclass(frozen=True, kw_only=True)
class DeliveryDeadLettered(Contract):
    """A delivery ran out of attempts: it waits in the dead letters for an operator."""

    TYPE = "delivery.dead_lettered"
    DESTINATION = m.SYSTEM_EVENTS

    delivery_id: str
    subscriber: str
    message_type: str
    tenant_id: str | None
    attempts: int
    error: str


@dataclass(frozen=True, kw_only=True)
class WebhookEndpointPaused(Contract):
    """A tenant's webhook endpoint failed for too long and was paused."""

    TYPE = "webhook_endpoint.paused"
    DESTINATION = m.SYSTEM_EVENTS

    tenant_id: str
    endpoint_id: str
    failing_since: str | None
    at: str
