"""The async pipeline with real processes: `cbp serve`, `cbp relay`, `cbp worker`.

On RabbitMQ and on Redis (PostgreSQL underneath), and on the embedded
default (SQLite, in-process broker inside `cbp serve`): many payments with
mixed outcomes all end, each failure is notified, nothing is processed
twice, and a worker killed with SIGKILL or a restarted server loses nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, select, text, update

from cbp.adapters.sql import codecs, schema
from cbp.ports.contracts import ProcessPaymentTask
from cbp.ports.messages import Headers, Message, MessageKind
from cbp.settings import Settings
from tests.brokers import REDIS_URL
from tests.e2e.deployment import Deployment, deployment
from tests.e2e.server import Server, business_day_ahead, make_world

pytestmark = pytest.mark.slow

#: Cents and the terminal status the simulator leads each to (README table).
OUTCOMES = {
    0: "completed",
    13: "failed",
    14: "returned",
    15: "failed",
    17: "completed",
    18: "completed",
}
FAILURES = {13, 14, 15}
PAYMENTS = int(os.environ.get("CBP_TEST_PIPELINE_PAYMENTS", "500"))
TERMINAL = {"completed", "failed", "returned", "cancelled"}
#: The status a payment's last event leaves it in.
STATUS_AFTER = {
    "PaymentCompleted": "completed",
    "PaymentFailed": "failed",
    "PaymentReturned": "returned",
}
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
TRACE_ID = TRACEPARENT.split("-")[1]


def _cents(amount: str) -> int:
    return int(Decimal(amount) * 100) % 100


def amounts(count: int) -> list[str]:
    """Mixed outcomes, every cents value of OUTCOMES in turn."""
    cents = list(OUTCOMES)
    return [f"{10 + n // len(cents)}.{cents[n % len(cents)]:02d}" for n in range(count)]


def create_payments(
    running: Deployment, world: dict[str, Any], count: int, batch: str = "a"
) -> dict[str, str]:
    """Create ``count`` payments over HTTP in parallel; return their amounts by id."""
    server = running.server

    send_on = business_day_ahead()

    def create(n_amount: tuple[int, str]) -> tuple[str, str]:
        n, amount = n_amount
        created = server.call(
            "POST",
            "/payment/one-time",
            {**world, "amount": amount, "send_on": send_on},
            headers={"Idempotency-Key": f"pipe-{batch}-{n}"},
        )
        assert created.status == 201, created.body
        return created.body["id"], amount

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = dict(pool.map(create, enumerate(amounts(count))))
    ids = list(created)
    for start in range(0, len(ids), 1000):  # NOTE: a job takes at most 1,000 payments
        server.send_now(ids[start : start + 1000])
    return created


def wait_until_all_end(running: Deployment, ids: set[str], timeout: float = 240) -> dict[str, str]:
    """Poll the listing until every payment is terminal; return their statuses."""
    deadline = time.monotonic() + timeout
    while True:
        statuses = {}
        cursor = None
        while True:
            path = "/payment?limit=100" + (f"&cursor={cursor}" if cursor else "")
            page = running.server.call("GET", path).body
            statuses.update({p["id"]: p["status"] for p in page["items"] if p["id"] in ids})
            cursor = page["next_cursor"]
            if not cursor:
                break
        open_ = [pid for pid in ids if statuses.get(pid) not in TERMINAL]
        if not open_:
            return statuses
        if time.monotonic() > deadline:
            counts = Counter(statuses.get(pid) for pid in open_)
            metrics = running.server.call("GET", "/metrics", key="").raw.decode()
            backlog = [line for line in metrics.splitlines() if line.startswith(("cbp_d", "cbp_o"))]
            raise AssertionError(f"{len(open_)} payments never ended: {counts}; {backlog}")
        time.sleep(0.5)


def all_pages(server: Server, path: str) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        page = server.call("GET", path + "&limit=100" + (f"&cursor={cursor}" if cursor else ""))
        items += page.body["items"]
        cursor = page.body["next_cursor"]
        if not cursor:
            return items


def check_outcomes(running: Deployment, payments: dict[str, str], statuses: dict[str, str]) -> None:
    """Each payment ended as its amount says, was taken once, and each failure was told."""
    server = running.server
    for pid, amount in payments.items():
        cents = _cents(amount)
        assert statuses[pid] == OUTCOMES[cents], (pid, amount, statuses[pid])
    ledger = running.ledger()
    assert {ref for ref, (_, accepted) in ledger.items() if accepted} == set(payments)
    failed = {pid for pid, a in payments.items() if _cents(a) in FAILURES}
    deadline = time.monotonic() + 60  # NOTE: the notification follows the payment's end
    while True:
        notified = {e["payment_id"] for e in all_pages(server, "/exception?status=notified")}
        if failed <= notified or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert failed <= notified, f"{len(failed - notified)} failures not notified"
    for pid in list(payments)[:: max(1, len(payments) // 25)]:
        events = [e["type"] for e in server.call("GET", f"/payment/{pid}/events").body["items"]]
        assert events.count("PaymentProcessed") == 1, (pid, events)
        assert events[:2] == ["PaymentCreated", "PaymentValidated"]
        assert STATUS_AFTER[events[-1]] == statuses[pid], "the status view and the events disagree"


def _json(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(value)  # type: ignore[no-any-return]


def audit_matches_event_store(database_url: str, payments: dict[str, str]) -> None:
    """The audit log recorded each payment event exactly once (its chain may lag)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            _compare_audit_with_events(database_url, payments)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _compare_audit_with_events(database_url: str, payments: dict[str, str]) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT subject_id, data FROM audit_log"
                " WHERE action = 'RecordPaymentActivity' ORDER BY sequence"
            )
        ).fetchall()
        audited = Counter((row.subject_id, _json(row.data)["event_type"]) for row in rows)
        versions_in_commit_order = [
            (row.subject_id, _json(row.data)["version"])
            for row in rows
            if row.subject_id in payments and "version" in _json(row.data)
        ]
        stored = Counter(
            (row.stream_id, row.type)
            for row in conn.execute(text("SELECT stream_id, type FROM events"))
            if row.stream_id in payments
        )
    engine.dispose()
    status_changes = {
        key: count
        for key, count in audited.items()
        if key[0] in payments and key[1] != "payment.exception.created"
    }
    assert sum(stored.values()) >= 4 * len(payments)
    assert status_changes == stored
    failures = {pid for pid, amount in payments.items() if _cents(amount) in FAILURES}
    assert {pid for (pid, kind) in audited if kind == "payment.exception.created"} == failures
    seen_versions: dict[str, list[int]] = {}
    for subject_id, version in versions_in_commit_order:
        seen_versions.setdefault(subject_id, []).append(version)
    out_of_order = {p: v for p, v in seen_versions.items() if v != sorted(v)}
    assert not out_of_order, f"events reached the audit log out of order: {out_of_order}"


