"""Held, recurring and notified payments on RabbitMQ, one worker process per internal service."""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.deployment import Deployment, deployment
from tests.e2e.server import make_world

pytestmark = [pytest.mark.slow, pytest.mark.services]

#: Every service but validation: payees stay pending until its worker starts.
WITHOUT_VALIDATION = ("payments", "notifications", "exceptions", "audit")
#: Every internal service, a worker process each.
SERVICES = (*WITHOUT_VALIDATION, "validation")


def created(running: Deployment, path: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = running.server.call("POST", path, body, headers=headers or None)
    assert response.status == 201, response.body
    return dict(response.body)


def holds(value: Any, wanted: Any) -> bool:
    """Whether ``value`` is ``wanted``, or holds its every key with such a value."""
    if isinstance(wanted, dict):
        return isinstance(value, dict) and all(holds(value.get(k), v) for k, v in wanted.items())
    return bool(value == wanted)


def wait_for_log(
    running: Deployment, process: str, match: dict[str, Any], timeout: float = 60
) -> dict[str, Any]:
    """The first record ``process`` logged that holds ``match``, waiting for it."""
    deadline = time.monotonic() + timeout
    while True:
        for record in running.log_records(process):
            if holds(record, match):
                return record
        assert time.monotonic() < deadline, f"{process} never logged {match}"
        time.sleep(0.2)


def released_from_hold(running: Deployment, payment_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (body := running.server.call("GET", f"/payment/{payment_id}").body)["status"] == "held":
        assert time.monotonic() < deadline, f"{payment_id} was never released"
        time.sleep(0.2)
    return dict(body)


def test_a_held_payment_is_released_by_the_validation_worker_and_the_customer_is_told(
    tmp_path: Path,
) -> None:
    with deployment(tmp_path, "rabbitmq", services=WITHOUT_VALIDATION) as running:
        server = running.server
        customer = created(
            running,
            "/customer",
            {"external_id": "ada-q", "name": "Ada", "email": "ada@example.com"},
        )
        opted = server.call(
            "PATCH", f"/customer/{customer['id']}", {"notify_on": ["scheduled", "completed"]}
        )
        assert opted.status == 200, opted.body
        biller = server.call("GET", "/payee/global-payee/name/pacific%20gas").body["items"][0]
        payee = created(
            running,
            "/payee",
            {
                "customer_id": customer["id"],
                "global_payee_id": biller["id"],
                "account_number": "4417123456",
            },
        )
        funding = created(
            running,
            "/funding-account",
            {
                "customer_id": customer["id"],
                "routing_number": "011000015",
                "account_number": "000123456789",
                "account_type": "checking",
                "holder_name": "Ada",
            },
        )
        world = {
            "customer_id": customer["id"],
            "payee_id": payee["id"],
            "funding_account_id": funding["id"],
        }
        held = created(
            running,
            "/payment/one-time",
            {**world, "amount": "61.00"},
            **{"Idempotency-Key": uuid.uuid4().hex},
        )
        assert held["status"] == "held"
        schedule = created(
            running,
            "/payment/recurring",
            {**world, "amount": "62.00", "frequency": "monthly", "starts_on": held["send_on"]},
            **{"Idempotency-Key": uuid.uuid4().hex},
        )
        first = server.call("GET", f"/payment/{schedule['last_payment_id']}").body
        assert first["status"] == "held"  # NOTE: its payee is still being verified too
        time.sleep(2)
        assert server.call("GET", f"/payment/{held['id']}").body["status"] == "held"

        running.start("worker-validation", "worker", "--service", "validation")
        for payment_id in (held["id"], first["id"]):
            released = released_from_hold(running, payment_id)
            if released["status"] == "scheduled":  # NOTE: after the cut-off: tomorrow's
                job = server.call(
                    "POST", "/payment/process", {"due_on": released["send_on"], "send_now": True}
                )
                assert job.status == 202, job.body
            server.wait_for(f"/payment/{payment_id}", "status", "completed", timeout=60)
        for payment_id in (held["id"], first["id"]):
            versions = [
                wait_for_log(
                    running,
                    "worker-notifications",
                    {
                        "template": "payment_status",
                        "payload": {"payment_id": payment_id, "status": status},
                    },
                )["payload"]["version"]
                for status in ("scheduled", "completed")
            ]
            assert versions[0] < versions[1], versions  # NOTE: the later news, the larger
        history = server.call("GET", f"/payment/{held['id']}/events").body["items"]
        assert [e["type"] for e in history][:3] == [
            "PaymentCreated",
            "PaymentHeld",
            "PaymentReleased",
        ]


def test_a_biller_s_new_format_suspends_its_payee_until_the_customer_gives_a_number_that_fits(
    tmp_path: Path,
) -> None:
    with deployment(tmp_path, "rabbitmq", services=SERVICES) as running:
        server = running.server
        biller = server.call(
            "POST",
            "/payee/global-payee",
            {
                "name": "Lakeside Water",
                "category": "utilities",
                "address": {
                    "line1": "1 Lake Rd",
                    "city": "Springfield",
                    "state": "IL",
                    "postal_code": "62701",
                },
                "account_masks": ["9999999999"],
            },
            key=server.operator_key,
        )
        assert biller.status == 201, biller.body
        customer = created(
            running, "/customer", {"external_id": "bo-s", "name": "Bo", "email": "bo@example.com"}
        )
        payee = created(
            running,
            "/payee",
            {
                "customer_id": customer["id"],
                "global_payee_id": biller.body["id"],
                "account_number": "4417123456",
            },
        )
        funding = created(
            running,
            "/funding-account",
            {
                "customer_id": customer["id"],
                "routing_number": "011000015",
                "account_number": "000123456789",
                "account_type": "checking",
                "holder_name": "Bo",
            },
        )
        server.wait_for(f"/payee/{payee['id']}", "verification_status", "verified", timeout=60)
        quote = server.call("GET", f"/payment/quote?payee_id={payee['id']}").body
        later = date.fromisoformat(quote["send_on"]) + timedelta(days=21)  # NOTE: moved off
        payment = created(  # a weekend or holiday by the API, as the customer's would be
            running,
            "/payment/one-time",
            {
                "customer_id": customer["id"],
                "payee_id": payee["id"],
                "funding_account_id": funding["id"],
                "amount": "33.00",
                "send_on": later.isoformat(),
            },
            **{"Idempotency-Key": uuid.uuid4().hex},
        )
        assert payment["status"] == "scheduled"

        changed = server.call(
            "PATCH",
            f"/payee/global-payee/{biller.body['id']}",
            {"account_masks": ["SP99999999"]},
            key=server.operator_key,
        )
        assert changed.status == 200, changed.body
        server.wait_for(f"/payee/{payee['id']}", "status", "suspended", timeout=60)
        server.wait_for(f"/payment/{payment['id']}", "status", "held", timeout=60)
        wait_for_log(
            running,
            "worker-notifications",
            {
                "template": "payee_needs_update",
                "payload": {"payee_id": payee["id"], "biller": "Lakeside Water"},
            },
        )

        mended = server.call("PATCH", f"/payee/{payee['id']}", {"account_number": "SP12345678"})
        assert mended.status == 200, mended.body
        server.wait_for(f"/payee/{payee['id']}", "verification_status", "verified", timeout=60)
        assert released_from_hold(running, payment["id"])["status"] == "scheduled"


def test_a_bill_is_paid_by_autopay_from_its_arrival_to_its_payment_s_completion(
    tmp_path: Path,
) -> None:
    with deployment(tmp_path, "rabbitmq", services=(*SERVICES, "bills")) as running:
        server = running.server
        world = make_world(server, "cy-b")
        opted = server.call(
            "PATCH", f"/customer/{world['customer_id']}", {"notify_on": ["bill_presented"]}
        )
        assert opted.status == 200, opted.body
        payee_id = world["payee_id"]
        rule = server.call(
            "POST",
            f"/payee/{payee_id}/autopay",
            {
                "funding_account_id": world["funding_account_id"],
                "basis": "statement_balance",
                "cap": "500.00",
            },
        )
        assert rule.status == 200, rule.body
        # NOTE: due the day a payment sent on the earliest send-on date arrives
        quote = server.call("GET", f"/payment/quote?payee_id={payee_id}").body
        due_on = date.fromisoformat(quote["deliver_by"])
        bill = created(
            running,
            "/bill",
            {
                "customer_id": world["customer_id"],
                "payee_id": payee_id,
                "amount_due": "142.50",
                "minimum_due": "35.00",
                "statement_balance": "142.50",
                "due_on": due_on.isoformat(),
                "statement_on": (due_on - timedelta(days=20)).isoformat(),
                "reference": "STMT-2026-11",
            },
            **{"Idempotency-Key": uuid.uuid4().hex},
        )
        assert bill["status"] == "open"
        scheduled = server.wait_for(f"/bill/{bill['id']}", "status", "scheduled", timeout=60)
        [payment] = scheduled.body["payments"]
        assert (payment["amount"], payment["by_autopay"]) == ("142.50", True)
        made = server.call("GET", f"/payment/{payment['payment_id']}").body
        assert (made["bill_id"], made["send_on"], made["deliver_by"]) == (
            bill["id"],
            quote["send_on"],
            due_on.isoformat(),
        )
        if made["status"] == "scheduled":  # NOTE: after the cut-off: tomorrow's
            job = server.call(
                "POST", "/payment/process", {"due_on": made["send_on"], "send_now": True}
            )
            assert job.status == 202, job.body
        server.wait_for(f"/payment/{payment['payment_id']}", "status", "completed", timeout=60)
        paid = server.wait_for(f"/bill/{bill['id']}", "status", "paid", timeout=60).body
        assert (paid["amount_paid"], paid["payments"][0]["state"]) == ("142.50", "settled")
        wait_for_log(running, "worker-notifications", {"template": "bill_presented"})
        told = [
            r["payload"]
            for r in running.log_records("worker-notifications")
            if r.get("template") == "bill_presented"
        ]
        assert [(p["bill_id"], p["amount_due"]) for p in told] == [(bill["id"], "142.50")]
        history = server.call("GET", f"/bill/{bill['id']}/events").body["items"]
        assert [e["type"] for e in history] == [
            "BillPresented",
            "BillPaymentScheduled",
            "BillPaymentSettled",
        ]
