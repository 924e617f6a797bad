"""cbp against a processor and verifier over real HTTP: outages, events, traces."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from cbp.domain.webhook_signature import new_secret
from tests.e2e.server import Server, make_world, running_server
from tests.e2e.simulator import Simulator, running_simulator

pytestmark = pytest.mark.slow

SECRET = new_secret()
PAYMENTS = int(os.environ.get("CBP_TEST_OUTAGE_PAYMENTS", "500"))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outside")


@pytest.fixture(scope="module")
def simulator(home: Path) -> Iterator[Simulator]:
    with running_simulator(home) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def server(home: Path, simulator: Simulator) -> Iterator[Server]:
    env = {
        "CBP_PROCESSOR": "http",
        "CBP_PROCESSOR_URL": simulator.base_url,
        "CBP_VERIFIER": "http",
        "CBP_VERIFIER_URL": simulator.base_url,
        "CBP_PROCESSOR_WEBHOOK_SECRETS": SECRET,
        "CBP_PROCESSOR_READ_TIMEOUT_SECONDS": "2",
        # NOTE: time compressed, so an outage outlasts every retry budget in seconds
        "CBP_DELIVERY_MAX_ATTEMPTS": "3",
        "CBP_DELIVERY_RETRY_BASE_SECONDS": "0.2",
        "CBP_DELIVERY_RETRY_MAX_SECONDS": "1",
        "CBP_BREAKER_FAILURE_THRESHOLD": "3",
        "CBP_BREAKER_RESET_SECONDS": "1",
        "CBP_OUTBOUND_RETRY_ATTEMPTS": "2",
        "CBP_OUTBOUND_RETRY_BASE_SECONDS": "0.05",
        "CBP_OUTBOUND_RETRY_MAX_SECONDS": "0.1",
        "CBP_RECONCILE_INTERVAL_SECONDS": "1",
        "CBP_PUMP_INTERVAL_SECONDS": "0.05",
        "CBP_RATE_LIMIT": "1000000",
        "CBP_MICRO_DEPOSIT_EXPIRY_SECONDS": "15",
    }
    api_home = home / "api"
    api_home.mkdir()
    with running_server(api_home, env) as server:
        yield server


@pytest.fixture(scope="module")
def world(server: Server) -> dict[str, Any]:
    return make_world(server)


def test_a_payment_goes_to_the_processor_over_http_in_one_trace(
    server: Server, simulator: Simulator, world: dict[str, Any]
) -> None:
    trace_id = uuid.uuid4().hex
    payment = server.pay(world, "42.00", headers={"traceparent": f"00-{trace_id}-{'b' * 16}-01"})
    server.wait_for(f"/payment/{payment['id']}", "status", "completed")
    calls = simulator.admin("GET", "/_admin/calls")
    submitted = [c for c in calls if c["idempotency_key"] == payment["id"]]
    assert submitted, "the simulator never saw the submission"
    assert all(c["traceparent"].split("-")[1] == trace_id for c in submitted)
    verifications = [c for c in calls if c["path"] == "/v1/account-verifications"]
    assert verifications, "the verifier was asked over HTTP too"


def test_a_processor_outage_longer_than_every_retry_budget_moves_no_payment_to_a_dead_end(
    server: Server, simulator: Simulator, world: dict[str, Any]
) -> None:
    taken_before = simulator.admin("GET", "/_admin/submissions")["accepted"]
    simulator.faults(outage=True)
    try:
        with ThreadPoolExecutor(8) as pool:
            made = pool.map(lambda i: server.pay(world, f"{10 + i}.{i % 10}0"), range(PAYMENTS))
            ids = [payment["id"] for payment in made]
        time.sleep(8)  # NOTE: longer than 3 attempts at <= 1 s back-off, many times over
        statuses = Counter(server.call("GET", f"/payment/{pid}").body["status"] for pid in ids)
        # NOTE: a reset mid-call leaves the outcome unknown: processing, for the reconciler
        assert set(statuses) <= {"scheduled", "processing"}, statuses
        tried = simulator.admin("GET", "/_admin/calls")
        assert any(call["idempotency_key"] in ids for call in tried), "nothing was sent"
        status = server.call("GET", "/health/status", key=server.operator_key).body
        assert any(b["state"] != "closed" for b in status["breakers"]), status["breakers"]
        metrics = server.call("GET", "/metrics", key="").raw.decode()
        assert 'cbp_circuit_breaker_state{breaker="processor@' in metrics
    finally:
        simulator.faults(outage=False)
    deadline = time.monotonic() + 300
    pending = set(ids)
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            if server.call("GET", f"/payment/{pid}").body["status"] == "completed":
                pending.discard(pid)
        time.sleep(0.5)
    assert not pending, f"{len(pending)} payments never completed after the outage"
    books = simulator.admin("GET", "/_admin/submissions")
    assert all(reference in books["attempts"] for reference in ids)
    # NOTE: each payment moved money once: one reference each, taken once however often sent
    assert books["accepted"] - taken_before == PAYMENTS


def signed(
    event_id: str, body: dict[str, Any], *, at: float | None = None
) -> tuple[bytes, dict[str, str]]:
    """A body and its Standard Webhooks headers, signed by the reference library."""
    raw = json.dumps(body).encode()
    stamp = int(at if at is not None else time.time())
    signature = Webhook(SECRET).sign(event_id, datetime.fromtimestamp(stamp, tz=UTC), raw.decode())
    return raw, {
        "webhook-id": event_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature,
    }


def test_inbound_processor_events_are_signed_fresh_and_applied_once(
    server: Server, simulator: Simulator, world: dict[str, Any]
) -> None:
    payment = server.pay(world, "43.00")
    server.wait_for(f"/payment/{payment['id']}", "status", "completed")
    tenant_id = simulator.admin("GET", "/_admin/submissions")["tenants"][payment["id"]]
    event = {
        "type": "payment.returned",
        "data": {
            "reference": payment["id"],
            "tenant_id": tenant_id,
            "return_code": "R01",
            "reason": "insufficient funds",
        },
    }
    raw, headers = signed("evt_1", event)
    bad = dict(headers, **{"webhook-signature": "v1,AAAA"})
    assert server.call("POST", "/processor/events", raw=raw, key="", headers=bad).status == 401
    _, stale = signed("evt_1", event, at=time.time() - 3600)
    assert server.call("POST", "/processor/events", raw=raw, key="", headers=stale).status == 401
    first = server.call("POST", "/processor/events", raw=raw, key="", headers=headers)
    assert (first.status, first.body["duplicate"]) == (200, False), first.body
    again = server.call("POST", "/processor/events", raw=raw, key="", headers=headers)
    assert (again.status, again.body["duplicate"]) == (200, True)
    returned = server.call("GET", f"/payment/{payment['id']}").body
    assert returned["status"] == "returned"
    exceptions = server.call("GET", "/exception?limit=100").body["items"]
    mine = [(e["kind"], e["reason_code"]) for e in exceptions if e["payment_id"] == payment["id"]]
    assert mine == [("returned", "R01")]


def add_payee_in_verification(server: Server, simulator: Simulator, customer_id: str) -> str:
    """A payee whose verification the simulator holds until the test lets it go.

    Every call to the simulator waits behind its gate meanwhile; the payee's
    verification cannot finish before the payment is made, however slow the
    machine.
    """
    simulator.faults(hang=True)
    biller = server.call("GET", "/payee/global-payee/name/pacific%20gas").body["items"][0]
    payee = server.call(
        "POST",
        "/payee",
        {
            "customer_id": customer_id,
            "global_payee_id": biller["id"],
            "account_number": "4417123456",
        },
    )
    assert payee.status == 201, payee.body
    return str(payee.body["id"])


def test_a_payment_to_a_payee_in_verification_is_held_then_released_or_failed(
    server: Server, simulator: Simulator, world: dict[str, Any]
) -> None:
    try:
        payee_id = add_payee_in_verification(server, simulator, world["customer_id"])
        held = server.pay({**world, "payee_id": payee_id}, "31.00")
        assert held["status"] == "held"
        simulator.faults(hang=False)
        server.wait_for(f"/payment/{held['id']}", "status", "scheduled")  # NOTE: for its date
        server.send_now([held["id"]])
        server.wait_for(f"/payment/{held['id']}", "status", "completed")
        history = server.call("GET", f"/payment/{held['id']}/events").body["items"]
        assert [e["type"] for e in history][:3] == [
            "PaymentCreated",
            "PaymentHeld",
            "PaymentReleased",
        ]

        payee_id = add_payee_in_verification(server, simulator, world["customer_id"])
        refused = server.pay({**world, "payee_id": payee_id}, "32.00")
        assert refused["status"] == "held"
        simulator.faults(hang=False, refuse_verifications=True)
        failed = server.wait_for(f"/payment/{refused['id']}", "status", "failed").body
        assert failed["failure_code"] == "payee_verification_failed"
        exceptions = server.call("GET", "/exception").body["items"]
        assert [
            (e["kind"], e["reason_code"]) for e in exceptions if e["payment_id"] == failed["id"]
        ] == [("invalid_account", "payee_verification_failed")]
    finally:
        simulator.faults(hang=False, refuse_verifications=False)


def micro_deposit_account(
    server: Server, simulator: Simulator, customer_id: str
) -> tuple[str, list[str]]:
    """A funding account proven by micro-deposits, and the two amounts the simulator credited."""
    created = server.call(
        "POST",
        "/funding-account",
        {
            "customer_id": customer_id,
            "routing_number": "011000015",
            "account_number": "000123456789",
            "account_type": "checking",
            "holder_name": "Ada",
            "verification": "micro_deposits",
        },
    )
    assert created.status == 201, created.body
    account = created.body
    assert (account["verification_status"], account["verification_method"]) == (
        "pending",
        "micro_deposits",
    )
    assert account["micro_deposits"]["tries_left"] == 3
    deadline = time.monotonic() + 10
    while True:
        credits = simulator.admin("GET", "/_admin/credits")
        amounts = [credits.get(f"{account['id']}.{n}", {}).get("amount") for n in (1, 2)]
        if all(amounts):
            return account["id"], [str(a) for a in amounts]
        assert time.monotonic() < deadline, "the micro-deposits never reached the processor"
        time.sleep(0.1)


def unlike(*amounts: str) -> str:
    """A micro-deposit amount that is none of ``amounts``."""
    return next(f"0.{n:02d}" for n in range(1, 100) if f"0.{n:02d}" not in amounts)


def test_micro_deposits_verify_lock_and_expire_over_http(
    server: Server, simulator: Simulator, world: dict[str, Any]
) -> None:
    customer_id = world["customer_id"]
    # NOTE: made first, so that it ages while the two others are answered
    expired_id, amounts = micro_deposit_account(server, simulator, customer_id)
    pending = server.call("GET", f"/funding-account/{expired_id}").body["micro_deposits"]
    expires_at = datetime.fromisoformat(pending["expires_at"].replace("Z", "+00:00"))
    account_id, (first, second) = micro_deposit_account(server, simulator, customer_id)
    path = f"/funding-account/{account_id}/micro-deposits"
    impossible = server.call("POST", path, {"amounts": [first, "0.00"]})
    assert (impossible.status, impossible.body["code"]) == (422, "validation_failed")
    other = unlike(first, second)
    wrong = server.call("POST", path, {"amounts": [first, other]})
    assert (wrong.status, wrong.body["code"]) == (422, "micro_deposits_not_confirmed")
    assert wrong.body["detail"] == "the amounts do not match; 2 tries left"
    assert first not in wrong.raw.decode()
    right = server.call("POST", path, {"amounts": [second, first]})
    assert right.status == 200, right.body
    assert (right.body["verification_status"], right.body["micro_deposits"]) == ("verified", None)

    locked_id, (first, second) = micro_deposit_account(server, simulator, customer_id)
    path = f"/funding-account/{locked_id}/micro-deposits"
    other = unlike(first, second)
    for _ in range(3):
        assert server.call("POST", path, {"amounts": [first, other]}).status == 422
    assert server.call("GET", f"/funding-account/{locked_id}").body["verification_status"] == (
        "failed"
    )
    assert server.call("POST", path, {"amounts": [first, other]}).status == 409

    time.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()))
    # NOTE: nobody answered: the periodic expiry fails the account on its own
    server.wait_for(f"/funding-account/{expired_id}", "verification_status", "failed")
    late = server.call(
        "POST", f"/funding-account/{expired_id}/micro-deposits", {"amounts": amounts}
    )
    assert (late.status, late.body["detail"]) == (
        422,
        "the micro-deposits expired: the account failed verification; add it again",
    )
    bad = server.call("POST", f"/funding-account/{expired_id}/micro-deposits", {"amounts": ["1"]})
    assert bad.status == 422, bad.body
