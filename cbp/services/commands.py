"""Commands: frozen requests to change the system, in ids and primitives.

Every command that acts for a tenant carries ``tenant_id``; an ``actor``
(the API key id, or a system component) is what the audit log records.
Commands a message triggers carry its ``message_id`` so the handler
commits its effect only once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Command:
    """Base of every command."""

    actor: str = "system"
    correlation_id: str | None = None
    traceparent: str | None = None


_handling: ContextVar[Command | None] = ContextVar("cbp_command", default=None)


@contextmanager
def handling(command: Command) -> Iterator[None]:
    """Mark ``command`` as the one being handled, for what its events are published with."""
    token = _handling.set(command)
    try:
        yield
    finally:
        _handling.reset(token)


def current_command() -> Command | None:
    """The command being handled in this thread, if any."""
    return _handling.get()


@dataclass(frozen=True, kw_only=True)
class AddressInput:
    """A postal address as a caller sends it."""

    line1: str
    city: str
    state: str
    postal_code: str
    country: str = "US"
    line2: str | None = None


# -- access ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CreateTenant(Command):
    """Register a bank or fintech; its contact hears of trouble with its webhooks."""

    name: str
    contact_email: str | None = None


@dataclass(frozen=True, kw_only=True)
class SetTenantContact(Command):
    """Change (or clear) the address the tenant is told at when its webhooks fail."""

    tenant_id: str
    contact_email: str | None


@dataclass(frozen=True, kw_only=True)
class SetCustomerLimits(Command):
    """Set (or lift, with None) the risk limits each of the tenant's customers pays within."""

    tenant_id: str
    daily_limit: Decimal | None
    payment_limit: Decimal | None


@dataclass(frozen=True, kw_only=True)
class CreateApiKey(Command):
    """Issue a key for a tenant, or an operator's key (no tenant); the secret is returned once."""

    tenant_id: str | None
    scopes: tuple[str, ...]
    name: str = ""


@dataclass(frozen=True, kw_only=True)
class RevokeApiKey(Command):
    """Stop accepting a key."""

    key_id: str


@dataclass(frozen=True, kw_only=True)
class RotateApiKey(Command):
    """Issue a key with the same tenant, scopes and name; the old one retires after the overlap."""

    key_id: str
    overlap_seconds: int


# -- customers, directory, payees, funding -----------------------------------


@dataclass(frozen=True, kw_only=True)
class CreateCustomer(Command):
    """Register a tenant's end user."""

    tenant_id: str
    external_id: str
    name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, kw_only=True)
