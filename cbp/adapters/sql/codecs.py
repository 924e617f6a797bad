"""Rows to domain records and back; the only place that knows both shapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from cbp.adapters.sql.crypto import FieldCipher
from cbp.domain.access import ApiKey, Scope
from cbp.domain.audit import AuditDraft, AuditEntry
from cbp.domain.banking import AccountMask
from cbp.domain.customer import Channel, Customer, StatusAlert, Tenant
from cbp.domain.directory import Address, GlobalPayee, PayeeStatus, PaymentMethod
from cbp.domain.events import DomainEvent
from cbp.domain.funding import AccountType, FundingAccount
from cbp.domain.idempotency import IdempotencyRecord, IdempotencyState
from cbp.domain.micro_deposits import MicroDeposits, VerificationMethod
from cbp.domain.money import Money
from cbp.domain.notification import Notification, NotificationStatus
from cbp.domain.payee import Payee
from cbp.domain.payment import PaymentSnapshot, PaymentStatus
from cbp.domain.payment_exception import ExceptionKind, ExceptionStatus, PaymentException
from cbp.domain.policy import PaymentPolicy
from cbp.domain.processing import ProcessJob
from cbp.domain.verification import VerificationStatus
from cbp.domain.webhook_endpoint import EndpointStatus, SigningSecret, WebhookEndpoint
from cbp.ports.messages import Headers, Message, MessageKind

SEPARATOR = "\x1f"


def utc(moment: datetime | None) -> datetime | None:
    """The moment in UTC: SQLite returns naive times, PostgreSQL zoned ones."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def must_utc(moment: datetime) -> datetime:
    """``utc`` for a column that is never null."""
    result = utc(moment)
    assert result is not None
    return result


def search_text(name: str, aliases: tuple[str, ...]) -> str:
    """Folded name and aliases, each after a separator no query can contain."""
    return "".join(SEPARATOR + text.casefold() for text in (name, *aliases))


def policy_to_json(policy: PaymentPolicy) -> dict[str, Any]:
    """A tenant's policy as JSON."""
    return {
        "currency": policy.currency,
        "min_amount": str(policy.min_amount),
        "max_amount": str(policy.max_amount),
        "cutoff": policy.cutoff.isoformat(),
        "timezone": policy.timezone,
        "max_days_ahead": policy.max_days_ahead,
        "customer_daily_limit": _optional_text(policy.customer_daily_limit),
        "customer_payment_limit": _optional_text(policy.customer_payment_limit),
    }


