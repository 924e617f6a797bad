"""Response bodies as pydantic models: the field names the API publishes in api.json.

The same models shape every response and generate the OpenAPI schemas, so
the document cannot describe a field the API does not send.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from cbp.domain.audit import AuditEntry
from cbp.domain.customer import Customer
from cbp.domain.directory import GlobalPayee
from cbp.domain.events import DomainEvent
from cbp.domain.funding import FundingAccount
from cbp.domain.notification import Notification
from cbp.domain.payee import Payee
from cbp.domain.payment import Payment
from cbp.domain.payment_exception import PaymentException
from cbp.domain.processing import JobProgress, ProcessJob
from cbp.domain.recurring import Occurrence, RecurringSchedule
from cbp.domain.verification import VerificationStatus
from cbp.domain.webhook_endpoint import WebhookEndpoint
from cbp.ports.messages import Delivery
from cbp.ports.storage.pages import Page

T = TypeVar("T", bound=BaseModel)


class Out(BaseModel):
    """A response body; every field is always present (null when empty)."""

    model_config = ConfigDict(extra="forbid")


class PageOut(Out, Generic[T]):
    """One page of a listing; ``next_cursor`` is null on the last page."""

    items: list[T]
    next_cursor: str | None


class CustomerOut(Out):
    """Customer."""

    id: str
    external_id: str
    name: str
    email: str | None
    phone: str | None
    notification_channels: list[Literal["email", "sms", "webhook"]]
    notify_on: list[Literal["scheduled", "sent", "completed", "failed", "returned"]]
    created_at: datetime


class AddressOut(Out):
    """Address."""

    line1: str
    line2: str | None
    city: str
    state: str
    postal_code: str
    country: str


class GlobalPayeeOut(Out):
    """GlobalPayee: a biller in the directory."""

    id: str
    name: str
    aliases: list[str]
    category: str
    address: AddressOut
    status: Literal["active", "inactive", "suspended"]
    payment_method: Literal["electronic", "check"]
    lead_days: int
    popularity: int
    account_masks: list[str]


class PayeeOut(Out):
    """Payee; the account number is masked."""

    id: str
    customer_id: str
    global_payee_id: str | None
    name: str
    account_number_masked: str
    nickname: str | None
    status: Literal["active", "inactive", "suspended"]
    verification_status: Literal["pending", "verified", "failed"]
    created_at: datetime


class MicroDepositsOut(Out):
    """MicroDeposits: never the amounts, only the deadline and the tries left."""

    expires_at: datetime
    tries_left: int


class FundingAccountOut(Out):
    """FundingAccount; numbers are masked."""

    id: str
    customer_id: str
    routing_number_masked: str
    account_number_masked: str
    account_type: Literal["checking", "savings"]
    holder_name: str
    verification_status: Literal["pending", "verified", "failed"]
    verification_method: Literal["instant", "micro_deposits"]
    micro_deposits: MicroDepositsOut | None = Field(
        description="While micro-deposits wait to be confirmed: until when, and tries left"
    )


class PaymentOut(Out):
    """Payment; money is a decimal string."""

    id: str
    customer_id: str
    payee_id: str
    funding_account_id: str
    amount: str
    currency: str
    send_on: date
    requested_send_on: date | None = Field(
        description="The date asked for, when it was not a business day and send_on moved on"
    )
    deliver_by: date
    memo: str | None
    status: Literal[
        "created",
        "scheduled",
        "held",
        "processing",
        "completed",
        "failed",
        "cancelled",
        "returned",
    ] = Field(description="held: waiting for the payee's account to be verified")
    failure_code: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class OccurrenceOut(Out):
    """Occurrence: one payment a recurring payment is still to make."""

    index: int = Field(description="The occurrence's number, from 0")
    send_on: date
    amount: str


class RecurringPaymentOut(Out):
    """RecurringPayment: a schedule, how far it has got, and what comes next."""

    id: str
    customer_id: str
    payee_id: str
    funding_account_id: str
    amount: str
    currency: str
    memo: str | None
    frequency: Literal[
        "weekly", "every_two_weeks", "monthly", "monthly_last_business_day", "yearly"
    ]
    starts_on: date
    ends_on: date | None
    count: int | None
    status: Literal["active", "paused", "cancelled", "completed"]
    next_index: int = Field(description="The number of the next occurrence to make")
    last_payment_id: str | None
    upcoming: list[OccurrenceOut] = Field(
        description="The next occurrences, soonest first (empty in lists: get one to see them)"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class EventOut(Out):
    """Event: one step of a payment's history."""

    event_id: str
    type: str
    stream_id: str
    version: int
    occurred_at: datetime
    data: dict[str, Any]


class AuditEntryOut(Out):
    """AuditEntry: who did what, when, in the hash-chained audit log."""

    sequence: int
    actor: str
    action: str
    subject_id: str
    recorded_at: datetime
    data: dict[str, Any]
    entry_hash: str


