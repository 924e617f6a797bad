import json
from dataclasses import replace

import pytest

from cbp.ports.contracts import PaymentStatusChanged
from cbp.services import commands as c
from cbp.services.auditing import chain_audit_log, verify_audit_log
from tests.unit.services.conftest import (
    ACCOUNT_NUMBER,
    FUNDING_ACCOUNT_NUMBER,
    ROUTING_NUMBER,
    World,
)
from tests.unit.services.test_status_notices import status_changed


def test_every_change_is_chained_in_the_audit_log_with_its_actor(world: World) -> None:
    world.app.handle(
        c.CancelPayment(tenant_id=world.tenant_id, payment_id=world.pay(), actor="key_42")
    )
    checked, broken = verify_audit_log(world.app.deps)
    assert broken is None
    with world.app.deps.unit_of_work() as uow:
        entries = uow.audit.entries()
    assert checked == len(entries) > 5
    assert [(e.action, e.actor) for e in entries[-2:]] == [
        ("CancelPayment", "key_42"),
        ("RecordPaymentActivity", "audit-log"),  # NOTE: the event it caused, after it
    ]


def test_payee_events_are_recorded_in_the_audit_log_as_they_are_published(world: World) -> None:
    with world.app.deps.unit_of_work() as uow:
        entries = uow.audit.entries()
    recorded = [
        (e.data["event_type"], e.data.get("account_kind"), e.actor)
        for e in entries
        if e.action == "RecordPayeeActivity" and e.subject_id == world.payee_id
    ]
    assert recorded == [
        ("AccountUpdated", "payee", "audit-log"),
        ("AccountVerified", "payee", "audit-log"),
    ]


def test_each_payment_event_is_recorded_once_with_no_delivery_of_its_own(world: World) -> None:
    """Events saved together leave in one status message; the log records each of them."""
    payment_id = world.pay()
    chain_audit_log(world.app.deps)
    with world.app.deps.unit_of_work() as uow:
        recorded = [
            (e.data["event_type"], e.data["version"])
            for e in uow.audit.entries(limit=10_000)
            if e.action == "RecordPaymentActivity" and e.subject_id == payment_id
        ]
        published = [
            list(m.payload["event_types"])
            for m in uow.outbox.pending(1000)
            if m.type == PaymentStatusChanged.TYPE and m.payload["payment_id"] == payment_id
        ]
    assert published == [["PaymentCreated", "PaymentValidated"]]
    assert recorded == [("PaymentCreated", 1), ("PaymentValidated", 2)]


def test_a_delivery_relayed_to_the_audit_log_before_the_upgrade_is_recorded_once(
    world: World,
) -> None:
    """Messages published before events were recorded as published still reach the log."""
    world.app.run_until_idle()
    left_over = status_changed(world, "PaymentCompleted")
    with world.app.deps.unit_of_work() as uow:
        uow.outbox.add(left_over)  # NOTE: as an earlier version published it: not recorded
        uow.commit()
    world.app.deliveries.relay(
        lambda uow, messages: {m.message_id: ["audit-log"] for m in messages}
    )
    world.app.run_until_idle()
    world.app.router.consume(left_over, "audit-log")  # NOTE: delivered again
    with world.app.deps.unit_of_work() as uow:
        entries = uow.audit.entries(limit=10_000)
    assert [
        (e.subject_id, e.data["event_type"], e.actor)
        for e in entries
        if e.action == "RecordPaymentActivity" and e.subject_id == "pmt_1"
    ] == [("pmt_1", "PaymentCompleted", "audit-log")]


@pytest.mark.parametrize("backend", ["memory"])  # SQL: tests/integration/test_cli.py
def test_tampering_with_the_audit_log_is_detected(world: World) -> None:
    chain_audit_log(world.app.deps)
    db = world.app.container.adapters.memory_database()
    db.audit[3] = replace(db.audit[3], actor="someone-else")
    assert verify_audit_log(world.app.deps, batch=2) == (3, 4)  # NOTE: three good, then 4


@pytest.mark.parametrize("backend", ["memory"])  # SQL: tests/integration/test_encryption_at_rest.py
def test_account_numbers_never_leave_in_messages_audit_entries_or_reprs(world: World) -> None:
    world.pay("25.13")
    world.app.run_until_idle()
    db = world.app.container.adapters.memory_database()
    texts = [json.dumps(m.payload) for m in db.outbox.values()]
    texts += [json.dumps(e.data) for e in db.audit]
    texts += [repr(row) for table in db.tables.values() for row in table.rows.values()]
    texts += [
        repr(command)
        for command in (
            c.AddPayee(tenant_id="t", customer_id="c", account_number=ACCOUNT_NUMBER),
            c.AddFundingAccount(
                tenant_id="t",
                customer_id="c",
                routing_number=ROUTING_NUMBER,
                account_number=FUNDING_ACCOUNT_NUMBER,
                account_type="checking",
                holder_name="A",
            ),
        )
    ]
    for secret in (ACCOUNT_NUMBER, FUNDING_ACCOUNT_NUMBER):
        assert not [t for t in texts if secret in t]


def test_a_new_payee_or_account_is_audited_with_its_number_masked(world: World) -> None:
    chain_audit_log(world.app.deps)
    with world.app.deps.unit_of_work() as uow:
        added = {
            e.action: e.data["account_number"]
            for e in uow.audit.entries(limit=1000)
            if e.action in ("AddPayee", "AddFundingAccount")
        }
    assert added == {
        "AddPayee": "****" + ACCOUNT_NUMBER[-4:],
        "AddFundingAccount": "****" + FUNDING_ACCOUNT_NUMBER[-4:],
    }
