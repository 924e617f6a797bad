"""Domain events: frozen records of what happened, in ids and primitives."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from cbp.domain import identifiers
from cbp.domain.money import Money


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Something that happened to one aggregate, at one version of its stream.

    Subclasses add their own fields, all primitives (str, int, bool, None), so
    an event crosses a queue or a JSON column unchanged.
    """

    stream_id: str
    version: int
    occurred_at: datetime
    event_id: str = dataclasses.field(default_factory=lambda: identifiers.new_id("evt"))

    registry: ClassVar[dict[str, type[DomainEvent]]] = {}
    _envelope_fields: ClassVar[frozenset[str]] = frozenset(
        {"stream_id", "version", "occurred_at", "event_id"}
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        DomainEvent.registry[cls.__name__] = cls

    @property
    def type(self) -> str:
        """The event's stable name, e.g. ``PaymentCreated``."""
        return type(self).__name__

    def data(self) -> dict[str, Any]:
        """The event's own fields, without the envelope."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in self._envelope_fields
        }

    @staticmethod
    def rebuild(
        event_type: str,
        *,
        stream_id: str,
        version: int,
        occurred_at: datetime,
        event_id: str,
        data: dict[str, Any],
    ) -> DomainEvent:
        """Recreate a stored event from its type name, envelope and data."""
        try:
            cls = DomainEvent.registry[event_type]
        except KeyError:
            raise ValueError(f"unknown event type {event_type!r}") from None
        return cls(
            stream_id=stream_id,
            version=version,
            occurred_at=occurred_at,
            event_id=event_id,
            **data,
        )


@dataclass(frozen=True, kw_only=True)
class AccountVerified(DomainEvent):
    """A payee's or funding account's account number passed verification."""

    tenant_id: str
    account_kind: str
    verified: bool
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class AccountUpdated(DomainEvent):
    """An account number is new or changed; it must be verified (again)."""

    tenant_id: str
    account_kind: str


@dataclass(frozen=True, kw_only=True)
class PayeeStatusChanged(DomainEvent):
    """A payee or a directory biller became active, inactive or suspended."""

    tenant_id: str | None
    payee_kind: str
    old_status: str
    new_status: str


@dataclass(frozen=True, kw_only=True)
class BillerChanged(DomainEvent):
    """A directory biller's details changed: the payees linked to it are checked again."""

    #: Which of the biller's details changed (``account_masks``, ``address``...).
    changed: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class MicroDepositsRequested(DomainEvent):
    """Two small credits are to be sent to a funding account, for the customer to confirm."""

    tenant_id: str


@dataclass(frozen=True, kw_only=True)
class PaymentOrdered(DomainEvent):
    """The start of a customer's order to pay: who pays whom, from which account, how much.

    A payment's and a recurring payment's first events both begin with it.
    """

    tenant_id: str
    customer_id: str
    payee_id: str
    funding_account_id: str
    amount: str
    currency: str

    @staticmethod
    def terms(
        tenant_id: str, customer_id: str, payee_id: str, funding_account_id: str, amount: Money
    ) -> dict[str, str]:
        """The fields of an order, for the event that starts one."""
        return {
            "tenant_id": tenant_id,
            "customer_id": customer_id,
            "payee_id": payee_id,
            "funding_account_id": funding_account_id,
            "amount": str(amount.amount),
            "currency": amount.currency,
        }
