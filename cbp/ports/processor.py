"""The payment processor: what cbp submits to it and what it answers."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from cbp.domain.directory import Address
from cbp.domain.money import Money
from cbp.ports.storage.unit_of_work import UnitOfWork


class ProcessorStatus(enum.StrEnum):
    """What the processor says of a submission."""

    ACCEPTED = "accepted"
    SETTLED = "settled"
    FAILED = "failed"
    RETURNED = "returned"
    UNKNOWN = "unknown"


@dataclass(frozen=True, kw_only=True)
class ProcessorResult:
    """The processor's answer for one payment reference."""

    reference: str
    status: ProcessorStatus
    failure_code: str | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Submission:
    """What the processor needs to move the money.

    The account numbers are in the clear here, for the processor adapter
    alone: they never appear in the repr, logs or messages.
    """

    reference: str
    tenant_id: str
    amount: Money
    payee_id: str
    payee_name: str
    payee_account_number: str = field(repr=False)
    funding_account_id: str
    funding_routing_number: str = field(repr=False)
    funding_account_number: str = field(repr=False)
    deliver_by: str
    traceparent: str | None = None
    funding_account_type: str = "checking"
    funding_holder_name: str = field(default="", repr=False)
    #: Where a check to the payee is mailed; None for a payee paid electronically.
    mail_to: Address | None = None


@dataclass(frozen=True, kw_only=True)
class Credit:
    """A small credit to a customer's bank account: one micro-deposit."""

    reference: str
    tenant_id: str
    routing_number: str = field(repr=False)
    account_number: str = field(repr=False)
    amount: Money
    traceparent: str | None = None
    #: The account holder's name, which an ACH micro-entry carries.
    holder_name: str = field(default="", repr=False)


class PaymentProcessor(Protocol):
    """Moves money; idempotent on the payment's own reference."""

    def send_credit(self, credit: Credit) -> None:
        """Credit the account once per reference; a repeat credits nothing more.

        Raises DependencyUnavailable when nothing was credited.
        """
        ...

    def submit(self, submission: Submission) -> ProcessorResult:
        """Submit once; a repeat of the same reference returns the first answer.

        Raises DependencyTimeout when the outcome is unknown and
        DependencyUnavailable when nothing was submitted.
        """
        ...

    def outcome(self, reference: str) -> ProcessorResult:
        """The current outcome of an earlier submission (UNKNOWN if never seen)."""
        ...


@runtime_checkable
class TransactionalProcessor(Protocol):
    """A processor whose books are tables of the payments' own database.

    Its submission is taken in the transaction that records it on the
    payment, so the two are kept together or not at all: a crash between
    them leaves neither, and a payment cancelled meanwhile is never filed.
    """

    def submit_within(self, uow: UnitOfWork, submission: Submission) -> ProcessorResult:
        """Submit once, as part of ``uow``; a repeat of the same reference changes nothing."""
        ...
