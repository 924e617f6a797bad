"""Tenant webhooks end to end: a real server posting to a real receiver, over the API and CLI."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from tests.e2e.server import Server, make_world, running_server
from tests.e2e.webhook_receiver import Receiver


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[Server]:
    env = {
        "CBP_WEBHOOK_ALLOWED_NETWORKS": f"{receiver.address}/32",
        "CBP_WEBHOOK_RETRY_SCHEDULE": "[0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]",
        "CBP_WEBHOOK_PAUSE_AFTER_SECONDS": "1.5",
        "CBP_PUMP_INTERVAL_SECONDS": "0.05",
    }
    with running_server(tmp_path_factory.mktemp("webhooks"), env) as server:
        yield server


@pytest.fixture(scope="module")
def exception_id(server: Server) -> str:
    payment = server.pay(make_world(server), "25.13")
    server.wait_for(f"/payment/{payment['id']}", "status", "failed")
    items = server.call("GET", "/exception?limit=100").body["items"]
    return str(next(e["id"] for e in items if e["payment_id"] == payment["id"]))


def notify(server: Server, exception_id: str) -> str:
    response = server.call(
        "POST",
        "/exception/send-customer-notification",
        {"exception_id": exception_id, "channels": ["webhook"]},
    )
    assert response.status == 202, response.body
    return str(response.body["notification_ids"][0])


def verified(secret: str, delivered: tuple[dict[str, str], bytes]) -> dict[str, Any]:
    headers, body = delivered
    return dict(Webhook(secret).verify(body, headers))


def test_register_receive_rotate_pause_resume_and_replay(
    server: Server, receiver: Receiver, exception_id: str
) -> None:
    assert server.call("GET", "/webhook-endpoint").status == 404
    registered = server.call("POST", "/webhook-endpoint", {"url": receiver.url})
    assert registered.status == 201, registered.body
    secret = registered.body["secret"]
    assert (registered.body["status"], registered.body["signing_secrets"]) == ("active", 1)
    assert server.call("GET", "/webhook-endpoint").body["secret"] is None
    again = server.call("POST", "/webhook-endpoint", {"url": receiver.url})
    assert again.status == 409

    first = notify(server, exception_id)
    payload = verified(secret, receiver.wait_for(first))
    assert (payload["id"], payload["type"]) == (first, "notification.payment_exception")

    rotated = server.call("POST", "/webhook-endpoint/rotate-secret")
    assert (rotated.status, rotated.body["signing_secrets"]) == (200, 2), rotated.body
    new_secret = rotated.body["secret"]
    second = receiver.wait_for(notify(server, exception_id))
    verified(secret, second)  # NOTE: receivers on either secret accept it during the overlap
    verified(new_secret, second)

    receiver.failing = True
    held = [notify(server, exception_id) for _ in range(3)]
    deadline = time.monotonic() + 20
    while server.call("GET", "/webhook-endpoint").body["status"] != "paused":
        assert time.monotonic() < deadline, "the failing endpoint was never paused"
        time.sleep(0.1)
    for notification_id in held:
        # NOTE: a paused endpoint ends the retries; once each is dead, no stale retry
        # can race the replay that resuming starts and send one of them twice
        server.wait_for(f"/notification/{notification_id}", "status", "dead")
    receiver.failing = False
    before = len(receiver.received)
    resumed = server.call("POST", "/webhook-endpoint/resume")
    assert resumed.status == 202 and resumed.body["replayed"] == 3, resumed.body
    for notification_id in held:
        verified(new_secret, receiver.wait_for(notification_id))
        server.wait_for(f"/notification/{notification_id}", "status", "sent")
    assert receiver.ids()[before:] == held  # NOTE: what it missed, in order

    before = len(receiver.received)
    since = datetime(2000, 1, 1, tzinfo=UTC).isoformat()
    replay = server.call("POST", "/webhook-endpoint/replay", {"since": since})
    assert replay.status == 202 and replay.body["replayed"] == 5, replay.body
    deadline = time.monotonic() + 20
    while len(receiver.received) < before + 5:
        assert time.monotonic() < deadline, "the replay never arrived"
        time.sleep(0.05)
    second_id = json.loads(second[1])["id"]
    assert receiver.ids()[before:] == [first, second_id, *held]


def test_bad_input_and_scopes_are_refused_with_problems(server: Server) -> None:
    naive = server.call("POST", "/webhook-endpoint/replay", {"since": "2026-01-01T00:00:00"})
    assert naive.status == 422 and "time zone" in naive.body["detail"]
    for bad in ({"url": "ftp://example.com"}, {"url": "https://a b/"}, {}, {"url": 5}):
        response = server.call("PATCH", "/webhook-endpoint", bad)
        assert response.status in (400, 422), (bad, response.body)
        assert response.headers["content-type"] == "application/problem+json"
    listing = server.cli_run("tenant", "list").stdout.splitlines()
    assert listing[-1].endswith("tenants")
    demo_tenant = listing[0].split("\t")[0]
    limited = server.cli("api-key", "create", "--tenant", demo_tenant, "--scope", "payments:read")
    assert server.call("GET", "/webhook-endpoint", key=limited).status == 403


def test_the_cli_registers_rotates_and_removes_an_endpoint(
    server: Server, receiver: Receiver
) -> None:
    tenant_id = server.cli("tenant", "create", "CLI Bank", "--contact-email", "ops@cli.test")
    secret = server.cli("webhook", "register", "--tenant", tenant_id, "--url", receiver.url)
    assert secret.startswith("whsec_")
    rotated = server.cli("webhook", "rotate", "--tenant", tenant_id)
    assert rotated.startswith("whsec_") and rotated != secret
    shown = server.cli_run("webhook", "show", "--tenant", tenant_id).stdout
    assert "active" in shown and receiver.url in shown and secret not in shown
    server.cli("webhook", "remove", "--tenant", tenant_id)
    gone = server.cli_run("webhook", "show", "--tenant", tenant_id, check=False)
    assert gone.returncode == 2 and "webhook endpoint" in gone.stderr


def test_nothing_is_sent_where_it_must_not_go(tmp_path: Path) -> None:
    with running_server(tmp_path) as strict:
        refused = strict.call("POST", "/webhook-endpoint", {"url": "http://127.0.0.1:9/x"})
        assert refused.status == 422 and "internal address" in refused.body["detail"]
        metadata = strict.call("POST", "/webhook-endpoint", {"url": "http://169.254.169.254/"})
        assert metadata.status == 422
