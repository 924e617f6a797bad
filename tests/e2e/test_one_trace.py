"""A payment's trace and correlation reach every message it causes, on every storage.

A payment made over HTTP with a ``traceparent`` fails at the processor (over
HTTP, `cbp simulator serve`); its status change the customer opted to hear
of, the exception's handling, the customer's notices by email and webhook,
and the processor call all carry the request's trace id and correlation
id, and the workers' log lines for them say so. The same on the in-memory
store, SQLite and PostgreSQL. (The exception's own event has no delivery:
the audit log records it as it is published.)
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import Server, log_records, make_world, server_on
from tests.e2e.simulator import Simulator, running_simulator
from tests.e2e.webhook_receiver import Receiver

pytestmark = pytest.mark.slow

STORAGES = ["memory", "sqlite", pytest.param("postgresql+redis", marks=pytest.mark.services)]
#: What a failed payment causes, each a message delivered by a worker.
CAUSED = {
    "payment.process",
    "payment.status.changed",
    "exception.handle",
    "notification.deliver",
}


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    with running_simulator(tmp_path_factory.mktemp("trace-simulator")) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture(params=STORAGES)
def server(
    request: pytest.FixtureRequest, tmp_path: Path, simulator: Simulator, receiver: Receiver
) -> Iterator[Server]:
    env = {
        "CBP_PROCESSOR": "http",
        "CBP_PROCESSOR_URL": simulator.base_url,
        "CBP_WEBHOOK_ALLOWED_NETWORKS": f"{receiver.address}/32",
        "CBP_PUMP_INTERVAL_SECONDS": "0.05",
    }
    database = request.param
    if database == "memory":
        memory = {"CBP_DATABASE_URL": "memory://", "CBP_DEMO_SEED": "true"}
        database, env = "sqlite", env | memory
    with server_on(database, tmp_path, env) as running:
        yield running


def test_every_message_a_payment_causes_carries_its_trace_and_correlation(
    server: Server, simulator: Simulator, receiver: Receiver
) -> None:
    trace_id, correlation_id = uuid.uuid4().hex, f"corr-{uuid.uuid4().hex[:12]}"
    world = make_world(server, f"trace-{correlation_id}")
    assert server.call("POST", "/webhook-endpoint", {"url": receiver.url}).status == 201
    chosen = {"notification_channels": ["email", "webhook"], "notify_on": ["failed"]}
    assert server.call("PATCH", f"/customer/{world['customer_id']}", chosen).status == 200
    headers = {"traceparent": f"00-{trace_id}-{'c' * 16}-01", "X-Request-ID": correlation_id}

    payment = server.pay(world, "42.13", headers=headers)  # NOTE: .13 fails at the processor
    server.wait_for(f"/payment/{payment['id']}", "status", "failed")

    calls = [
        c for c in simulator.admin("GET", "/_admin/calls") if c["idempotency_key"] == payment["id"]
    ]
    assert calls and all(call["traceparent"].split("-")[1] == trace_id for call in calls)
    deadline = time.monotonic() + 30
    while True:
        delivered = [
            record
            for record in log_records(server.home)
            if record.get("event") == "delivered" and record.get("correlation_id") == correlation_id
        ]
        types = {record["message_type"] for record in delivered}
        webhooks = [h for h, _ in receiver.received if h.get("webhook-id")]
        if (types >= CAUSED and webhooks) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert types >= CAUSED, types
    assert {record["trace_id"] for record in delivered} == {trace_id}
    notified = server.call("GET", "/exception?limit=100").body["items"]
    (exception,) = [e for e in notified if e["payment_id"] == payment["id"]]
    assert any(exception["id"] in body.decode() for _, body in receiver.received), (
        "the webhook of the payment's exception never arrived"
    )
