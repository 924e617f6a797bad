"""What operators see of a running API: status, metrics, traces and logs, over real HTTP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.conftest import services_required
from tests.e2e.server import Server, free_port, log_records, running_server

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
ACCOUNT_NUMBER = "99887766554433"


@dataclass
class Received:
    """What a local receiver was sent."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 20) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.requests)


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A local HTTP server that records every POST it gets and answers 200."""
    received = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.requests.append(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("observed")) as running:
        yield running


def test_the_detailed_status_needs_a_key_and_shows_components_and_resources(
    server: Server,
) -> None:
    assert server.call("GET", "/health/status", key="").status == 401
    assert server.call("GET", "/health/status").status == 403  # NOTE: a tenant's key
    status = server.call("GET", "/health/status", key=server.operator_key)
    assert status.status == 200
    assert status.headers["content-type"] == "application/health+json"
    assert status.headers["cache-control"] == "no-store"
    assert set(status.body["checks"]) == {"database", "broker", "cache"}
    assert all(c[0]["status"] == "pass" for c in status.body["checks"].values())
    assert all(c[0]["observedUnit"] == "ms" for c in status.body["checks"].values())
    resources = status.body["resources"]
    assert resources["rss_bytes"] > 10_000_000
    assert resources["threads"] >= 1 and resources["open_files"] >= 3


def test_metrics_count_each_route_and_show_the_message_backlog(server: Server) -> None:
    for _ in range(3):
        assert server.call("GET", "/payee/global-payee/name/pacific").status == 200
    assert server.call("GET", "/payment/pmt_missing").status == 404
    metrics = server.call("GET", "/metrics", key="")
    assert metrics.status == 200 and metrics.headers["content-type"].startswith("text/plain")
    text = metrics.raw.decode()
    searches = re.search(
        r'cbp_http_requests_total\{method="GET",route="/payee/global-payee/name/\{partial_name\}",'
        r'status="200"\} (\d+)',
        text,
    )
    assert searches is not None and float(searches.group(1)) >= 3
    assert 'route="/payment/{payment_id}",status="404"' in text
    assert "cbp_http_request_duration_seconds_bucket" in text
    for gauge in ("cbp_outbox_pending", "cbp_outbox_lag_seconds", "cbp_dead_letters"):
        assert re.search(rf"^{gauge} \d", text, re.MULTILINE), gauge
    assert re.search(r'^cbp_deliveries\{status="done"\} \d', text, re.MULTILINE)


def test_a_callers_trace_is_continued_and_every_log_line_carries_it(server: Server) -> None:
    customer = server.call(
        "POST",
        "/customer",
        {"external_id": "log-1", "name": "Log", "email": "log@example.com"},
        headers={"traceparent": TRACEPARENT, "X-Request-ID": "req-observed-1"},
    )
    assert customer.status == 201
    deadline = time.monotonic() + 10
    while True:
        lines = [r for r in log_records(server.home) if r.get("request_id") == "req-observed-1"]
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    (line,) = [r for r in lines if r["event"] == "request"]
    assert line["trace_id"] == TRACE_ID
    assert re.fullmatch(r"[0-9a-f]{16}", line["span_id"]) and line["span_id"] != CALLER_SPAN
    assert line["route"] == "/customer" and line["status"] == 201
    assert line["tenant_id"].startswith("ten_") and line["key_id"].startswith("key_")
    assert line["level"] == "info" and "timestamp" in line


def test_account_numbers_and_keys_never_reach_the_logs(server: Server) -> None:
    customer = server.call(
        "POST", "/customer", {"external_id": "sec-1", "name": "Sec", "email": "s@example.com"}
    ).body
    biller = server.call("GET", "/payee/global-payee/name/pacific").body["items"][0]
    payee = server.call(
        "POST",
        "/payee",
        {
            "customer_id": customer["id"],
            "global_payee_id": biller["id"],
            "account_number": ACCOUNT_NUMBER,
        },
    )
    assert payee.status in (201, 422)
    refused = server.call("GET", "/payment", key=server.key[:-3] + "zzz")
    assert refused.status == 401
    server.wait_for("/health/live", "status", "pass")
    log = (server.home / "serve.log").read_text()
    assert log.strip(), "the server logged nothing"
    secret = server.key.split(".", 1)[1]
    assert ACCOUNT_NUMBER not in log and secret not in log and secret[:-3] not in log


def test_the_trace_context_test_endpoint_is_off_by_default(server: Server) -> None:
    assert server.call("POST", "/_test/trace-context", [], key="").status == 404


def test_the_trace_context_test_endpoint_propagates_one_trace(tmp_path: Path) -> None:
    env = {"CBP_TRACE_CONTEXT_TEST_ENDPOINT": "true"}
    with running_server(tmp_path, env) as served, receiver() as peer:
        calls = [
            {"url": f"{peer.url}/first", "arguments": [{"url": "x", "arguments": []}]},
            {"url": f"{peer.url}/second", "arguments": []},
        ]
        answer = served.call(
            "POST",
            "/_test/trace-context",
            calls,
            key="",
            headers={"traceparent": TRACEPARENT, "tracestate": "vendor=abc", "baggage": "k=v"},
        )
        assert answer.status == 200
        first, second = peer.wait_for(2)
        assert [first.path, second.path] == ["/first", "/second"]
        assert first.body == b'[{"url": "x", "arguments": []}]'
        spans = []
        for got in (first, second):
            version, trace_id, span_id, flags = got.headers["traceparent"].split("-")
            assert (version, trace_id, flags) == ("00", TRACE_ID, "01")
            assert got.headers["tracestate"] == "vendor=abc"
            assert got.headers["baggage"] == "k=v"
            spans.append(span_id)
        assert len({*spans, CALLER_SPAN}) == 3
        fresh = served.call("POST", "/_test/trace-context", [{"url": f"{peer.url}/x"}], key="")
        assert fresh.status == 200
        (*_, third) = peer.wait_for(3)
        assert third.headers["traceparent"].split("-")[1] != TRACE_ID
        duplicated = served.call(
            "POST",
            "/_test/trace-context",
            [{"url": f"{peer.url}/y", "arguments": []}],
            key="",
            headers={"traceparent": TRACEPARENT, "tracestate": "foo=1,foo=2"},
        )
        assert duplicated.status == 200
        (*_, fourth) = peer.wait_for(4)
        assert fourth.headers["traceparent"].split("-")[1] == TRACE_ID
        assert fourth.headers["tracestate"] == "foo=1"  # NOTE: a repeated key: the first stands


#: The W3C's own Trace Context test suite, kept in the shared tools beside the checkout.
HARNESS = Path(__file__).resolve().parents[3] / "shared" / "tools" / "w3c-trace-context"


def test_the_w3c_harness_passes_at_level_2_strictly(tmp_path: Path) -> None:
    if not (HARNESS / "test.py").is_file():
        message = f"the W3C Trace Context harness is not at {HARNESS}"
        if services_required():
            pytest.fail(f"{message}; CBP_REQUIRE_SERVICES=1 requires it")
        pytest.skip(message)
    env = {"CBP_TRACE_CONTEXT_TEST_ENDPOINT": "true"}
    with running_server(tmp_path, env) as served:
        harness_env = {k: v for k, v in os.environ.items() if not k.startswith("CBP_")} | {
            "SPEC_LEVEL": "2",
            "STRICT_LEVEL": "2",
            "HARNESS_PORT": str(free_port()),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        done = subprocess.run(
            [sys.executable, "test.py", f"{served.base_url}/_test/trace-context"],
            cwd=HARNESS,
            env=harness_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-4000:]
    assert "Ran 41 tests" in report and report.rstrip().endswith("OK"), report[-4000:]


def test_spans_are_exported_over_otlp_when_an_endpoint_is_set(tmp_path: Path) -> None:
    with receiver() as collector:
        env = {"CBP_OTLP_ENDPOINT": f"{collector.url}/v1/traces", "OTEL_BSP_SCHEDULE_DELAY": "100"}
        with running_server(tmp_path, env) as served:
            assert (
                served.call("GET", "/payment", headers={"traceparent": TRACEPARENT}).status == 200
            )
            deadline = time.monotonic() + 20
            exported = collector.wait_for(1)
            while not any(bytes.fromhex(TRACE_ID) in got.body for got in exported):
                if time.monotonic() > deadline:  # NOTE: other spans may be exported first
                    break
                exported = collector.wait_for(len(exported) + 1, timeout=1)
    assert exported, "no spans were exported"
    assert exported[0].path == "/v1/traces"
    assert exported[0].headers["content-type"] == "application/x-protobuf"
    assert any(bytes.fromhex(TRACE_ID) in got.body for got in exported)


OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations"


def queried_metrics() -> set[str]:
    """Every metric the Grafana dashboard's panels and the alert rules query."""
    dashboard = json.loads((OPERATIONS / "grafana-dashboard.json").read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    rules = yaml.safe_load((OPERATIONS / "alerts.yml").read_text())
    expressions += [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    return set(re.findall(r"\bcbp_[a-z_]+", " ".join(expressions)))


def test_the_dashboard_and_alerts_query_only_metrics_cbp_exports(server: Server) -> None:
    server.call("GET", "/health/live", key="")  # NOTE: the request metrics have a sample
    text = server.call("GET", "/metrics", key="").raw.decode()
    exported = set(re.findall(r"^(?:# TYPE )?(cbp_[a-z_]+)", text, re.MULTILINE))
    queried = queried_metrics()
    assert len(queried) >= 8
    assert queried - exported == set(), f"not exported: {sorted(queried - exported)}"