def _optional_text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def _optional_amount(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def tenant_from_row(row: Any) -> Tenant:
    """The tenant a row holds."""
    p = row.policy
    policy = PaymentPolicy(
        currency=p["currency"],
        min_amount=Decimal(p["min_amount"]),
        max_amount=Decimal(p["max_amount"]),
        cutoff=time.fromisoformat(p["cutoff"]),
        timezone=p["timezone"],
        max_days_ahead=p["max_days_ahead"],
        customer_daily_limit=_optional_amount(p.get("customer_daily_limit")),
        customer_payment_limit=_optional_amount(p.get("customer_payment_limit")),
    )
    return Tenant(
        id=row.id,
        name=row.name,
        created_at=must_utc(row.created_at),
        policy=policy,
        contact_email=row.contact_email,
    )


def customer_from_row(row: Any) -> Customer:
    """The customer a row holds."""
    return Customer(
        id=row.id,
        tenant_id=row.tenant_id,
        external_id=row.external_id,
        name=row.name,
        email=row.email,
        phone=row.phone,
        created_at=must_utc(row.created_at),
        notification_channels=tuple(Channel(c) for c in row.channels),
        notify_on=tuple(StatusAlert(a) for a in row.notify_on),
    )


def address_to_json(address: Address | None) -> dict[str, Any] | None:
    """An address as JSON."""
    return None if address is None else asdict(address)


def global_payee_values(payee: GlobalPayee) -> dict[str, Any]:
    """The column values of a biller."""
    return {
        "id": payee.id,
        "name": payee.name,
        "name_folded": payee.name.casefold(),
        "search_text": search_text(payee.name, payee.aliases),
        "aliases": list(payee.aliases),
        "category": payee.category,
        "address": address_to_json(payee.address),
        "status": payee.status.value,
        "payment_method": payee.payment_method.value,
        "lead_days": payee.lead_days,
        "account_masks": [m.pattern for m in payee.account_masks],
        "popularity": payee.popularity,
        "version": payee.version,
    }


def global_payee_from_row(row: Any) -> GlobalPayee:
    """The biller a row holds."""
    return GlobalPayee(
        id=row.id,
        name=row.name,
        category=row.category,
        address=Address(**row.address),
        payment_method=PaymentMethod(row.payment_method),
        lead_days=row.lead_days,
        account_masks=tuple(AccountMask(m) for m in row.account_masks),
        aliases=tuple(row.aliases),
        status=PayeeStatus(row.status),
        popularity=row.popularity,
        version=row.version,
    )


def payee_from_row(row: Any, account_number: str) -> Payee:
    """The payee a row holds, with its decrypted account number."""
    return Payee(
        id=row.id,
        tenant_id=row.tenant_id,
        customer_id=row.customer_id,
        global_payee_id=row.global_payee_id,
        name=row.name,
        address=None if row.address is None else Address(**row.address),
        account_number=account_number,
        nickname=row.nickname,
        lead_days=row.lead_days,
        status=PayeeStatus(row.status),
        verification_status=VerificationStatus(row.verification_status),
        version=row.version,
        created_at=must_utc(row.created_at),
    )


def funding_account_from_row(row: Any, decrypt: Callable[[str], str]) -> FundingAccount:
    """The funding account a row holds, its encrypted columns decrypted."""
    return FundingAccount(
        id=row.id,
        tenant_id=row.tenant_id,
        customer_id=row.customer_id,
        routing_number=decrypt(row.routing_number_enc),
        account_number=decrypt(row.account_number_enc),
        account_type=AccountType(row.account_type),
        holder_name=row.holder_name,
        verification_status=VerificationStatus(row.verification_status),
        verification_method=VerificationMethod(row.verification_method),
        micro_deposits=(
            None
            if row.micro_deposits_enc is None
            else micro_deposits_from_json(decrypt(row.micro_deposits_enc))
        ),
        version=row.version,
        created_at=must_utc(row.created_at),
    )


def micro_deposits_to_json(challenge: MicroDeposits) -> str:
    """A micro-deposit challenge as JSON, to be encrypted."""
    return json.dumps(
        {
            "amounts": [str(m.amount) for m in challenge.amounts],
            "currency": challenge.amounts[0].currency,
            "expires_at": challenge.expires_at.isoformat(),
            "attempts": challenge.attempts,
        }
    )


def micro_deposits_from_json(text: str) -> MicroDeposits:
    """The micro-deposit challenge a decrypted column holds."""
    data = json.loads(text)
    first, second = (Money.of(a, data["currency"]) for a in data["amounts"])
    return MicroDeposits(
        amounts=(first, second),
        expires_at=datetime.fromisoformat(data["expires_at"]),
        attempts=data["attempts"],
    )


def event_from_row(row: Any) -> DomainEvent:
    """The domain event a row holds."""
    return DomainEvent.rebuild(
        row.type,
        stream_id=row.stream_id,
        version=row.version,
        occurred_at=must_utc(row.occurred_at),
        event_id=row.event_id,
        data=row.data,
    )


def payment_view_values(snapshot: PaymentSnapshot) -> dict[str, Any]:
    """The column values of a payment's read model."""
    values = {name: getattr(snapshot, name) for name in PaymentSnapshot.__dataclass_fields__}
    values["status"] = snapshot.status.value
    values["amount"] = str(snapshot.amount.amount)
    values["currency"] = snapshot.amount.currency
    return values


def payment_view_from_row(row: Any) -> PaymentSnapshot:
    """The payment snapshot a payment_views row holds."""
    return PaymentSnapshot(
        id=row.id,
        version=row.version,
        status=PaymentStatus(row.status),
        tenant_id=row.tenant_id,
        customer_id=row.customer_id,
        payee_id=row.payee_id,
        funding_account_id=row.funding_account_id,
        amount=Money(Decimal(row.amount), row.currency),
        send_on=row.send_on,
        requested_send_on=row.requested_send_on,
        deliver_by=row.deliver_by,
        memo=row.memo,
        failure_code=row.failure_code,
        processor_reference=row.processor_reference,
        created_at=must_utc(row.created_at),
        updated_at=must_utc(row.updated_at),
    )


def exception_values(exception: PaymentException) -> dict[str, Any]:
    """The column values of a payment exception."""
    return {
        "id": exception.id,
        "tenant_id": exception.tenant_id,
        "payment_id": exception.payment_id,
        "customer_id": exception.customer_id,
        "kind": exception.kind.value,
        "reason_code": exception.reason_code,
        "status": exception.status.value,
        "resolution": exception.resolution,
        "created_at": exception.created_at,
        "resolved_at": exception.resolved_at,
    }


def exception_from_row(row: Any) -> PaymentException:
    """The payment exception a row holds."""
    return PaymentException(
        id=row.id,
        tenant_id=row.tenant_id,
        payment_id=row.payment_id,
        customer_id=row.customer_id,
        kind=ExceptionKind(row.kind),
        reason_code=row.reason_code,
        status=ExceptionStatus(row.status),
        resolution=row.resolution,
        created_at=must_utc(row.created_at),
        resolved_at=utc(row.resolved_at),
    )


def notification_values(notification: Notification) -> dict[str, Any]:
    """The column values of a notification."""
    return {
        "id": notification.id,
        "tenant_id": notification.tenant_id,
        "customer_id": notification.customer_id,
        "exception_id": notification.exception_id,
        "channel": notification.channel.value,
        "recipient": notification.recipient,
        "template": notification.template,
        "payload": notification.payload,
        "status": notification.status.value,
        "attempts": notification.attempts,
        "last_error": notification.last_error,
        "created_at": notification.created_at,
        "sent_at": notification.sent_at,
    }


def notification_from_row(row: Any) -> Notification:
    """The notification a row holds."""
    return Notification(
        id=row.id,
        tenant_id=row.tenant_id,
        customer_id=row.customer_id,
        exception_id=row.exception_id,
        channel=Channel(row.channel),
        recipient=row.recipient,
        template=row.template,
        payload=row.payload,
        status=NotificationStatus(row.status),
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=must_utc(row.created_at),
        sent_at=utc(row.sent_at),
    )


def job_from_row(row: Any) -> ProcessJob:
    """The processing job a row holds."""
    return ProcessJob(
        id=row.id,
        tenant_id=row.tenant_id,
        payment_ids=tuple(row.payment_ids),
        due_on=row.due_on,
        send_now=bool(row.send_now),
        created_at=must_utc(row.created_at),
    )


def api_key_from_row(row: Any) -> ApiKey:
    """The API key a row holds."""
    return ApiKey(
        id=row.id,
        tenant_id=row.tenant_id,
        secret_hash=row.secret_hash,
        scopes=frozenset(Scope(s) for s in row.scopes),
        name=row.name,
        created_at=must_utc(row.created_at),
        revoked_at=utc(row.revoked_at),
    )


def idempotency_from_row(row: Any) -> IdempotencyRecord:
    """The idempotency record a row holds."""
    return IdempotencyRecord(
        tenant_id=row.tenant_id,
        key=row.key,
        fingerprint=row.fingerprint,
        created_at=must_utc(row.created_at),
        state=IdempotencyState(row.state),
        response_status=row.response_status,
        response_body=None if row.response_body is None else bytes(row.response_body),
    )


def audit_values(entry: AuditEntry) -> dict[str, Any]:
    """The column values of an audit entry."""
    return {
        "sequence": entry.sequence,
        "tenant_id": entry.tenant_id,
        "actor": entry.actor,
        "action": entry.action,
        "subject_id": entry.subject_id,
        "data": entry.data,
        "recorded_at": entry.recorded_at,
        "previous_hash": entry.previous_hash,
        "entry_hash": entry.entry_hash,
    }


def audit_draft_values(draft: AuditDraft) -> dict[str, Any]:
    """The column values of an audit draft (its fields are its columns)."""
    return asdict(draft)


def audit_draft_from_row(row: Any) -> AuditDraft:
    """The audit draft a row holds."""
    return AuditDraft(
        tenant_id=row.tenant_id,
        actor=row.actor,
        action=row.action,
        subject_id=row.subject_id,
        data=row.data,
        recorded_at=must_utc(row.recorded_at),
    )


def audit_from_row(row: Any) -> AuditEntry:
    """The audit entry a row holds."""
    return AuditEntry(
        sequence=row.sequence,
        tenant_id=row.tenant_id,
        actor=row.actor,
        action=row.action,
        subject_id=row.subject_id,
        data=row.data,
        recorded_at=must_utc(row.recorded_at),
        previous_hash=row.previous_hash,
        entry_hash=row.entry_hash,
    )


def message_values(message: Message) -> dict[str, Any]:
    """The column values of an outbox message."""
    return {
        "message_id": message.message_id,
        "kind": message.kind.value,
        "destination": message.destination,
        "type": message.type,
        "payload": message.payload,
        "ordering_key": message.ordering_key,
        "headers": message.headers.as_dict(),
        "created_at": message.created_at,
    }


def message_from_row(row: Any) -> Message:
    """The outbox message a row holds."""
    return Message(
        message_id=row.message_id,
        kind=MessageKind(row.kind),
        destination=row.destination,
        type=row.type,
        payload=row.payload,
        ordering_key=row.ordering_key,
        headers=Headers(**row.headers),
        created_at=must_utc(row.created_at),
    )


def webhook_endpoint_values(endpoint: WebhookEndpoint, cipher: FieldCipher) -> dict[str, Any]:
    """The column values of a webhook endpoint; its secrets encrypted as one JSON list."""
    secrets = [
        {"value": s.value, "expires_at": s.expires_at.isoformat() if s.expires_at else None}
        for s in endpoint.secrets
    ]
    return {
        "id": endpoint.id,
        "tenant_id": endpoint.tenant_id,
        "url": endpoint.url,
        "secrets_enc": cipher.encrypt(json.dumps(secrets)),
        **webhook_health_values(endpoint),
        "created_at": endpoint.created_at,
    }


def webhook_health_values(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """The columns a delivery may change: status and failures, never URL or secrets."""
    return {
        "status": endpoint.status.value,
        "failing_since": endpoint.failing_since,
        "paused_at": endpoint.paused_at,
    }


def webhook_endpoint_from_row(row: Any, cipher: FieldCipher) -> WebhookEndpoint:
    """The webhook endpoint a row holds, its secrets decrypted."""
    secrets = tuple(
        SigningSecret(
            value=s["value"],
            expires_at=datetime.fromisoformat(s["expires_at"]) if s["expires_at"] else None,
        )
        for s in json.loads(cipher.decrypt(row.secrets_enc))
    )
    return WebhookEndpoint(
        id=row.id,
        tenant_id=row.tenant_id,
        url=row.url,
        secrets=secrets,
        status=EndpointStatus(row.status),
        failing_since=utc(row.failing_since),
        paused_at=utc(row.paused_at),
        created_at=must_utc(row.created_at),
    )