class SetNotificationPreferences(Command):
    """Choose a customer's channels, and which payment status changes they are told of.

    A preference left None stays as it is.
    """

    tenant_id: str
    customer_id: str
    notification_channels: tuple[str, ...] | None = None
    notify_on: tuple[str, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class NotifyPaymentStatus(Command):
    """Tell a customer of a payment's status change, if they opted into it."""

    tenant_id: str
    customer_id: str
    payment_id: str
    event_type: str
    event_id: str
    failure_code: str | None = None
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class AddGlobalPayee(Command):
    """Add a biller to the shared directory."""

    name: str
    category: str
    address: AddressInput
    payment_method: str = "electronic"
    lead_days: int = 2
    account_masks: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    popularity: int = 0


@dataclass(frozen=True, kw_only=True)
class UpdateGlobalPayee(Command):
    """Change a biller's details or status; ``None`` leaves a field alone."""

    global_payee_id: str
    name: str | None = None
    category: str | None = None
    address: AddressInput | None = None
    payment_method: str | None = None
    lead_days: int | None = None
    account_masks: tuple[str, ...] | None = None
    aliases: tuple[str, ...] | None = None
    status: str | None = None
    popularity: int | None = None


@dataclass(frozen=True, kw_only=True)
class AddPayee(Command):
    """Add a payee for a customer: a directory biller or a personal payee."""

    tenant_id: str
    customer_id: str
    account_number: str = field(repr=False)
    global_payee_id: str | None = None
    name: str | None = None
    address: AddressInput | None = None
    nickname: str | None = None


@dataclass(frozen=True, kw_only=True)
class UpdatePayee(Command):
    """Change a payee's nickname, account number or status."""

    tenant_id: str
    payee_id: str
    nickname: str | None = None
    account_number: str | None = field(default=None, repr=False)
    status: str | None = None


@dataclass(frozen=True, kw_only=True)
class VerifyPayeeAccount(Command):
    """Check a payee's account number with the verifier."""

    tenant_id: str
    payee_id: str
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class VerifyFundingAccount(Command):
    """Check a funding account with the verifier (it was down when the account was added)."""

    tenant_id: str
    account_id: str
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class AddFundingAccount(Command):
    """Add a customer's bank account; it is verified before use.

    ``verification`` is ``instant`` (asked of the account verifier) or
    ``micro_deposits`` (two small credits the customer confirms).
    """

    tenant_id: str
    customer_id: str
    routing_number: str = field(repr=False)
    account_number: str = field(repr=False)
    account_type: str
    holder_name: str
    verification: str = "instant"


@dataclass(frozen=True, kw_only=True)
class SendMicroDeposits(Command):
    """Send a funding account's two micro-deposits through the processor."""

    tenant_id: str
    account_id: str
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ExpireMicroDeposits(Command):
    """Fail the verification of funding accounts whose micro-deposits expired unconfirmed."""

    limit: int = 1000


@dataclass(frozen=True, kw_only=True)
class ConfirmMicroDeposits(Command):
    """The customer's answer: the two amounts they saw credited."""

    tenant_id: str
    account_id: str
    amounts: tuple[str, ...] = field(repr=False)


# -- payments ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CreateOneTimePayment(Command):
    """Pay a payee once, today or on a date."""

    tenant_id: str
    customer_id: str
    payee_id: str
    funding_account_id: str
    amount: str
    currency: str = "USD"
    send_on: date | None = None
    memo: str | None = None


@dataclass(frozen=True, kw_only=True)
class CreateRecurringPayment(Command):
    """Pay a payee on a schedule: weekly, every two weeks, monthly or yearly.

    ``frequency`` is one of ``Frequency``; the schedule ends on
    ``ends_on``, after ``count`` occurrences, or never.
    """

    tenant_id: str
    customer_id: str
    payee_id: str
    funding_account_id: str
    amount: str
    frequency: str
    starts_on: date
    currency: str = "USD"
    ends_on: date | None = None
    count: int | None = None
    memo: str | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeRecurringPayment(Command):
    """Change a schedule's amount or memo, or pause, resume or cancel it (``status``).

    What is left None stays as it is.
    """

    tenant_id: str
    schedule_id: str
    amount: str | None = None
    memo: str | None = None
    status: str | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeNextOccurrence(Command):
    """Send a schedule's next occurrence alone on another date or for another amount."""

    tenant_id: str
    schedule_id: str
    amount: str | None = None
    send_on: date | None = None


@dataclass(frozen=True, kw_only=True)
class SkipNextOccurrence(Command):
    """Leave a schedule's next occurrence unpaid."""

    tenant_id: str
    schedule_id: str


@dataclass(frozen=True, kw_only=True)
class MakeDueOccurrences(Command):
    """Make into payments the occurrences of every schedule due within the days ahead."""

    limit: int = 500


@dataclass(frozen=True, kw_only=True)
class ChangePayment(Command):
    """Change a scheduled payment's amount, send-on date or memo.

    None keeps a term as it is; an empty memo clears the memo.
    """

    tenant_id: str
    payment_id: str
    amount: str | None = None
    send_on: date | None = None
    memo: str | None = None


@dataclass(frozen=True, kw_only=True)
class CancelPayment(Command):
    """Cancel a payment that has not been submitted."""

    tenant_id: str
    payment_id: str
    reason: str = "cancelled by customer"


@dataclass(frozen=True, kw_only=True)
class StartProcessingJob(Command):
    """Process the given payments, or every one due by a date.

    Nothing goes before its send-on date unless ``send_now`` asks for it.
    """

    tenant_id: str
    payment_ids: tuple[str, ...] = ()
    due_on: date | None = None
    send_now: bool = False


@dataclass(frozen=True, kw_only=True)
class ProcessPayment(Command):
    """Submit one due payment to the processor."""

    tenant_id: str
    payment_id: str
    job_id: str | None = None
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class QueueDuePayments(Command):
    """Queue the scheduled payments due by a date, or due now where their tenant is.

    Up to ``limit`` of them, the earliest send-on dates first: the next
    sweep takes the rest.
    """

    on: date | None = None
    limit: int = 1000


@dataclass(frozen=True, kw_only=True)
class SettleHeldPayments(Command):
    """Release or fail held payments whose payee's verification has an answer.

    One payee's (``tenant_id`` and ``payee_id`` both given, from its
    ``AccountVerified`` event), or up to ``limit`` of every payee's.
    """

    tenant_id: str | None = None
    payee_id: str | None = None
    limit: int = 1000
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReconcilePayments(Command):
    """Ask the processor for the outcome of up to ``limit`` payments left processing.

    ``after`` is where the previous pass stopped (its ``resume_after``), so
    that passes take every processing payment in turn, however many there are.
    """

    limit: int = 500
    after: str | None = None


@dataclass(frozen=True, kw_only=True)
class RunAchCutOff(Command):
    """File the pending ACH entries if a cut-off has passed, or ``now`` (an operator's)."""

    now: bool = False


@dataclass(frozen=True, kw_only=True)
class ReadAchReturns(Command):
    """Apply an ODFI's return file: returns to payments, changes to funding accounts."""

    content: str = field(repr=False)
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordPaymentReturn(Command):
    """A settled payment came back from the bank."""

    tenant_id: str
    payment_id: str
    return_code: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ApplyProcessorEvent(Command):
    """The processor told us what became of a payment (settled, failed, returned, a change)."""

    event_id: str
    event_type: str
    tenant_id: str
    payment_id: str
    code: str | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class AnnounceBreakerChange(Command):
    """A circuit breaker changed state: say so on system.events."""

    breaker: str
    old_state: str
    new_state: str


@dataclass(frozen=True, kw_only=True)
class RecordPaymentActivity(Command):
    """Write a published payment event to the audit log (the audit-log subscriber)."""

    tenant_id: str
    payment_id: str
    event_type: str
    data: dict[str, Any] = field(default_factory=dict)
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordPayeeActivity(Command):
    """Write a published payee or directory event to the audit log (its audit subscriber)."""

    tenant_id: str | None
    subject_id: str
    event_type: str
    data: dict[str, Any] = field(default_factory=dict)
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class PurgeDeliveredMessages(Command):
    """Forget messages every subscriber has handled, once older than the retention."""

    older_than_days: float = 7.0
    batch: int = 1000


@dataclass(frozen=True, kw_only=True)
class PurgeExpiredIdempotencyKeys(Command):
    """Forget Idempotency-Keys past their retention, a batch at a time."""

    batch: int = 1000


@dataclass(frozen=True, kw_only=True)
class RetryDeadLetter(Command):
    """Give a dead-lettered delivery fresh attempts, once its cause is fixed."""

    delivery_id: str


# -- exceptions and notifications ---------------------------------------------


@dataclass(frozen=True, kw_only=True)
class HandleException(Command):
    """Decide how to tell the customer about a new exception."""

    tenant_id: str
    exception_id: str
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResolveException(Command):
    """Close an exception with a resolution."""

    tenant_id: str
    exception_id: str
    resolution: str


@dataclass(frozen=True, kw_only=True)
class SendCustomerNotification(Command):
    """Tell a customer about an exception; delivery happens in the background."""

    tenant_id: str
    exception_id: str
    channels: tuple[str, ...] = ()
    template: str = "payment_exception"


# -- webhooks ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RegisterWebhookEndpoint(Command):
    """Send the tenant's webhooks to ``url``, signed with a new secret."""

    tenant_id: str
    url: str


@dataclass(frozen=True, kw_only=True)
class ChangeWebhookEndpoint(Command):
    """Send the tenant's webhooks to another URL, with the same secrets."""

    tenant_id: str
    url: str


@dataclass(frozen=True, kw_only=True)
class RotateWebhookSecret(Command):
    """Sign with a new secret; the old one also signs for the overlap."""

    tenant_id: str


@dataclass(frozen=True, kw_only=True)
class RemoveWebhookEndpoint(Command):
    """Stop sending the tenant's webhooks anywhere."""

    tenant_id: str


@dataclass(frozen=True, kw_only=True)
class ResumeWebhookEndpoint(Command):
    """Send to a paused endpoint again, and send it what it missed."""

    tenant_id: str


@dataclass(frozen=True, kw_only=True)
class ReplayWebhooks(Command):
    """Send the tenant's webhooks made since ``since`` again (all, or only undelivered)."""

    tenant_id: str
    since: datetime
    unsent_only: bool = False


@dataclass(frozen=True, kw_only=True)
class DeliverNotification(Command):
    """Make one delivery attempt of a notification."""

    notification_id: str
    message_id: str | None = None
