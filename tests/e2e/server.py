"""A real `cbp serve` process on a free port, and a small HTTP client for it."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cbp.adapters.calendar.federal_reserve import FederalReserveCalendar
from cbp.domain.calendar import next_business_day

#: The demo tenant's time zone: its "today" decides which payments are due.
TENANT_TIME_ZONE = ZoneInfo("America/New_York")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any
    raw: bytes


@dataclass
class Server:
    """A running API: its base URL, home folder and the printed demo key."""

    base_url: str
    home: Path
    key: str
    env: dict[str, str] = field(default_factory=dict)
    ca_file: Path | None = None
    operator_key: str = ""

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Response:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if key != "":
            request.add_header("Authorization", f"Bearer {key or self.key}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            context = ssl.create_default_context(cafile=str(self.ca_file)) if self.ca_file else None
            with urllib.request.urlopen(request, timeout=30, context=context) as reply:
                status, reply_headers, payload = reply.status, dict(reply.headers), reply.read()
        except urllib.error.HTTPError as error:
            status, reply_headers, payload = error.code, dict(error.headers), error.read()
        lowered = {k.lower(): v for k, v in reply_headers.items()}
        parsed = (
            json.loads(payload) if payload and "json" in lowered.get("content-type", "") else None
        )
        return Response(status, lowered, parsed, payload)

    def explain(self, response: Response) -> Any:
        """A response's body and, for a 5xx, what the server logged about its request."""
        if response.status < 500 or not isinstance(response.body, dict):
            return response.body
        request_id = response.body.get("request_id")
        try:
            records = log_records(self.home)
        except FileNotFoundError:
            return response.body
        logged = [
            record.get("exception", record.get("event"))
            for record in records
            if record.get("request_id") == request_id and record.get("level") == "error"
        ]
        return {**response.body, "server_log": logged}

    def send_now(self, payment_ids: Iterable[str], headers: dict[str, str] | None = None) -> str:
        """Send scheduled payments at once, before their send-on date; returns the job's id.

        Tests send payments this way, explicitly, so that none depends on
        today being a business day before the cut-off.
        """
        job = {"payment_ids": list(payment_ids), "send_now": True}
        response = self.call("POST", "/payment/process", job, headers=headers)
        assert response.status == 202, self.explain(response)
        return str(response.body["id"])

    def pay(
        self,
        world: dict[str, Any],
        amount: str,
        *,
        headers: dict[str, str] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A one-time payment made for a later business day and sent now, on any day.

        ``headers`` go with both requests (a ``traceparent`` joins both to
        one trace); ``fields`` are added to the payment's body. A payment
        that is not ``scheduled`` (held for its payee) is returned unsent.
        """
        sent = {"Idempotency-Key": uuid.uuid4().hex} | (headers or {})
        body = {**world, "amount": amount, "send_on": business_day_ahead(), **fields}
        created = self.call("POST", "/payment/one-time", body, headers=sent)
        assert created.status == 201, self.explain(created)
        payment = dict(created.body)
        if payment["status"] == "scheduled":
            joined = {k: v for k, v in (headers or {}).items() if k.lower() != "idempotency-key"}
            self.send_now([payment["id"]], headers=joined)
        return payment

    def cli(self, *args: str) -> str:
        """The last line a successful ``cbp`` command printed."""
        return self.cli_run(*args).stdout.splitlines()[-1]

    def cli_run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """A ``cbp`` command on this server's settings, with its output and status."""
        return subprocess.run(
            [sys.executable, "-m", "cbp.entrypoints.cli", *args],
            cwd=self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=check,
        )

    def wait_for(self, path: str, field_name: str, value: str, timeout: float = 20) -> Response:
        deadline = time.monotonic() + timeout
        while True:
            response = self.call("GET", path)
            if response.body and response.body.get(field_name) == value:
                return response
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} never had {field_name}={value}: {response.body}")
            time.sleep(0.1)


