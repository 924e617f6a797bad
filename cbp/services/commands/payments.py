"""Commands about payments: one-time and recurring, processing, ACH and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from cbp.services.commands.base import Audited, Command


@dataclass(frozen=True, kw_only=True)
class CreateOneTimePayment(Command):
    """Pay a payee once, today or on a date."""

    audit = Audited(fields=("amount", "currency", "send_on", "due_on", "bill_id"))

    tenant_id: str
    customer_id: str
    payee_id: str
    funding_account_id: str
    amount: str
    currency: str = "USD"
    send_on: date | None = None
    memo: str | None = None
    #: The bill's due date: a payment that would arrive after it is refused.
    due_on: date | None = None
    #: The bill the payment pays: its due date applies unless ``due_on`` is given.
    bill_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class CreateRecurringPayment(Command):
    """Pay a payee on a schedule: weekly, every two weeks, monthly or yearly.

    ``frequency`` is one of ``Frequency``; the schedule ends on
    ``ends_on``, after ``count`` occurrences, or never.
    """

    audit = Audited(fields=("amount", "currency", "frequency", "starts_on", "ends_on", "count"))

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

    audit = Audited(subject="schedule_id", fields=("amount", "status"))

    tenant_id: str
    schedule_id: str
    amount: str | None = None
    memo: str | None = None
    status: str | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeNextOccurrence(Command):
    """Send a schedule's next occurrence alone on another date or for another amount."""

    audit = Audited(subject="schedule_id", fields=("amount", "send_on"))

    tenant_id: str
    schedule_id: str
    amount: str | None = None
    send_on: date | None = None


@dataclass(frozen=True, kw_only=True)
class SkipNextOccurrence(Command):
    """Leave a schedule's next occurrence unpaid."""

    audit = Audited(subject="schedule_id")

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

    audit = Audited(subject="payment_id", fields=("amount", "send_on"))

    tenant_id: str
    payment_id: str
    amount: str | None = None
    send_on: date | None = None
    memo: str | None = None


@dataclass(frozen=True, kw_only=True)
class CancelPayment(Command):
    """Cancel a payment that has not been submitted."""

    audit = Audited(subject="payment_id", fields=("reason",))

    tenant_id: str
    payment_id: str
    reason: str = "cancelled by customer"


@dataclass(frozen=True, kw_only=True)
class StartProcessingJob(Command):
    """Process the given payments, or every one due by a date.

    Nothing goes before its send-on date unless ``send_now`` asks for it.
    """

    audit = Audited(fields=("payment_ids", "due_on", "send_now"))

    tenant_id: str
    payment_ids: tuple[str, ...] = ()
    due_on: date | None = None
    send_now: bool = False


@dataclass(frozen=True, kw_only=True)
class ProcessPayment(Command):
    """Submit one due payment to the processor."""

    audit = Audited()

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

    audit = Audited()

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

    audit = Audited()

    now: bool = False


@dataclass(frozen=True, kw_only=True)
class ReadAchReturns(Command):
    """Apply an ODFI's return file: returns to payments, changes to funding accounts."""

    audit = Audited(fields=("name",))

    content: str = field(repr=False)
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordPaymentReturn(Command):
    """A settled payment came back from the bank."""

    audit = Audited(subject="payment_id", fields=("return_code",))

    tenant_id: str
    payment_id: str
    return_code: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ApplyProcessorEvent(Command):
    """The processor told us what became of a payment (settled, failed, returned, a change)."""

    audit = Audited(fields=("event_type", "code"))

    event_id: str
    event_type: str
    tenant_id: str
    payment_id: str
    code: str | None = None
    reason: str | None = None