class JobOut(Out):
    """Process job and its counts by outcome (every payment in exactly one)."""

    id: str
    status: Literal["queued", "running", "completed"]
    due_on: date | None
    send_now: bool
    total: int
    completed: int
    returned: int
    failed: int
    cancelled: int
    pending: int


class ExceptionOut(Out):
    """PaymentException."""

    id: str
    payment_id: str
    customer_id: str
    kind: str
    reason_code: str
    status: Literal["open", "notified", "resolved"]
    created_at: datetime
    resolved_at: datetime | None
    notification_ids: list[str] = Field(
        description="the notifications it sent the customer, oldest first (GET /notification/{id})"
    )


class NotificationOut(Out):
    """Notification; the recipient is not shown."""

    id: str
    exception_id: str | None
    customer_id: str | None = Field(description="None for a notice to the tenant itself")
    channel: Literal["email", "sms", "webhook"]
    status: Literal["pending", "sent", "failed", "dead"]
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class DeadLetterOut(Out):
    """A delivery that ran out of attempts (or, once retried, is pending again)."""

    id: str
    message_id: str
    message_type: str
    destination: str
    subscriber: str
    status: Literal["pending", "done", "dead"]
    attempts: int
    last_error: str | None
    created_at: datetime


class ProcessorEventAckOut(Out):
    """An inbound processor event was taken (``duplicate``: seen before, no effect)."""

    event_id: str
    duplicate: bool


class WebhookEndpointOut(Out):
    """The tenant's webhook endpoint; ``secret`` only in the answer that made it."""

    id: str
    url: str
    status: Literal["active", "paused"]
    failing_since: datetime | None
    paused_at: datetime | None
    signing_secrets: int = Field(description="How many secrets sign each message now")
    created_at: datetime
    secret: str | None = Field(
        default=None, description="The new signing secret (whsec_...), shown once"
    )


class WebhookReplayOut(Out):
    """How many webhooks are queued to be sent again."""

    replayed: int


class NotificationIdsOut(Out):
    """The answer to a notification request: delivery happens in the background."""

    notification_ids: list[str]


class ProblemError(Out):
    """One bad field of a request."""

    loc: list[str]
    msg: str


class ProblemOut(Out):
    """An RFC 9457 problem; ``code`` is stable and machine-readable."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | None
    errors: list[ProblemError] | None = None


class HealthCheckOut(Out):
    """One component's health; how long its probe took, in milliseconds."""

    status: Literal["pass", "fail"]
    output: str | None = None
    observed_value: float | None = Field(default=None, serialization_alias="observedValue")
    observed_unit: str | None = Field(default=None, serialization_alias="observedUnit")


class HealthOut(Out):
    """application/health+json."""

    status: Literal["pass", "fail"]
    checks: dict[str, list[HealthCheckOut]] | None = None
    output: str | None = None


class ResourcesOut(Out):
    """What this process uses of the machine."""

    pid: int
    uptime_seconds: float
    rss_bytes: int
    cpu_percent: float
    threads: int
    open_files: int
    system_memory_percent: float
    load_average_1m: float


class BreakerOut(Out):
    """One circuit breaker: dependency@instance, its state and failures in a row."""

    name: str
    state: Literal["closed", "open", "half_open"]
    failures: int


class StatusOut(HealthOut):
    """application/health+json with resource use: the detailed status."""

    version: str
    resources: ResourcesOut
    breakers: list[BreakerOut] = []


def page(items: Page[Any], present: Any, next_cursor: str | None) -> PageOut[Any]:
    """A page of presented items, with the cursor the client is to send for the next."""
    return PageOut[Any](items=[present(item) for item in items.items], next_cursor=next_cursor)


def customer(c: Customer) -> CustomerOut:
    """Customer."""
    return CustomerOut(
        id=c.id,
        external_id=c.external_id,
        name=c.name,
        email=c.email,
        phone=c.phone,
        notification_channels=[channel.value for channel in c.notification_channels],
        notify_on=[alert.value for alert in c.notify_on],
        created_at=c.created_at,
    )


def global_payee(g: GlobalPayee) -> GlobalPayeeOut:
    """GlobalPayee."""
    return GlobalPayeeOut(
        id=g.id,
        name=g.name,
        aliases=list(g.aliases),
        category=g.category,
        address=AddressOut(**asdict(g.address)),
        status=g.status.value,
        payment_method=g.payment_method.value,
        lead_days=g.lead_days,
        popularity=g.popularity,
        account_masks=[m.pattern for m in g.account_masks],
    )


def payee(p: Payee) -> PayeeOut:
    """Payee."""
    return PayeeOut(
        id=p.id,
        customer_id=p.customer_id,
        global_payee_id=p.global_payee_id,
        name=p.name,
        account_number_masked=p.account_number_masked,
        nickname=p.nickname,
        status=p.status.value,
        verification_status=p.verification_status.value,
        created_at=p.created_at,
    )


