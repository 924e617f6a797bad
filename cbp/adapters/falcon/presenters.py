"""Response bodies: the field names of DESIGN §5, account numbers masked."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from cbp.domain.customer import Customer
from cbp.domain.directory import GlobalPayee
from cbp.domain.events import DomainEvent
from cbp.domain.funding import FundingAccount
from cbp.domain.notification import Notification
from cbp.domain.payee import Payee
from cbp.domain.payment import Payment
from cbp.domain.payment_exception import PaymentException
from cbp.domain.processing import JobProgress, ProcessJob
from cbp.ports.storage import Page


def moment(value: datetime | None) -> str | None:
    """RFC 3339 in UTC."""
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def page(items: Page[Any], present: Any) -> dict[str, Any]:
    """A page of items and the cursor of the next one."""
    return {"items": [present(item) for item in items.items], "next_cursor": items.next_cursor}


def customer(c: Customer) -> dict[str, Any]:
    """Customer."""
    return {
        "id": c.id,
        "external_id": c.external_id,
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "created_at": moment(c.created_at),
    }


def global_payee(g: GlobalPayee) -> dict[str, Any]:
    """GlobalPayee."""
    return {
        "id": g.id,
        "name": g.name,
        "aliases": list(g.aliases),
        "category": g.category,
        "address": asdict(g.address),
        "status": g.status.value,
        "payment_method": g.payment_method.value,
        "lead_days": g.lead_days,
        "account_masks": [m.pattern for m in g.account_masks],
    }


def payee(p: Payee) -> dict[str, Any]:
    """Payee; the account number is masked."""
    return {
        "id": p.id,
        "customer_id": p.customer_id,
        "global_payee_id": p.global_payee_id,
        "name": p.name,
        "account_number_masked": p.account_number_masked,
        "nickname": p.nickname,
        "status": p.status.value,
        "verification_status": p.verification_status.value,
        "created_at": moment(p.created_at),
    }


def funding_account(f: FundingAccount) -> dict[str, Any]:
    """FundingAccount; numbers are masked."""
    return {
        "id": f.id,
        "customer_id": f.customer_id,
        "routing_number_masked": f.routing_number_masked,
        "account_number_masked": f.account_number_masked,
        "account_type": f.account_type.value,
        "holder_name": f.holder_name,
        "verification_status": f.verification_status.value,
    }


def payment(p: Payment) -> dict[str, Any]:
    """Payment; money as a decimal string."""
    return {
        "id": p.id,
        "customer_id": p.customer_id,
        "payee_id": p.payee_id,
        "funding_account_id": p.funding_account_id,
        "amount": str(p.amount.amount),
        "currency": p.amount.currency,
        "send_on": p.send_on.isoformat(),
        "deliver_by": p.deliver_by.isoformat(),
        "memo": p.memo,
        "status": p.status.value,
        "failure_code": p.failure_code,
        "version": p.version,
        "created_at": moment(p.created_at),
        "updated_at": moment(p.updated_at),
    }


def event(e: DomainEvent) -> dict[str, Any]:
    """Event."""
    return {
        "event_id": e.event_id,
        "type": e.type,
        "stream_id": e.stream_id,
        "version": e.version,
        "occurred_at": moment(e.occurred_at),
        "data": e.data(),
    }


def job(j: ProcessJob, progress: JobProgress) -> dict[str, Any]:
    """Process job and its counts by outcome."""
    return {
        "job_id": j.id,
        "status": progress.status.value,
        "total": progress.total,
        "completed": progress.completed,
        "failed": progress.failed,
        "pending": progress.pending,
    }


def exception(e: PaymentException) -> dict[str, Any]:
    """PaymentException."""
    return {
        "id": e.id,
        "payment_id": e.payment_id,
        "customer_id": e.customer_id,
        "kind": e.kind.value,
        "reason_code": e.reason_code,
        "status": e.status.value,
        "created_at": moment(e.created_at),
        "resolved_at": moment(e.resolved_at),
    }


def notification(n: Notification) -> dict[str, Any]:
    """Notification; the recipient is not shown."""
    return {
        "id": n.id,
        "exception_id": n.exception_id,
        "customer_id": n.customer_id,
        "channel": n.channel.value,
        "status": n.status.value,
        "attempts": n.attempts,
        "last_error": n.last_error,
        "created_at": moment(n.created_at),
        "sent_at": moment(n.sent_at),
    }