@pytest.mark.services
@pytest.mark.parametrize("kind", ["rabbitmq", "redis"])
def test_every_payment_ends_once_even_when_a_worker_is_killed(tmp_path: Path, kind: str) -> None:
    with deployment(tmp_path, kind) as running:
        world = make_world(running.server)
        traced = running.server.pay(
            world, "77.00", headers={"Idempotency-Key": "traced", "traceparent": TRACEPARENT}
        )["id"]
        payments = create_payments(running, world, PAYMENTS) | {traced: "77.00"}
        time.sleep(1.0)
        running.stop("worker", signal.SIGKILL)  # NOTE: mid-run, holding leased deliveries
        time.sleep(0.5)
        running.start("worker", "worker")
        statuses = wait_until_all_end(running, set(payments))
        check_outcomes(running, payments, statuses)
        audit_matches_event_store(running.env["CBP_DATABASE_URL"], payments)
        at_processor = running.traceparent_at_processor(traced) or ""
        assert at_processor.split("-")[1] == TRACE_ID, "the processor call left the trace"
        in_worker = [r for r in running.log_records("worker") if r.get("trace_id") == TRACE_ID]
        assert in_worker, "no worker log line carries the request's trace"
        assert running.stop("worker") == 0, "the worker did not stop cleanly on SIGTERM"
        assert running.stop("relay") == 0, "the relay did not stop cleanly on SIGTERM"