def funding_account(f: FundingAccount) -> FundingAccountOut:
    """FundingAccount."""
    return FundingAccountOut(
        id=f.id,
        customer_id=f.customer_id,
        routing_number_masked=f.routing_number_masked,
        account_number_masked=f.account_number_masked,
        account_type=f.account_type.value,
        holder_name=f.holder_name,
        verification_status=f.verification_status.value,
        verification_method=f.verification_method.value,
        micro_deposits=(
            MicroDepositsOut(
                expires_at=f.micro_deposits.expires_at, tries_left=f.micro_deposits.tries_left
            )
            if f.micro_deposits is not None and f.verification_status is VerificationStatus.PENDING
            else None
        ),
    )


def payment(p: Payment) -> PaymentOut:
    """Payment."""
    return PaymentOut(
        id=p.id,
        customer_id=p.customer_id,
        payee_id=p.payee_id,
        funding_account_id=p.funding_account_id,
        amount=str(p.amount.amount),
        currency=p.amount.currency,
        send_on=p.send_on,
        requested_send_on=p.requested_send_on,
        deliver_by=p.deliver_by,
        memo=p.memo,
        status=p.status.value,
        failure_code=p.failure_code,
        version=p.version,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def event(e: DomainEvent) -> EventOut:
    """Event."""
    return EventOut(
        event_id=e.event_id,
        type=e.type,
        stream_id=e.stream_id,
        version=e.version,
        occurred_at=e.occurred_at,
        data=e.data(),
    )


def audit_entry(e: AuditEntry) -> AuditEntryOut:
    """AuditEntry."""
    return AuditEntryOut(
        sequence=e.sequence,
        actor=e.actor,
        action=e.action,
        subject_id=e.subject_id,
        recorded_at=e.recorded_at,
        data=e.data,
        entry_hash=e.entry_hash,
    )


def job(j: ProcessJob, progress: JobProgress) -> JobOut:
    """Process job."""
    return JobOut(
        id=j.id,
        status=progress.status.value,
        due_on=j.due_on,
        send_now=j.send_now,
        total=progress.total,
        completed=progress.completed,
        returned=progress.returned,
        failed=progress.failed,
        cancelled=progress.cancelled,
        pending=progress.pending,
    )


def exception(e: PaymentException, notification_ids: list[str]) -> ExceptionOut:
    """PaymentException, and the notifications it sent."""
    return ExceptionOut(
        notification_ids=notification_ids,
        id=e.id,
        payment_id=e.payment_id,
        customer_id=e.customer_id,
        kind=e.kind.value,
        reason_code=e.reason_code,
        status=e.status.value,
        created_at=e.created_at,
        resolved_at=e.resolved_at,
    )


def dead_letter(d: Delivery) -> DeadLetterOut:
    """Dead letter."""
    return DeadLetterOut(
        id=d.id,
        message_id=d.message.message_id,
        message_type=d.message.type,
        destination=d.message.destination,
        subscriber=d.subscriber,
        status=d.status.value,
        attempts=d.attempts,
        last_error=d.last_error,
        created_at=d.message.created_at,
    )


def notification(n: Notification) -> NotificationOut:
    """Notification."""
    return NotificationOut(
        id=n.id,
        exception_id=n.exception_id,
        customer_id=n.customer_id,
        channel=n.channel.value,
        status=n.status.value,
        attempts=n.attempts,
        last_error=n.last_error,
        created_at=n.created_at,
        sent_at=n.sent_at,
    )


def webhook_endpoint(
    e: WebhookEndpoint, *, at: datetime, secret: str | None = None
) -> WebhookEndpointOut:
    """Webhook endpoint; the secrets themselves never, but a new one once."""
    return WebhookEndpointOut(
        id=e.id,
        url=e.url,
        status=e.status.value,
        failing_since=e.failing_since,
        paused_at=e.paused_at,
        signing_secrets=len(e.signing_secrets(at)),
        created_at=e.created_at,
        secret=secret,
    )


def occurrence(o: Occurrence) -> OccurrenceOut:
    """Occurrence."""
    return OccurrenceOut(index=o.index, send_on=o.send_on, amount=str(o.amount.amount))


def recurring_payment(
    r: RecurringSchedule, upcoming: list[Occurrence] | None = None
) -> RecurringPaymentOut:
    """RecurringPayment, with its upcoming occurrences when given (a list leaves them out)."""
    return RecurringPaymentOut(
        id=r.id,
        customer_id=r.customer_id,
        payee_id=r.payee_id,
        funding_account_id=r.funding_account_id,
        amount=str(r.amount.amount),
        currency=r.amount.currency,
        memo=r.memo,
        frequency=r.frequency.value,
        starts_on=r.starts_on,
        ends_on=r.ends_on,
        count=r.count,
        status=r.status.value,
        next_index=r.next_index,
        last_payment_id=r.last_payment_id,
        upcoming=[occurrence(o) for o in upcoming or []],
        version=r.version,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )
