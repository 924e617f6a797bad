"""The name server and the mail server go away for longer than every retry budget.

Real processes: `cbp serve` (API, relay and worker) finds the processor and
the verifier (`cbp simulator serve`) through DNS SRV, and sends email to a
real SMTP server. Each outside goes away and comes back; nothing is
dead-lettered, nothing is lost, and everything completes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.dns_server import SrvServer
from tests.e2e.server import Server, free_port, make_world, running_server
from tests.e2e.simulator import Simulator, running_simulator

pytestmark = pytest.mark.slow

#: Time compressed: an outage of seconds outlasts every retry budget many times over.
COMPRESSED = {
    "CBP_DELIVERY_MAX_ATTEMPTS": "3",
    "CBP_DELIVERY_RETRY_BASE_SECONDS": "0.2",
    "CBP_DELIVERY_RETRY_MAX_SECONDS": "1",
    "CBP_BREAKER_FAILURE_THRESHOLD": "2",
    "CBP_BREAKER_RESET_SECONDS": "1",
    "CBP_OUTBOUND_RETRY_ATTEMPTS": "2",
    "CBP_OUTBOUND_RETRY_BASE_SECONDS": "0.05",
    "CBP_OUTBOUND_RETRY_MAX_SECONDS": "0.1",
    "CBP_PUMP_INTERVAL_SECONDS": "0.05",
    "CBP_RATE_LIMIT": "1000000",
}
#: Longer than three attempts at one second's back-off, several times over.
OUTAGE_SECONDS = 12


def dead_letters(server: Server) -> list[dict[str, Any]]:
    response = server.call("GET", "/dead-letter?limit=100", key=server.operator_key)
    assert response.status == 200, response.body
    return list(response.body["items"])


def complete_all(server: Server, world: dict[str, Any], count: int, cents: int) -> list[str]:
    """Make ``count`` payments that settle, send them now, and wait for each to complete."""
    ids = [server.pay(world, f"{20 + i}.{cents:02d}")["id"] for i in range(count)]
    for payment_id in ids:
        server.wait_for(f"/payment/{payment_id}", "status", "completed", timeout=60)
    return ids


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outages")


@pytest.fixture(scope="module")
def simulator(home: Path) -> Iterator[Simulator]:
    with running_simulator(home) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def name_server(simulator: Simulator) -> Iterator[SrvServer]:
    port = int(simulator.base_url.rsplit(":", 1)[1])
    server = SrvServer([port], ttl=1).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def found_by_srv(home: Path, name_server: SrvServer) -> Iterator[Server]:
    env = COMPRESSED | {
        "CBP_PROCESSOR": "http",
        "CBP_PROCESSOR_URL": "srv://_processor._tcp.cbp.test",
        "CBP_VERIFIER": "http",
        "CBP_VERIFIER_URL": "srv://_verifier._tcp.cbp.test",
        "CBP_DNS_NAMESERVER": name_server.address,
    }
    (home / "dns").mkdir()
    with running_server(home / "dns", env) as server:
        yield server


def test_work_goes_on_from_the_last_answer_when_the_name_server_goes_away(
    found_by_srv: Server, name_server: SrvServer, simulator: Simulator
) -> None:
    server = found_by_srv
    world = make_world(server, "dns-before")
    ids = complete_all(server, world, 3, cents=0)
    assert name_server.queries > 0, "the processor was not found through SRV"
    name_server.stop()
    name_server.queries = 0
    try:
        time.sleep(2)  # NOTE: past the answer's one-second TTL
        during = make_world(server, "dns-during")  # NOTE: the verifier, found by SRV
        ids += complete_all(server, during, 5, cents=10)
        time.sleep(OUTAGE_SECONDS)
        ids += complete_all(server, during, 5, cents=20)
    finally:
        name_server.start()
    deadline = time.monotonic() + 30
    while True:  # NOTE: asked again once the last answer's grace has passed
        ids += complete_all(server, world, 1, cents=30)
        if name_server.queries:
            break
        assert time.monotonic() < deadline, "the name server was not asked again once back"
    calls = simulator.admin("GET", "/_admin/calls")
    assert set(ids) <= {call["idempotency_key"] for call in calls}
    assert dead_letters(server) == []


class Mailbox:
    """A real SMTP server on a fixed port that can go away and come back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[list[str], str]] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        subject = message_from_bytes(envelope.content)["Subject"] or ""
        self.received.append((list(envelope.rcpt_tos), subject))
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> int:
        return sum(address in recipients for recipients, _ in self.received)


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    mailbox = Mailbox()
    mailbox.start()
    yield mailbox
    mailbox.stop()


@pytest.fixture(scope="module")
def mailing(home: Path, mailbox: Mailbox) -> Iterator[Server]:
    env = COMPRESSED | {
        "CBP_NOTIFIER": "providers",
        "CBP_SMTP_HOST": "127.0.0.1",
        "CBP_SMTP_PORT": str(mailbox.port),
        "CBP_SMTP_TIMEOUT_SECONDS": "1",
        "CBP_MAX_NOTIFICATION_ATTEMPTS": "2",
    }
    (home / "smtp").mkdir()
    with running_server(home / "smtp", env) as server:
        yield server


def test_every_email_arrives_once_the_mail_server_is_back(
    mailing: Server, mailbox: Mailbox
) -> None:
    server = mailing
    world = make_world(server, "smtp-1")
    failed = server.pay(world, "42.13")  # NOTE: refused for want of funds: the customer is told
    server.wait_for(f"/payment/{failed['id']}", "status", "failed", timeout=60)
    deadline = time.monotonic() + 60
    while not mailbox.to("ada@example.com"):
        assert time.monotonic() < deadline, "the first email never arrived"
        time.sleep(0.1)
    before = len(mailbox.received)
    mailbox.stop()
    try:
        during = [server.pay(world, f"4{i}.13") for i in range(3)]
        for payment in during:
            server.wait_for(f"/payment/{payment['id']}", "status", "failed", timeout=60)
        time.sleep(OUTAGE_SECONDS)
        assert len(mailbox.received) == before
    finally:
        mailbox.start()
    made = {payment["id"] for payment in during}
    exceptions = server.call("GET", "/exception?limit=100").body["items"]
    opened = [e for e in exceptions if e["payment_id"] in made]
    assert len(opened) == 3, exceptions
    for exception in opened:
        server.wait_for(f"/exception/{exception['id']}", "status", "notified", timeout=90)
    assert len(mailbox.received) >= before + 3
    assert dead_letters(server) == []
