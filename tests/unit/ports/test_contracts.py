"""Message contracts: each encodes and decodes to itself, versions are checked."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from cbp.domain.events import AccountUpdated, AccountVerified, PayeeStatusChanged
from cbp.ports import contracts as ct
from cbp.ports.messages import TASK_QUEUES, Message, MessageKind
from cbp.services.routing import SUBSCRIPTIONS, Subscription

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def example(contract: type[ct.Contract]) -> ct.Contract:
    """An instance with a distinct value in every field."""
    values: dict[str, Any] = {}
    for n, field in enumerate(dataclasses.fields(contract)):
        values[field.name] = {"int": n, "bool": True}.get(str(field.type), f"{field.name}-{n}")
    return contract(**values)


@pytest.mark.parametrize("contract", sorted(ct.Contract.registry.values(), key=lambda c: c.TYPE))
def test_every_contract_survives_its_own_encoding(contract: type[ct.Contract]) -> None:
    sent = example(contract)
    payload = sent.encode()
    assert payload[ct.SCHEMA_VERSION] == contract.VERSION
    message = Message(
        message_id="msg_1",
        kind=contract.message_kind(),
        destination=contract.DESTINATION,
        type=contract.TYPE,
        payload=payload,
        created_at=NOW,
    )
    assert ct.decode(message) == sent
    assert (contract.message_kind() is MessageKind.TASK) == (contract.DESTINATION in TASK_QUEUES)


def test_a_newer_version_is_refused_and_unknown_fields_are_ignored() -> None:
    task = ct.ProcessPaymentTask(tenant_id="ten_1", payment_id="pmt_1")
    later = {**task.encode(), "priority": "high"}
    assert ct.ProcessPaymentTask.decode(later) == task
    unversioned = {"tenant_id": "ten_1", "payment_id": "pmt_1"}  # NOTE: written before versions
    assert ct.ProcessPaymentTask.decode(unversioned) == task
    with pytest.raises(ct.UnknownContract, match="version 2"):
        ct.ProcessPaymentTask.decode({**task.encode(), ct.SCHEMA_VERSION: 2})


def test_a_status_message_carries_every_event_saved_together_and_reads_the_old_ones() -> None:
    common = {
        "payment_id": "pmt_1",
        "tenant_id": "ten_1",
        "customer_id": "cus_1",
        "event_id": "evt_4",
        "status": "completed",
        "version": 4,
    }
    together = ct.PaymentStatusChanged.decode(
        {
            ct.SCHEMA_VERSION: 2,
            **common,
            "event_type": "PaymentCompleted",
            "event_types": ["PaymentProcessed", "PaymentCompleted"],
        }
    )
    assert together.changes() == [("PaymentProcessed", 3), ("PaymentCompleted", 4)]
    one_a_message = {ct.SCHEMA_VERSION: 1, **common, "event_type": "PaymentCompleted"}
    assert ct.PaymentStatusChanged.decode(one_a_message).changes() == [("PaymentCompleted", 4)]


def test_an_unknown_message_type_is_refused() -> None:
    message = Message(
        message_id="msg_1",
        kind=MessageKind.EVENT,
        destination="payment.events",
        type="payment.teleported",
        payload={},
        created_at=NOW,
    )
    with pytest.raises(ct.UnknownContract, match=r"payment\.teleported"):
        ct.decode(message)


def test_payee_and_directory_events_travel_as_their_own_contracts() -> None:
    common = {"stream_id": "pye_1", "version": 3, "occurred_at": NOW}
    updated = AccountUpdated(tenant_id="ten_1", account_kind="payee", **common)
    verified = AccountVerified(tenant_id="ten_1", account_kind="payee", verified=False, **common)
    status = PayeeStatusChanged(
        tenant_id=None,
        payee_kind="global_payee",
        old_status="active",
        new_status="inactive",
        **common,
    )
    assert ct.PayeeEvent.of(updated) == ct.AccountUpdated(
        subject_id="pye_1", version=3, tenant_id="ten_1", account_kind="payee"
    )
    assert ct.PayeeEvent.of(verified).verified is False  # type: ignore[attr-defined]
    assert ct.PayeeEvent.of(status).TYPE == "PayeeStatusChanged"


def test_a_subscriber_takes_the_types_of_its_contracts_from_one_destination_only() -> None:
    audit = next(s for s in SUBSCRIPTIONS if s.name == "audit-log")
    assert audit.types == {ct.PaymentStatusChanged.TYPE, ct.ExceptionCreated.TYPE}
    assert audit.destination == "payment.events"
    with pytest.raises(ValueError, match="exactly one queue or topic"):
        Subscription("mixed", (ct.ProcessPaymentTask, ct.ExceptionCreated), lambda *_: None)
