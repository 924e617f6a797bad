"""Domain records as response bodies: what each resource sends back."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from cbp.adapters.falcon.responses import (
    AddressOut,
    AuditEntryOut,
    AutopayOut,
    BillOut,
    BillPaymentOut,
    CheckOut,
    CustomerOut,
    DeadLetterOut,
    DeliveryQuoteOut,
    EventOut,
    ExceptionOut,
    FundingAccountOut,
    GlobalPayeeOut,
    JobOut,
    MicroDepositsOut,
    NotificationOut,
    OccurrenceOut,
    PageOut,
    PayeeOut,
    PaymentOut,
    RecurringPaymentOut,
    WebhookEndpointOut,
)
from cbp.domain.audit import AuditEntry
from cbp.domain.autopay import AutopayRule
from cbp.domain.bill import Bill
from cbp.domain.check import Check
from cbp.domain.customer import Customer
from cbp.domain.delivery_quote import DeliveryQuote
from cbp.domain.directory import GlobalPayee
from cbp.domain.events import DomainEvent
from cbp.domain.funding import FundingAccount
from cbp.domain.notification import Notification
from cbp.domain.payee import Payee
from cbp.domain.payment import Payment
from cbp.domain.payment_exception import PaymentException
from cbp.domain.processing import JobProgress, ProcessJob
from cbp.domain.recurring import RecurringSchedule
from cbp.domain.schedule_rules import Occurrence
from cbp.domain.verification import VerificationStatus
from cbp.domain.webhook_endpoint import WebhookEndpoint
from cbp.ports.messages import Delivery
from cbp.ports.storage.pages import Page


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


def delivery_quote(q: DeliveryQuote) -> DeliveryQuoteOut:
    """When a payment would arrive."""
    return DeliveryQuoteOut(
        payee_id=q.payee_id,
        send_on=q.send_on,
        requested_send_on=q.requested_send_on,
        deliver_by=q.deliver_by,
        due_on=q.due_on,
        on_time=q.on_time,
        latest_send_on=q.latest_send_on,
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
        due_on=p.due_on,
        memo=p.memo,
        status=p.status.value,
        failure_code=p.failure_code,
        bill_id=p.bill_id,
        version=p.version,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def check(k: Check) -> CheckOut:
    """Check."""
    return CheckOut(
        payment_id=k.reference,
        check_number=k.number,
        amount=str(k.amount.amount),
        currency=k.amount.currency,
        payee_name=k.payee_name,
        status=k.status.value,
        issued_at=k.issued_at,
        printed_on=k.printed_on,
        mailed_on=k.mailed_on,
        cashed_on=k.cashed_on,
        expires_on=k.expires_on,
    )


def bill(b: Bill) -> BillOut:
    """Bill."""
    return BillOut(
        id=b.id,
        customer_id=b.customer_id,
        payee_id=b.payee_id,
        amount_due=str(b.amounts.amount_due.amount),
        minimum_due=str(b.amounts.minimum_due.amount),
        statement_balance=str(b.amounts.statement_balance.amount),
        currency=b.currency,
        due_on=b.due_on,
        statement_on=b.statement_on,
        reference=b.reference,
        status=b.status.value,
        amount_paid=str(b.amount_paid.amount),
        payments=[
            BillPaymentOut(
                payment_id=p.payment_id,
                amount=str(p.amount.amount),
                by_autopay=p.by_autopay,
                state=p.state.value,
            )
            for p in b.payments.values()
        ],
        autopay_skipped=b.autopay_skipped,
        version=b.version,
        created_at=b.created_at,
        updated_at=b.updated_at,
    )


def autopay_rule(r: AutopayRule) -> AutopayOut:
    """AutopayRule."""
    amounts = [m for m in (r.fixed_amount, r.cap) if m is not None]
    return AutopayOut(
        payee_id=r.payee_id,
        customer_id=r.customer_id,
        funding_account_id=r.funding_account_id,
        basis=r.basis.value,
        fixed_amount=None if r.fixed_amount is None else str(r.fixed_amount.amount),
        days_before_due=r.days_before_due,
        cap=None if r.cap is None else str(r.cap.amount),
        currency=amounts[0].currency if amounts else None,
        created_at=r.created_at,
        updated_at=r.updated_at,
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
