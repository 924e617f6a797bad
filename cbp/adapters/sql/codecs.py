"""Rows to domain records and back, where a record's columns are not simply its fields.

The generic mapping is in ``rows``; this module adds what it cannot know:
JSON shapes of nested values, encrypted columns, and derived search columns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.rows import must_utc, record_from_row, record_values
from cbp.domain.access import ApiKey
from cbp.domain.audit import AuditDraft, AuditEntry
from cbp.domain.banking import AccountMask
from cbp.domain.customer import Channel, Customer, Tenant
from cbp.domain.directory import GlobalPayee
from cbp.domain.events import DomainEvent
from cbp.domain.funding import FundingAccount
from cbp.domain.idempotency import IdempotencyRecord
from cbp.domain.micro_deposits import MicroDeposits
from cbp.domain.money import Money
from cbp.domain.notification import Notification
from cbp.domain.payee import Payee
from cbp.domain.payment import PaymentSnapshot
from cbp.domain.payment_exception import PaymentException
from cbp.domain.policy import PaymentPolicy
from cbp.domain.processing import ProcessJob
from cbp.domain.webhook_endpoint import SigningSecret, WebhookEndpoint
from cbp.ports.messages import Message

SEPARATOR = "\x1f"


def search_text(name: str, aliases: tuple[str, ...]) -> str:
    """Folded name and aliases, each after a separator no query can contain."""
    return "".join(SEPARATOR + text.casefold() for text in (name, *aliases))


#: Word starts are indexed by their first characters, up to this many.
PREFIX_LENGTH = 3
#: The rest of a text kept from a word start: more than any search text (an index
#: entry has a size limit, and an alias from a file may be long).
REST_LENGTH = 200


def directory_prefix_rows(
    payee_id: str, name: str, aliases: Sequence[str], popularity: int
) -> list[dict[str, Any]]:
    """A biller's word starts: tier 0 where its name starts, 1 where a word or an alias does.

    Each start is one row per prefix length (1 to ``PREFIX_LENGTH``), with the
    rest of its text from there, which a longer search text must begin.
    """
    texts = [name.casefold(), *(alias.casefold() for alias in aliases)]
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for number, text in enumerate(texts):
        for start, char in enumerate(text):
            if char == " " or (start and text[start - 1] != " "):
                continue
            rest = text[start : start + REST_LENGTH]
            tier = 0 if number == 0 and start == 0 else 1
            for length in range(1, min(PREFIX_LENGTH, len(rest)) + 1):
                key = (rest[:length], rest)
                if key in rows and rows[key]["tier"] <= tier:
                    continue
                rows[key] = {
                    "prefix": rest[:length],
                    "tier": tier,
                    "weight": -popularity,
                    "name_folded": texts[0],
                    "global_payee_id": payee_id,
                    "rest": rest,
                }
    return list(rows.values())


def directory_characters(name: str, aliases: Sequence[str]) -> set[str]:
    """The characters a biller's folded name and aliases hold."""
    return set(name.casefold()).union(*(alias.casefold() for alias in aliases))


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


def _policy_from_json(p: dict[str, Any]) -> PaymentPolicy:
    return PaymentPolicy(
        currency=p["currency"],
        min_amount=Decimal(p["min_amount"]),
        max_amount=Decimal(p["max_amount"]),
        cutoff=time.fromisoformat(p["cutoff"]),
        timezone=p["timezone"],
        max_days_ahead=p["max_days_ahead"],
        customer_daily_limit=_optional_amount(p.get("customer_daily_limit")),
        customer_payment_limit=_optional_amount(p.get("customer_payment_limit")),
    )


def tenant_values(tenant: Tenant) -> dict[str, Any]:
    """The column values of a tenant, its policy as JSON."""
    return record_values(tenant, policy=policy_to_json(tenant.policy))


def tenant_from_row(row: Any) -> Tenant:
    """The tenant a row holds."""
    return record_from_row(Tenant, row, policy=_policy_from_json(row.policy))


def customer_values(customer: Customer) -> dict[str, Any]:
    """The column values of a customer; its channels in the ``channels`` column."""
    return record_values(
        customer,
        without=("notification_channels",),
        channels=[c.value for c in customer.notification_channels],
    )


def customer_from_row(row: Any) -> Customer:
    """The customer a row holds."""
    channels = tuple(Channel(c) for c in row.channels)
    return record_from_row(Customer, row, notification_channels=channels)


def global_payee_values(payee: GlobalPayee) -> dict[str, Any]:
    """The column values of a biller, with its folded search columns."""
    return record_values(
        payee,
        name_folded=payee.name.casefold(),
        search_text=search_text(payee.name, payee.aliases),
        account_masks=[m.pattern for m in payee.account_masks],
    )


