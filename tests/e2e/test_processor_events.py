"""The simulator server pushing outcomes to cbp as signed events: no polling needed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cbp.domain.webhook_signature import new_secret
from tests.e2e.server import Server, free_port, make_world, running_server
from tests.e2e.simulator import running_simulator

pytestmark = pytest.mark.slow

SECRET = new_secret()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("events")
    port = free_port()
    with running_simulator(
        home,
        None,
        "--settle-after",
        "1",
        "--events-url",
        f"http://127.0.0.1:{port}/processor/events",
        env={"CBP_SIMULATOR_EVENTS_SECRET": SECRET},
    ) as simulator:
        env = {
            "CBP_PROCESSOR": "http",
            "CBP_PROCESSOR_URL": simulator.base_url,
            "CBP_PROCESSOR_WEBHOOK_SECRETS": SECRET,
            # NOTE: no reconciler pass during the test: only the events can settle a payment
            "CBP_RECONCILE_INTERVAL_SECONDS": "3600",
            "CBP_PUMP_INTERVAL_SECONDS": "0.05",
        }
        api_home = home / "api"
        api_home.mkdir()
        with running_server(api_home, env, port=port) as server:
            yield server


def pay(server: Server, world: dict[str, Any], amount: str) -> str:
    return str(server.pay(world, amount)["id"])


def test_settlements_failures_and_returns_arrive_as_events(server: Server) -> None:
    world = make_world(server)
    settled, failed, returned = (
        pay(server, world, "31.00"),
        pay(server, world, "31.13"),
        pay(server, world, "31.14"),
    )
    server.wait_for(f"/payment/{failed}", "status", "failed")  # NOTE: the answer to the submit
    server.wait_for(f"/payment/{settled}", "status", "completed", timeout=30)
    server.wait_for(f"/payment/{returned}", "status", "returned", timeout=30)
    events = [e["type"] for e in server.call("GET", f"/payment/{returned}/events").body["items"]]
    assert events[-2:] == ["PaymentCompleted", "PaymentReturned"], events
