"""Workers against a slow or absent processor: the bulkhead and the shared breaker at work.

Real processes on Redis (PostgreSQL underneath): the API, a relay and
worker processes, calling the simulator server over HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.brokers import REDIS_URL
from tests.e2e.deployment import Deployment, deployment
from tests.e2e.server import Server, make_world
from tests.e2e.simulator import Simulator, running_simulator

pytestmark = [pytest.mark.slow, pytest.mark.services]


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[Simulator]:
    with running_simulator(tmp_path) as simulator:
        yield simulator


def settings(simulator: Simulator, **more: str) -> dict[str, str]:
    return {
        "CBP_PROCESSOR": "http",
        "CBP_PROCESSOR_URL": simulator.base_url,
        "CBP_VERIFIER": "http",
        "CBP_VERIFIER_URL": simulator.base_url,
        "CBP_BREAKER_URL": REDIS_URL,
        "CBP_OUTBOUND_RETRY_ATTEMPTS": "1",
        "CBP_PROCESSOR_READ_TIMEOUT_SECONDS": "5",
        **more,
    }


def pay(server: Server, world: dict[str, Any], amount: str) -> str:
    return str(server.pay(world, amount)["id"])


def pay_many(server: Server, world: dict[str, Any], count: int) -> list[str]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda i: pay(server, world, f"{20 + i}.00"), range(count)))


def processor_calls(simulator: Simulator) -> int:
    """How many payment submissions have reached the simulator."""
    calls = simulator.admin("GET", "/_admin/calls")
    return sum(call["path"] == "/v1/payments" for call in calls)


def wait_all(server: Server, ids: list[str], status: str, timeout: float = 180) -> None:
    pending, deadline = set(ids), time.monotonic() + timeout
    while pending:
        assert time.monotonic() < deadline, f"{len(pending)} payments never became {status}"
        pending = {
            p for p in pending if server.call("GET", f"/payment/{p}").body["status"] != status
        }
        time.sleep(0.3)


def processor_breaker(server: Server) -> dict[str, Any] | None:
    breakers = server.call("GET", "/health/status", key=server.operator_key).body["breakers"]
    return next((b for b in breakers if b["name"].startswith("processor@")), None)


def test_notifications_go_while_every_processor_call_hangs(
    tmp_path: Path, simulator: Simulator
) -> None:
    env = settings(
        simulator,
        CBP_BULKHEAD_MAX_CONCURRENT="2",
        CBP_BULKHEAD_MAX_WAITING="0",
        CBP_WORKER_THREADS="4",
        CBP_PROCESSOR_READ_TIMEOUT_SECONDS="120",  # NOTE: no hung call gives up on its own
    )
    with deployment(tmp_path, "redis", env) as running:
        server = running.server
        world = make_world(server)
        failed = pay(server, world, "25.13")
        server.wait_for(f"/payment/{failed}", "status", "failed")
        exception_id = server.call("GET", "/exception").body["items"][0]["id"]
        before = processor_calls(simulator)
        simulator.faults(hang=True)
        try:
            ids = pay_many(server, world, 30)
            deadline = time.monotonic() + 60
            while processor_calls(simulator) < before + 2:  # NOTE: the bulkhead is full
                assert time.monotonic() < deadline, "the workers never called the processor"
                time.sleep(0.1)
            notified = server.call(
                "POST",
                "/exception/send-customer-notification",
                {"exception_id": exception_id, "channels": ["email"]},
            )
            assert notified.status == 202, notified.body
            notification_id = notified.body["notification_ids"][0]
            # NOTE: no time limit is the claim: the gate stays shut until the notice is sent
            server.wait_for(f"/notification/{notification_id}", "status", "sent", timeout=60)
            statuses = {server.call("GET", f"/payment/{p}").body["status"] for p in ids}
            assert "completed" not in statuses, "a processor call returned through the gate"
        finally:
            simulator.admin("POST", "/_admin/release")
        wait_all(server, ids, "completed")


def test_a_breaker_opened_by_one_worker_process_stops_another(
    tmp_path: Path, simulator: Simulator
) -> None:
    env = settings(
        simulator,
        CBP_BREAKER_FAILURE_THRESHOLD="3",
        CBP_BREAKER_RESET_SECONDS="30",  # NOTE: far longer than the checks while it is open
        CBP_WORKER_THREADS="2",
    )
    with deployment(tmp_path, "redis", env) as running:
        server = running.server
        world = make_world(server)
        simulator.faults(outage=True)
        first = pay_many(server, world, 5)
        deadline = time.monotonic() + 30
        while (processor_breaker(server) or {}).get("state") != "open":
            assert time.monotonic() < deadline, "the breaker never opened"
            time.sleep(0.1)
        calls_when_open = len(simulator.admin("GET", "/_admin/calls"))
        start_second_worker(running)
        second = pay_many(server, world, 5)
        time.sleep(3)  # NOTE: the second worker's turn to try, well inside the breaker's 30 s
        assert len(simulator.admin("GET", "/_admin/calls")) == calls_when_open, (
            "a worker process called the processor through an open breaker"
        )
        simulator.faults(outage=False)
        wait_all(server, first + second, "completed", timeout=120)
        assert (processor_breaker(server) or {}).get("state") == "closed"


def start_second_worker(running: Deployment) -> None:
    """Another `cbp worker` process, started after the breaker opened."""
    running.start("worker-b", "worker")
    time.sleep(2)  # NOTE: time to import and connect; its first calls would come now


def test_each_internal_service_runs_and_restarts_on_its_own(
    tmp_path: Path, simulator: Simulator
) -> None:
    with deployment(
        tmp_path, "redis", settings(simulator), services=("payments", "validation")
    ) as running:
        server = running.server
        world = make_world(server)  # NOTE: the validation service verifies the payee
        failed = pay(server, world, "25.13")
        server.wait_for(f"/payment/{failed}", "status", "failed", timeout=60)
        time.sleep(2)
        (exception,) = [
            e for e in server.call("GET", "/exception").body["items"] if e["payment_id"] == failed
        ]
        assert exception["status"] == "open"  # NOTE: no exceptions service runs yet
        running.start("worker-exceptions", "worker", "--service", "exceptions")
        running.start("worker-notifications", "worker", "--service", "notifications")
        server.wait_for(f"/exception/{exception['id']}", "status", "notified", timeout=60)