def global_payee_from_row(row: Any) -> GlobalPayee:
    """The biller a row holds."""
    masks = tuple(AccountMask(m) for m in row.account_masks)
    return record_from_row(GlobalPayee, row, account_masks=masks)


def payee_values(payee: Payee, cipher: FieldCipher) -> dict[str, Any]:
    """The column values of a payee, its account number encrypted."""
    return record_values(
        payee,
        without=("account_number",),
        account_number_enc=cipher.encrypt(payee.account_number),
    )


def payee_from_row(row: Any, account_number: str) -> Payee:
    """The payee a row holds, with its decrypted account number."""
    return record_from_row(Payee, row, account_number=account_number)


def funding_account_values(account: FundingAccount, cipher: FieldCipher) -> dict[str, Any]:
    """The column values of a funding account, its numbers and challenge encrypted."""
    challenge = account.micro_deposits
    return record_values(
        account,
        without=("routing_number", "account_number", "micro_deposits"),
        routing_number_enc=cipher.encrypt(account.routing_number),
        account_number_enc=cipher.encrypt(account.account_number),
        micro_deposits_enc=(
            None if challenge is None else cipher.encrypt(micro_deposits_to_json(challenge))
        ),
    )


def funding_account_from_row(row: Any, decrypt: Callable[[str], str]) -> FundingAccount:
    """The funding account a row holds, its encrypted columns decrypted."""
    return record_from_row(
        FundingAccount,
        row,
        routing_number=decrypt(row.routing_number_enc),
        account_number=decrypt(row.account_number_enc),
        micro_deposits=(
            None
            if row.micro_deposits_enc is None
            else micro_deposits_from_json(decrypt(row.micro_deposits_enc))
        ),
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
    """The column values of a payment's read model: its amount in two columns."""
    return record_values(
        snapshot, amount=str(snapshot.amount.amount), currency=snapshot.amount.currency
    )


def payment_view_from_row(row: Any) -> PaymentSnapshot:
    """The payment snapshot a payment_views row holds."""
    amount = Money(Decimal(row.amount), row.currency)
    return record_from_row(PaymentSnapshot, row, amount=amount)


def exception_values(exception: PaymentException) -> dict[str, Any]:
    """The column values of a payment exception."""
    return record_values(exception)


def exception_from_row(row: Any) -> PaymentException:
    """The payment exception a row holds."""
    return record_from_row(PaymentException, row)


def notification_values(notification: Notification) -> dict[str, Any]:
    """The column values of a notification."""
    return record_values(notification)


def notification_from_row(row: Any) -> Notification:
    """The notification a row holds."""
    return record_from_row(Notification, row)


def job_from_row(row: Any) -> ProcessJob:
    """The processing job a row holds."""
    return record_from_row(ProcessJob, row)


def api_key_from_row(row: Any) -> ApiKey:
    """The API key a row holds."""
    return record_from_row(ApiKey, row)


def idempotency_from_row(row: Any) -> IdempotencyRecord:
    """The idempotency record a row holds."""
    return record_from_row(IdempotencyRecord, row)


def audit_values(entry: AuditEntry) -> dict[str, Any]:
    """The column values of an audit entry."""
    return record_values(entry)


def audit_draft_values(draft: AuditDraft) -> dict[str, Any]:
    """The column values of an audit draft."""
    return record_values(draft)


def audit_draft_from_row(row: Any) -> AuditDraft:
    """The audit draft a row holds."""
    return record_from_row(AuditDraft, row)


def audit_from_row(row: Any) -> AuditEntry:
    """The audit entry a row holds."""
    return record_from_row(AuditEntry, row)


def message_values(message: Message) -> dict[str, Any]:
    """The column values of an outbox message: only the headers that are set."""
    return record_values(message, headers=message.headers.as_dict())


def message_from_row(row: Any) -> Message:
    """The outbox message a row holds."""
    return record_from_row(Message, row)


def webhook_endpoint_values(endpoint: WebhookEndpoint, cipher: FieldCipher) -> dict[str, Any]:
    """The column values of a webhook endpoint; its secrets encrypted as one JSON list."""
    secrets = [
        {"value": s.value, "expires_at": s.expires_at.isoformat() if s.expires_at else None}
        for s in endpoint.secrets
    ]
    return record_values(
        endpoint, without=("secrets",), secrets_enc=cipher.encrypt(json.dumps(secrets))
    )


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
    return record_from_row(WebhookEndpoint, row, secrets=secrets)
