"""External services: processor, verifier, notifier, cache, limits, registry."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol, runtime_checkable

from cbp.domain.banking import AccountMask
from cbp.domain.money import Money
from cbp.domain.notification import Notification
from cbp.domain.webhook_endpoint import WebhookEndpoint
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


@dataclass(frozen=True, kw_only=True)
class VerificationResult:
    """Whether an account checked out and, if not, why."""

    verified: bool
    reason: str | None = None


class AccountVerifier(Protocol):
    """Checks account numbers before money moves."""

    def verify_payee_account(
        self, account_number: str, masks: tuple[AccountMask, ...]
    ) -> VerificationResult:
        """Check a customer's account number at a biller."""
        ...

    def verify_funding_account(
        self, routing_number: str, account_number: str
    ) -> VerificationResult:
        """Check a customer's bank account."""
        ...


class Notifier(Protocol):
    """Delivers a notification on its channel; raises DependencyError on failure."""

    def send(self, notification: Notification) -> None:
        """Deliver once."""
        ...


class WebhookSender(Protocol):
    """POSTs one notification to a tenant's endpoint, signed with its secrets.

    Raises DependencyError when the endpoint does not take it (any answer
    but 2xx, or no answer); the caller schedules the next attempt.
    """

    def vet(self, url: str) -> None:
        """Refuse, as InvalidInput, a URL it will never send to (an internal address)."""
        ...

    def send(self, endpoint: WebhookEndpoint, notification: Notification, *, at: datetime) -> None:
        """Deliver once, signed with every secret valid at ``at``."""
        ...


class Cache(Protocol):
    """A byte cache with expiry, shared by processes in production."""

    def get(self, key: str) -> bytes | None:
        """The cached value, or None."""
        ...

    def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        """Cache ``value`` for ``ttl_seconds``."""
        ...

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        ...


class KeyRevocations(Protocol):
    """Word that an API key was revoked (or will retire), from one process to every other.

    Each API process keeps the keys it has verified; this is how it learns
    to forget one the moment it is revoked anywhere.
    """

    def announce(self, key_id: str) -> None:
        """Tell every process, this one included, that this key changed."""
        ...

    def listen(self, on_revoked: Callable[[str | None], None]) -> None:
        """Call ``on_revoked`` with each key announced; with None when some may have been missed."""
        ...


@dataclass(frozen=True, kw_only=True)
class RateLimitDecision:
    """The limiter's verdict and what to tell the client about it."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: float


class RateLimiter(Protocol):
    """Counts calls per key in a window."""

    def hit(self, key: str, *, limit: int, window_seconds: float) -> RateLimitDecision:
        """Count one call for ``key`` and say whether it may go ahead."""
        ...


class ServiceRegistry(Protocol):
    """Finds the instances of a named external service."""

    def endpoints(self, service: str) -> list[str]:
        """Base URLs of the healthy instances, best first."""
        ...


@dataclass(frozen=True, kw_only=True)
class HandOff:
    """A NACHA file put where the bank's transmission system takes it, at a cut-off."""

    name: str
    entries: int
    total_debit_cents: int
    total_credit_cents: int
    effective_date: date
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class AchReturn:
    """An ODFI's return of one of our entries: its reference, and the R code."""

    reference: str
    tenant_id: str
    trace_number: str
    code: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class AchChange:
    """A notification of change: the bank's corrected details for an account we debited.

    Only what the C code corrects is set.
    """

    reference: str
    tenant_id: str
    trace_number: str
    code: str
    routing_number: str | None = field(default=None, repr=False)
    account_number: str | None = field(default=None, repr=False)
    account_type: str | None = None
    holder_name: str | None = field(default=None, repr=False)


@dataclass(frozen=True, kw_only=True)
class AchReturns:
    """What a return file held: returns, changes, and entries that match none of ours.

    ``unmatched`` names the trace numbers (the original entry's, where the
    entry says) that are none of ours; ``noted`` the changes that correct
    nothing kept of an account (a company name, an identification number).
    """

    returns: tuple[AchReturn, ...]
    changes: tuple[AchChange, ...]
    unmatched: tuple[str, ...] = ()
    noted: tuple[str, ...] = ()


@runtime_checkable
class AchOriginator(Protocol):
    """A processor that originates ACH files itself: cut-offs, and the ODFI's returns."""

    def cut_off(self, at: datetime, *, now: bool = False) -> list[HandOff]:
        """File what is pending if a cut-off has passed (or ``now``); the files not announced."""
        ...

    def mark_announced(self, names: list[str]) -> None:
        """The hand-offs of these files are recorded; stop returning them."""
        ...

    def read_returns(self, content: str) -> AchReturns:
        """The returns and notifications of change in a return file, matched to our entries."""
        ...