def test_the_embedded_default_loses_nothing_across_a_restart(tmp_path: Path) -> None:
    with deployment(tmp_path, "embedded") as running:
        world = make_world(running.server)
        payments = create_payments(running, world, PAYMENTS // 2)
    with deployment(tmp_path, "embedded") as running:  # NOTE: same home: same SQLite file
        payments |= create_payments(running, world, PAYMENTS // 2, batch="b")
        statuses = wait_until_all_end(running, set(payments))
        check_outcomes(running, payments, statuses)
        attempts = {ref: tries for ref, (tries, _) in running.ledger().items()}
        expected = {pid: 2 if _cents(a) == 18 else 1 for pid, a in payments.items()}
        assert attempts == expected, "a payment was submitted again (a timeout resubmitted?)"
        audit_matches_event_store(f"sqlite:///{tmp_path / 'cbp.db'}", payments)


def insert_poison(database_url: str, payment_id: str) -> str:
    """A buggy producer's task: the right payment, the wrong tenant. Returns its message id."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        tenant_id = conn.execute(
            text("SELECT tenant_id FROM payment_views WHERE id = :p"), {"p": payment_id}
        ).scalar_one()
        message = Message(
            message_id=f"msg_poison{uuid.uuid4().hex[:20]}",
            kind=MessageKind.TASK,
            destination="payment.processing",
            type=ProcessPaymentTask.TYPE,
            payload=ProcessPaymentTask(tenant_id="ten_wrong", payment_id=payment_id).encode(),
            created_at=datetime.now(UTC),
            ordering_key=payment_id,
            headers=Headers(tenant_id=tenant_id),
        )
        conn.execute(insert(schema.outbox).values(**codecs.message_values(message)))
    engine.dispose()
    return message.message_id


def fix_poison(database_url: str, message_id: str) -> None:
    """What an operator's data fix does: the message now names the right tenant."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        row = conn.execute(
            select(schema.outbox.c.payload, schema.outbox.c.headers).where(
                schema.outbox.c.message_id == message_id
            )
        ).one()
        payload = {**_json(row.payload), "tenant_id": _json(row.headers)["tenant_id"]}
        conn.execute(
            update(schema.outbox)
            .where(schema.outbox.c.message_id == message_id)
            .values(payload=payload)
        )
    engine.dispose()


def disrupt(kind: str, prefix: str) -> None:
    """Restart RabbitMQ, or lose every message queued on Redis for this run."""
    if kind == "rabbitmq":
        subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True, timeout=120)
        time.sleep(1)
        subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True, timeout=120)
    else:
        import redis

        namespace = Settings(redis_prefix=prefix).redis_prefix  # NOTE: as cbp writes it
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{namespace}dramatiq*"))
        assert keys, "nothing was queued on Redis to lose"
        client.delete(*keys)
        client.close()


@pytest.mark.services
@pytest.mark.parametrize("kind", ["rabbitmq", "redis"])
def test_a_broker_outage_loses_nothing_and_a_poison_message_waits_in_dead_letters(
    tmp_path: Path, kind: str
) -> None:
    settings = {"CBP_DELIVERY_MAX_ATTEMPTS": "3", "CBP_WORKER_PROCESSES": "2"}
    with deployment(tmp_path, kind, settings) as running:
        server = running.server
        world = make_world(server)
        later = server.call(
            "POST",
            "/payment/one-time",
            {**world, "amount": "5.00", "send_on": business_day_ahead(60)},
            headers={"Idempotency-Key": "poisoned"},
        ).body
        poison = insert_poison(running.env["CBP_DATABASE_URL"], later["id"])
        payments = create_payments(running, world, PAYMENTS // 5)
        disrupt(kind, running.env["CBP_QUEUE_PREFIX"])
        statuses = wait_until_all_end(running, set(payments))
        check_outcomes(running, payments, statuses)

        dead = wait_for_dead_letter(server, poison)
        # NOTE: a lease whose broker message the outage lost counts as an attempt too
        assert dead["attempts"] >= 3 and "NotFound" in (dead["last_error"] or "")
        listed = subprocess.run(
            [sys.executable, "-m", "cbp.entrypoints.cli", "dead-letters", "list"],
            env=running.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        assert dead["id"] in listed
        assert server.call("GET", f"/payment/{later['id']}").body["status"] == "scheduled"
        fix_poison(running.env["CBP_DATABASE_URL"], poison)
        retried = server.call("POST", f"/dead-letter/{dead['id']}/retry")
        assert retried.status == 202 and retried.body["status"] == "pending"
        server.wait_for(f"/payment/{later['id']}", "status", "completed", timeout=60)
        assert server.call("GET", "/dead-letter").body["items"] == []
        assert running.stop("worker") == 0, "two worker processes did not stop cleanly"


def wait_for_dead_letter(server: Server, message_id: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for item in server.call("GET", "/dead-letter").body["items"]:
            if item["message_id"] == message_id:
                return item  # type: ignore[no-any-return]
        time.sleep(0.5)
    raise AssertionError(f"{message_id} never reached the dead letters")
