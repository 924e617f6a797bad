"""Outbound clients over real sockets: SMTP, signed webhooks, DNS SRV discovery, bulkheads."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from aiosmtpd.controller import Controller
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook

from cbp.adapters.dns.discovery import ServiceDiscovery
from cbp.adapters.http_clients import webhooks
from cbp.adapters.http_clients.client import HttpClientSettings, build_client
from cbp.adapters.http_clients.networks import allowed_networks
from cbp.adapters.http_clients.processor import HttpPaymentProcessor
from cbp.adapters.http_clients.sms import HttpSmsNotifier
from cbp.adapters.http_clients.webhooks import (
    HttpWebhookSender,
    UnsafeWebhookUrl,
    check_webhook_url,
)
from cbp.adapters.memory.breakers import InMemoryBreakerStore
from cbp.adapters.resilience.breaker import BreakerSettings
from cbp.adapters.resilience.bulkhead import Bulkhead
from cbp.adapters.resilience.outbound import ResilientDependency, RetrySettings
from cbp.adapters.smtp.notifier import SmtpEmailNotifier, SmtpSettings
from cbp.domain.customer import Channel
from cbp.domain.directory import Address
from cbp.domain.errors import InvalidInput
from cbp.domain.money import Money
from cbp.domain.notification import Notification
from cbp.domain.webhook_endpoint import SigningSecret, WebhookEndpoint
from cbp.domain.webhook_signature import new_secret
from cbp.ports.errors import DependencyDeferred, DependencyError, PaymentRefused
from cbp.ports.processor import ProcessorStatus, Submission
from cbp.settings import Settings
from tests.dns_server import SrvServer
from tests.e2e.server import free_port
from tests.network import outward_address


def policy(
    name: str,
    instances: Any,
    *,
    concurrency: int = 16,
    waiting: int = 0,
    reset_after: float = 60.0,
) -> ResilientDependency:
    endpoints = instances if callable(instances) else (lambda: instances)
    return ResilientDependency(
        name,
        endpoints=endpoints,
        store=InMemoryBreakerStore(),
        breaker=BreakerSettings(failure_threshold=1, reset_after_seconds=reset_after),
        bulkhead=Bulkhead(
            name, max_concurrent=concurrency, max_waiting=waiting, wait_timeout_seconds=0.1
        ),
        retry=RetrySettings(attempts=3, base_seconds=0.01, max_seconds=0.02),
    )


def notification(channel: Channel, recipient: str | None) -> Notification:
    return Notification(
        id="ntf_01",
        tenant_id="ten_1",
        customer_id="cus_1",
        channel=channel,
        recipient=recipient,
        template="payment_exception",
        payload={"payment_id": "pmt_9", "kind": "nsf", "reason_code": "nsf", "exception_id": "e"},
        created_at=datetime.now(UTC),
    )


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 OK"


def test_an_email_arrives_at_the_smtp_server_with_its_recipient_and_template() -> None:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        notifier = SmtpEmailNotifier(
            SmtpSettings(host="127.0.0.1", port=port, sender="bills@bank.example"),
            policy("email", ["email"]),
        )
        notifier.send(notification(Channel.EMAIL, "ada@example.com"))
    finally:
        controller.stop()
    (envelope,) = recorder.messages
    assert envelope.rcpt_tos == ["ada@example.com"]
    text = envelope.content.decode()
    assert "Subject: A payment needs your attention" in text
    assert "pmt_9" in text and "nsf" in text


def test_a_text_message_says_what_its_notice_is_about() -> None:
    received: list[dict[str, Any]] = []

    class Provider(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    completed = notification(Channel.SMS, "+14155550100")
    completed.template, completed.payload = (
        "payment_status",
        {
            "payment_id": "pmt_9",
            "status": "completed",
        },
    )
    try:
        with httpx.Client() as client:
            base = f"http://127.0.0.1:{httpd.server_address[1]}"
            HttpSmsNotifier(client, policy("sms", [base])).send(completed)
    finally:
        httpd.shutdown()
    assert received == [
        {"to": "+14155550100", "body": "Your payment pmt_9 has completed.", "reference": "ntf_01"}
    ]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost:8080/hook",
        "http://[::1]/hook",
        "ftp://example.com/hook",
        "http://100.100.100.200/latest/meta-data/",  # NOTE: a cloud's metadata, in shared space
        "http://100.64.0.1/",
        "http://[2002:a9fe:a9fe::1]/",  # NOTE: 6to4 of 169.254.169.254
        "http://[::ffff:10.0.0.1]/",
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # NOTE: Teredo
        "http://1.1.1.1:0/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
    ],
)
def test_webhook_urls_to_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(UnsafeWebhookUrl):
        check_webhook_url(url)
    with httpx.Client() as client, pytest.raises(InvalidInput):
        HttpWebhookSender(client, policy("webhook", ["webhook"])).vet(url)


@pytest.mark.parametrize(
    "networks", ["127.0.0.0/8", "127.0.0.1/32", "169.254.0.0/16", "0.0.0.0/0", "::/0", "fe80::/64"]
)
def test_no_allowed_network_opens_loopback_or_link_local(networks: str) -> None:
    with pytest.raises(ValueError, match="can never reach"):
        allowed_networks(networks)
    with pytest.raises(ValidationError, match="can never reach"):
        Settings(webhook_allowed_networks=networks)


def test_an_allowed_network_opens_itself_and_nothing_else() -> None:
    allowed = allowed_networks("10.20.0.0/16, fd00:20::/32")
    for url in ("http://10.20.3.4/hook", "http://[fd00:20::5]/hook", "http://[::ffff:10.20.0.9]/"):
        check_webhook_url(url, allowed=allowed)
    for url in (
        "http://10.21.0.1/",
        "http://127.0.0.1/",
        "http://169.254.169.254/",
        "http://[::1]/",
    ):
        with pytest.raises(UnsafeWebhookUrl):
            check_webhook_url(url, allowed=allowed)
    with pytest.raises(ValueError, match="not a network"):
        allowed_networks("10.20.0.0/33")


def test_a_public_address_passes_and_a_name_that_never_resolves_is_refused_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert check_webhook_url("http://1.1.1.1/hook") == ("http://1.1.1.1/hook", "1.1.1.1")
    stuck = threading.Event()
    monkeypatch.setattr(webhooks, "LOOKUP_SECONDS", 0.2)
    monkeypatch.setattr(webhooks.socket, "getaddrinfo", lambda *a, **k: stuck.wait(30))
    try:
        with pytest.raises(UnsafeWebhookUrl, match="did not resolve in time"):
            check_webhook_url("http://slow.example/hook")
    finally:
        stuck.set()


def test_a_signed_webhook_verifies_with_the_reference_library_on_either_secret() -> None:
    old, secret = new_secret(), new_secret()
    received: list[tuple[dict[str, str], bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    address = outward_address()
    httpd = ThreadingHTTPServer((address, 0), Receiver)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://{address}:{httpd.server_address[1]}/hook"
        now = datetime.now(UTC)
        endpoint = WebhookEndpoint(
            id="whe_1",
            tenant_id="ten_1",
            url=url,
            secrets=(SigningSecret(value=old),),
            created_at=now,
        )
        endpoint.rotate_secret(secret, at=now, overlap=timedelta(hours=1))
        with httpx.Client() as client:
            allowed = allowed_networks(f"{address}/32")
            sender = HttpWebhookSender(
                client, policy("webhook", ["webhook"]), allowed_networks=allowed
            )
            sender.send(endpoint, notification(Channel.WEBHOOK, None), at=now)
    finally:
        httpd.shutdown()
    ((headers, body),) = received
    assert Webhook(old).verify(body, headers)["id"] == "ntf_01"
    payload = Webhook(secret).verify(body, headers)
    assert payload["id"] == "ntf_01" and payload["data"]["payment_id"] == "pmt_9"
    assert headers["webhook-id"] == "ntf_01"


class Instance:
    """A processor instance on a fixed port that can be stopped and started again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.hits = 0
        self.httpd: ThreadingHTTPServer | None = None

    def start(self) -> None:
        instance = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                instance.hits += 1
                reference = self.path.rsplit("/", 1)[-1]
                body = json.dumps({"reference": reference, "status": "settled"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self.httpd is not None
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def dns_server() -> Iterator[tuple[str, list[int]]]:
    """A DNS server on loopback answering SRV for three processor instances."""
    server = SrvServer([free_port() for _ in range(3)]).start()
    yield server.address, server.ports
    server.stop()


def test_the_last_answer_is_kept_while_the_dns_server_is_away(
    dns_server: tuple[str, list[int]], caplog: pytest.LogCaptureFixture
) -> None:
    nameserver, ports = dns_server
    clock = [0.0]
    discovery = ServiceDiscovery(
        {"processor": "srv://_processor._tcp.cbp.test"},
        nameserver=nameserver,
        now=lambda: clock[0],
    )
    known = discovery.endpoints("processor")
    assert known == [f"http://127.0.0.1:{p}" for p in ports]
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # NOTE: a server that never answers
    silent.bind(("127.0.0.1", 0))
    try:
        discovery._resolver.nameservers = ["127.0.0.1"]
        discovery._resolver.port = silent.getsockname()[1]
        discovery._resolver.lifetime = 0.3
        clock[0] += 3600  # NOTE: far past the answer's TTL
        with caplog.at_level(logging.WARNING, logger="cbp.discovery"):
            assert discovery.endpoints("processor") == known
            assert discovery.endpoints("processor") == known  # NOTE: not asked again yet
        (record,) = [r for r in caplog.records if r.getMessage() == "SRV lookup failed"]
        assert record.srv_name == "_processor._tcp.cbp.test"  # type: ignore[attr-defined]
    finally:
        silent.close()


def test_three_instances_behind_srv_one_killed_then_probed_back_in(
    dns_server: tuple[str, list[int]],
) -> None:
    nameserver, ports = dns_server
    discovery = ServiceDiscovery(
        {"processor": "srv://_processor._tcp.cbp.test"}, nameserver=nameserver
    )
    assert discovery.endpoints("processor") == [f"http://127.0.0.1:{p}" for p in ports]
    instances = [Instance(port) for port in ports]
    for instance in instances:
        instance.start()
    call = policy("processor", lambda: discovery.endpoints("processor"), reset_after=1.0)
    with build_client(HttpClientSettings(connect_timeout=0.5, read_timeout=2)) as client:
        processor = HttpPaymentProcessor(client, call)
        for i in range(9):
            assert processor.outcome(f"pmt_{i}").status is ProcessorStatus.SETTLED
        assert all(instance.hits == 3 for instance in instances), "load balanced"
        instances[1].stop()
        before = [instance.hits for instance in instances]
        for i in range(20):
            assert processor.outcome(f"pmt_x{i}").status is ProcessorStatus.SETTLED
        moved = [instance.hits - b for instance, b in zip(instances, before, strict=True)]
        assert moved[1] == 0 and moved[0] + moved[2] == 20, moved
        instances[1].start()
        time.sleep(1.2)  # NOTE: past the breaker's wait: the next pass probes it
        for i in range(20):
            processor.outcome(f"pmt_y{i}")
        assert instances[1].hits > before[1], "the restarted instance was probed back in"
    for instance in instances:
        instance.stop()


def test_a_slow_processor_fills_its_own_bulkhead_and_notifications_still_go() -> None:
    release = threading.Event()
    entered = threading.Barrier(3)
    processor = policy("processor", ["p"], concurrency=2, waiting=0)
    email = policy("email", ["e"], concurrency=2)

    def slow(_: str) -> None:
        entered.wait()
        release.wait(60)

    holders = [threading.Thread(target=lambda: processor(slow, retryable=False)) for _ in range(2)]
    for t in holders:
        t.start()
    entered.wait()
    try:
        with pytest.raises(DependencyDeferred):
            processor(slow, retryable=False)
        sent: list[str] = []
        notifying = threading.Thread(
            target=lambda: sent.extend(email(lambda _: "sent", retryable=False) for _ in range(10))
        )
        notifying.start()
        # NOTE: the processor's calls hold until released below; 30 s only bounds a failure
        notifying.join(30)
        assert sent == ["sent"] * 10, "notifications waited on the processor"
    finally:
        release.set()
        for t in holders:
            t.join()


class Answering(BaseHTTPRequestHandler):
    """A processor that answers every submission with ``status`` and ``body``."""

    status = 422
    body = b"{}"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize(
    ("status", "body", "raised", "detail"),
    [
        (
            422,
            {"code": "invalid_payee", "detail": "account 4417123456 unknown"},
            PaymentRefused,
            "HTTP 422: invalid_payee",
        ),
        (409, {"code": "Not A Code 4417123456"}, PaymentRefused, "HTTP 409"),
        (401, {"code": "bad_token"}, DependencyError, ""),  # NOTE: opens the breaker: deferred
    ],
)
def test_a_refused_submission_is_told_apart_from_our_own_misconfiguration(
    status: int, body: dict[str, str], raised: type[Exception], detail: str
) -> None:
    handler = type("Handler", (Answering,), {"status": status, "body": json.dumps(body).encode()})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        with build_client(HttpClientSettings(connect_timeout=0.5, read_timeout=2)) as client:
            processor = HttpPaymentProcessor(client, policy("processor", [base]))
            with pytest.raises(raised) as caught:
                processor.submit(submission())
    finally:
        httpd.shutdown()
    assert str(caught.value.args[0]).startswith(f"processor: {detail}")
    assert isinstance(caught.value, PaymentRefused) == (status != 401)
    assert "4417123456" not in str(caught.value)  # NOTE: the processor's text never comes back


def submission() -> Submission:
    return Submission(
        reference="pmt_1",
        tenant_id="ten_1",
        amount=Money.of(Decimal("10.00"), "USD"),
        payee_id="pye_1",
        payee_name="Pacific Gas and Electric",
        payee_account_number="4417123456",
        funding_account_id="fac_1",
        funding_routing_number="021000021",
        funding_account_number="000123456789",
        deliver_by="2026-03-04",
    )


class Recording(BaseHTTPRequestHandler):
    """A processor that accepts every submission and keeps the bodies it was sent."""

    bodies: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Recording.bodies.append(json.loads(body))
        answer = json.dumps({"reference": "pmt_1", "status": "accepted"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_check_s_mailing_address_goes_to_the_processor_as_its_protocol_says() -> None:
    schema = json.loads(Path("docs/processor-api.json").read_text())["components"]["schemas"]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    mail_to = Address(line1="2 Elm St", city="Springfield", state="IL", postal_code="62704")
    try:
        with build_client(HttpClientSettings(connect_timeout=0.5, read_timeout=2)) as client:
            processor = HttpPaymentProcessor(client, policy("processor", [base]))
            processor.submit(submission())
            processor.submit(replace(submission(), reference="pmt_2", mail_to=mail_to))
    finally:
        httpd.shutdown()
    electronic, by_check = Recording.bodies[-2:]
    for body in (electronic, by_check):
        jsonschema.validate(body, schema["Submission"])
    assert "mail_to" not in electronic["payee"]
    assert by_check["payee"]["mail_to"] == {
        "line1": "2 Elm St",
        "line2": None,
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62704",
        "country": "US",
    }