@contextmanager
def running_server(
    home: Path,
    extra_env: dict[str, str] | None = None,
    *,
    ready_status: int = 200,
    tls: tuple[Path, Path] | None = None,
    port: int | None = None,
) -> Iterator[Server]:
    """`cbp serve` in ``home``; its stdout and stderr go to files there (never a pipe
    that a chatty server could fill and block on)."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CBP_")} | (extra_env or {})
    tls_args = ["--certfile", str(tls[0]), "--keyfile", str(tls[1])] if tls else []
    stdout, stderr = home / "serve.out", home / "serve.log"
    with stdout.open("ab") as out, stderr.open("ab") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "cbp.entrypoints.cli", "serve", "--port", str(port), *tls_args],
            cwd=home,
            env=env,
            stdout=out,
            stderr=err,
        )
    try:
        scheme = "https" if tls else "http"
        server = Server(f"{scheme}://127.0.0.1:{port}", home, "", env, tls[0] if tls else None)
        deadline = time.monotonic() + 30
        while True:
            try:
                if server.call("GET", "/health/ready", key="").status == ready_status:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(f"server did not start: {stderr.read_text()[-4000:]}")
            time.sleep(0.1)
        keys = [line for line in stdout.read_text().splitlines() if line.startswith("key_")]
        server.key = keys[-1] if keys else ""
        for name in ("cbp.db.operator-key", "cbp.operator-key"):
            if (home / name).is_file():
                server.operator_key = (home / name).read_text().strip()
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL if the process has not stopped within ``timeout``."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()


def make_world(server: Server, external_id: str = "ada-1") -> dict[str, Any]:
    """A customer with a verified payee and funding account, made through the API."""
    customer = server.call(
        "POST", "/customer", {"external_id": external_id, "name": "Ada", "email": "ada@example.com"}
    )
    assert customer.status == 201, customer.body
    biller = server.call("GET", "/payee/global-payee/name/pacific%20gas").body["items"][0]
    payee = server.call(
        "POST",
        "/payee",
        {
            "customer_id": customer.body["id"],
            "global_payee_id": biller["id"],
            "account_number": "4417123456",
        },
    )
    assert payee.status == 201, payee.body
    assert payee.body["account_number_masked"] == "****3456"
    server.wait_for(f"/payee/{payee.body['id']}", "verification_status", "verified")
    funding = server.call(
        "POST",
        "/funding-account",
        {
            "customer_id": customer.body["id"],
            "routing_number": "011000015",
            "account_number": "000123456789",
            "account_type": "checking",
            "holder_name": "Ada",
        },
    )
    assert funding.status == 201, funding.body
    return {
        "customer_id": customer.body["id"],
        "payee_id": payee.body["id"],
        "funding_account_id": funding.body["id"],
    }


def business_day_ahead(days: int = 14) -> str:
    """The first Federal Reserve business day ``days`` or more after the tenant's today.

    No sweep sends a payment made for it during a test, whatever the day
    or hour the test runs: it goes only when the test sends it now.
    """
    today = datetime.now(TENANT_TIME_ZONE).date()
    day = next_business_day(today + timedelta(days=days), FederalReserveCalendar().is_business_day)
    return day.isoformat()


def log_records(home: Path) -> list[dict[str, Any]]:
    """The JSON log records a server in ``home`` has written so far."""
    records = []
    for line in (home / "serve.log").read_text().splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    return records


@contextmanager
def postgres_and_redis_env() -> Iterator[dict[str, str]]:
    """Settings for a fresh, migrated PostgreSQL database and a Redis prefix of its own."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from cbp.adapters.sql.crypto import FieldCipher
    from tests.conftest import require_service
    from tests.databases import POSTGRES_ADMIN_URL

    redis_url = os.environ.get("CBP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    require_service("PostgreSQL", POSTGRES_ADMIN_URL.replace("postgresql+psycopg", "postgresql"))
    require_service("Redis", redis_url)
    name = f"cbp_e2e_{uuid.uuid4().hex[:10]}"
    prefix = f"cbp-e2e-{uuid.uuid4().hex[:10]}:"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    env = {
        "CBP_DATABASE_URL": make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False),
        "CBP_API_KEY_SECRET": uuid.uuid4().hex,
        "CBP_ENCRYPTION_KEYS": FieldCipher.generate_key(),
        "CBP_CACHE_URL": redis_url,
        "CBP_RATE_LIMIT_URL": redis_url,
        "CBP_REDIS_PREFIX": prefix,
        "CBP_DEMO_SEED": "true",
    }
    try:
        subprocess.run(
            [sys.executable, "-m", "cbp.entrypoints.cli", "migrate"],
            env={k: v for k, v in os.environ.items() if not k.startswith("CBP_")} | env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield env
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        import redis

        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()


#: Each API test module runs on the embedded default and on PostgreSQL with Redis.
#: Where a server keeps its state: the embedded default, and production's pair.
DATABASE_NAMES = ("sqlite", "postgresql+redis")
DATABASES = [DATABASE_NAMES[0], pytest.param(DATABASE_NAMES[1], marks=pytest.mark.services)]


@contextmanager
def server_on(
    database: str, home: Path, settings: dict[str, str] | None = None
) -> Iterator[Server]:
    """`cbp serve` on ``database`` (a name from ``DATABASES``) with ``settings`` added."""
    if database == "sqlite":
        with running_server(home, settings) as running:
            yield running
    else:
        with (
            postgres_and_redis_env() as env,
            running_server(home, env | (settings or {})) as running,
        ):
            yield running
