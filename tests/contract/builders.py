"""Small builders of domain records for the contract suites."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from cbp.domain.access import ApiKey, Scope
from cbp.domain.banking import AccountMask
from cbp.domain.customer import Customer, Tenant
from cbp.domain.directory import Address, GlobalPayee
from cbp.domain.funding import AccountType, FundingAccount
from cbp.domain.idempotency import IdempotencyRecord
from cbp.domain.identifiers import new_id
from cbp.domain.money import Money
from cbp.domain.notification import Channel, Notification
from cbp.domain.payee import Payee
from cbp.domain.payment import Payment
from cbp.domain.payment_exception import ExceptionKind, PaymentException
from cbp.domain.processing import ProcessJob
from cbp.domain.webhook_endpoint import SigningSecret, WebhookEndpoint
from cbp.ports.messages import (
    Delivery,
    DeliveryStatus,
    Headers,
    Message,
    MessageKind,
    delivery_id,
)

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
ADDRESS = Address(line1="1 Main St", city="Springfield", state="IL", postal_code="62701")
_serial = itertools.count(1)


def tenant() -> Tenant:
    return Tenant(id=new_id("ten"), name="Acme", created_at=NOW)


def customer(tenant_id: str, external_id: str | None = None) -> Customer:
    return Customer(
        id=new_id("cus"),
        tenant_id=tenant_id,
        external_id=external_id or new_id("ext"),
        name="Ada",
        email="ada@example.com",
        phone=None,
        created_at=NOW,
    )


def biller(name: str = "Springfield Power", aliases: tuple[str, ...] = ()) -> GlobalPayee:
    return GlobalPayee(
        id=new_id("gpy"),
        name=name,
        category="utilities",
        address=ADDRESS,
        aliases=aliases,
        account_masks=(AccountMask("9999999999"),),
        lead_days=3,
    )


def payee(tenant_id: str, customer_id: str) -> Payee:
    return Payee(
        id=new_id("pye"),
        tenant_id=tenant_id,
        customer_id=customer_id,
        name="Landlord",
        address=ADDRESS,
        account_number="4417123456",
        created_at=NOW,
        nickname="rent",
    )


def funding_account(tenant_id: str, customer_id: str) -> FundingAccount:
    return FundingAccount(
        id=new_id("fac"),
        tenant_id=tenant_id,
        customer_id=customer_id,
        routing_number="011000015",
        account_number="000123456789",
        account_type=AccountType.CHECKING,
        holder_name="Ada",
        created_at=NOW,
    )


def payment(
    tenant_id: str,
    *,
    customer_id: str = "cus_1",
    payee_id: str = "pye_1",
    send_on: date = date(2026, 3, 2),
    validated: bool = True,
) -> Payment:
    created = Payment.create(
        payment_id=new_id("pmt"),
        tenant_id=tenant_id,
        customer_id=customer_id,
        payee_id=payee_id,
        funding_account_id="fac_1",
        amount=Money.of("12.34", "USD"),
        send_on=send_on,
        deliver_by=send_on + timedelta(days=2),
        memo="rent",
        at=NOW,
    )
    if validated:
        created.validate(at=NOW)
    return created


def exception(tenant_id: str) -> PaymentException:
    return PaymentException(
        id=new_id("exc"),
        tenant_id=tenant_id,
        payment_id=new_id("pmt"),
        customer_id="cus_1",
        kind=ExceptionKind.NSF,
        reason_code="nsf",
        created_at=NOW,
    )


def notification(tenant_id: str) -> Notification:
    return Notification(
        id=new_id("ntf"),
        tenant_id=tenant_id,
        customer_id="cus_1",
        channel=Channel.EMAIL,
        recipient="ada@example.com",
        template="payment_exception",
        payload={"kind": "nsf"},
        created_at=NOW,
        exception_id="exc_1",
    )


def webhook_notification(tenant_id: str, *, at: datetime) -> Notification:
    return replace(notification(tenant_id), channel=Channel.WEBHOOK, recipient=None, created_at=at)


def webhook_endpoint(tenant_id: str) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=new_id("whe"),
        tenant_id=tenant_id,
        url="https://hooks.example.com/cbp",
        secrets=(SigningSecret(value="whsec_b2xk"),),
        created_at=NOW,
    )


def job(tenant_id: str) -> ProcessJob:
    return ProcessJob(
        id=new_id("job"),
        tenant_id=tenant_id,
        payment_ids=("pmt_1", "pmt_2"),
        created_at=NOW,
        due_on=date(2026, 3, 2),
    )


def api_key(tenant_id: str) -> ApiKey:
    return ApiKey(
        id=new_id("key"),
        tenant_id=tenant_id,
        secret_hash="ab" * 32,
        scopes=frozenset({Scope.PAYMENTS_READ, Scope.PAYEES_WRITE}),
        created_at=NOW,
        name="ci",
    )


def idempotency(tenant_id: str, key: str = "k-1", created_at: datetime = NOW) -> IdempotencyRecord:
    return IdempotencyRecord(
        tenant_id=tenant_id, key=key, fingerprint="f" * 64, created_at=created_at
    )


def message(
    kind: MessageKind = MessageKind.TASK, destination: str = "payment.processing"
) -> Message:
    return Message(
        message_id=new_id("msg"),
        kind=kind,
        destination=destination,
        type="payment.process",
        payload={"payment_id": f"pmt_{next(_serial)}", "amount": "12.34", "nested": {"a": [1, 2]}},
        created_at=NOW,
        ordering_key="pmt_1",
        headers=Headers(
            tenant_id="ten_1",
            correlation_id="cor_1",
            traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
    )


def delivery(message: Message, subscriber: str) -> Delivery:
    """A freshly leased delivery of ``message`` to ``subscriber``."""
    return Delivery(
        id=delivery_id(message.message_id, subscriber),
        message=message,
        subscriber=subscriber,
        status=DeliveryStatus.PENDING,
        attempts=1,
        available_at=NOW,
    )
