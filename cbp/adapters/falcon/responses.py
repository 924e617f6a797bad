"""Response bodies as pydantic models: the field names the API publishes in api.json.

The same models shape every response and generate the OpenAPI schemas, so
the document cannot describe a field the API does not send.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from cbp.adapters.falcon.schemas import StatusAlertName

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
    notify_on: list[StatusAlertName]
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


class PaymentTermsOut(Out):
    """What a payment and a recurring payment share: who pays whom, from where, how much."""

    id: str
    customer_id: str
    payee_id: str
    funding_account_id: str
    amount: str
    currency: str


class PaymentOut(PaymentTermsOut):
    """Payment; money is a decimal string."""

    send_on: date
    requested_send_on: date | None = Field(
        description="The date asked for, when it was not a business day and send_on moved on"
    )
    deliver_by: date
    due_on: date | None = Field(
        description="The bill's due date the payment was made to meet; a change must still meet it"
    )
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
    bill_id: str | None = Field(description="The bill the payment pays, if it pays one")
    version: int
    created_at: datetime
    updated_at: datetime


class CheckOut(Out):
    """A check that pays a payment; money is a decimal string."""

    payment_id: str
    check_number: int
    amount: str
    currency: str
    payee_name: str
    status: Literal["issued", "printed", "mailed", "cashed", "stopped", "voided", "expired"] = (
        Field(description="stopped, voided and expired checks are refused by the bank")
    )
    issued_at: datetime
    printed_on: date | None
    mailed_on: date | None
    cashed_on: date | None
    expires_on: date | None = Field(
        description="A mailed check left uncashed until then expires, and is refunded"
    )


class BillPaymentOut(Out):
    """A payment made for a bill, and whether it has paid."""

    payment_id: str
    amount: str
    by_autopay: bool
    state: Literal["pending", "settled", "dropped"] = Field(
        description="settled: completed and counted; dropped: failed, cancelled or returned"
    )


class BillOut(Out):
    """Bill; money is a decimal string."""

    id: str
    customer_id: str
    payee_id: str
    amount_due: str
    minimum_due: str
    statement_balance: str
    currency: str
    due_on: date
    statement_on: date
    reference: str
    status: Literal["open", "scheduled", "paid", "past_due", "cancelled"]
    amount_paid: str = Field(description="What the bill's completed payments add up to")
    payments: list[BillPaymentOut]
    autopay_skipped: str | None = Field(
        description="Why the payee's autopay rule did not pay the bill, if it did not"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class AutopayOut(Out):
    """A payee's autopay rule."""

    payee_id: str
    customer_id: str
    funding_account_id: str
    basis: Literal["statement_balance", "minimum_due", "fixed_amount"]
    fixed_amount: str | None
    days_before_due: int
    cap: str | None
    currency: str | None
    created_at: datetime
    updated_at: datetime


class DeliveryQuoteOut(Out):
    """When a payment to a payee would arrive, before it is made."""

    payee_id: str
    send_on: date = Field(
        description="The day it would be sent: the one asked for, or the earliest"
    )
    requested_send_on: date | None = Field(
        description="The date asked for, when it was not a business day and send_on moved on"
    )
    deliver_by: date = Field(description="When the payee has it, by its lead days")
    due_on: date | None = Field(description="The bill's due date, when one was given")
    on_time: bool | None = Field(description="Whether deliver_by is on or before due_on")
    latest_send_on: date | None = Field(
        description="The last send-on date that still arrives by due_on"
    )


class OccurrenceOut(Out):
    """Occurrence: one payment a recurring payment is still to make."""

    index: int = Field(description="The occurrence's number, from 0")
    send_on: date
    amount: str


class RecurringPaymentOut(PaymentTermsOut):
    """RecurringPayment: a schedule, how far it has got, and what comes next."""

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
    total: int = Field(description="Every payment the job took")
    completed: int = Field(description="Payments the processor settled")
    returned: int = Field(description="Payments settled, then returned by the bank")
    failed: int = Field(description="Payments that could not go through")
    cancelled: int = Field(description="Payments cancelled before they were sent")
    pending: int = Field(description="Payments not yet at an end")


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
