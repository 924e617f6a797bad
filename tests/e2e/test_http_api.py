"""The HTTP API over real HTTP, served by gunicorn on the embedded default."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import (
    DATABASES,
    Server,
    business_day_ahead,
    log_records,
    make_world,
    running_server,
    server_on,
)


@pytest.fixture(scope="module", params=DATABASES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The API on the embedded default, and on PostgreSQL with a Redis cache and limits."""
    with server_on(request.param, tmp_path_factory.mktemp("api")) as running:
        yield running


@pytest.fixture(scope="module")
def world(server: Server) -> dict[str, Any]:
    """A customer with a verified payee and funding account, made through the API."""
    return make_world(server)


def pay(server: Server, world: dict[str, Any], amount: str, key: str, **extra: Any):  # type: ignore[no-untyped-def]
    return server.call(
        "POST",
        "/payment/one-time",
        {**world, "amount": amount, **extra},
        headers={"Idempotency-Key": key},
    )


def process(server: Server, payment: dict[str, Any], status: str) -> dict[str, Any]:
    """Run the payment's send-on date's processing job, as a scheduler would; wait for it.

    A payment made before the tenant's cut-off is queued at once; after it, it
    waits for its date, which may be tomorrow in the tenant's time zone, so
    the job asks to send it now. Either way the job finds it and its outcome shows.
    """
    job = server.call("POST", "/payment/process", {"due_on": payment["send_on"], "send_now": True})
    assert job.status == 202, job.body
    assert job.headers["location"] == f"/payment/process/{job.body['id']}"
    server.wait_for(job.headers["location"], "status", "completed")
    return server.wait_for(f"/payment/{payment['id']}", "status", status).body


def test_a_customer_pays_a_bill_and_follows_it_to_the_end(
    server: Server, world: dict[str, Any]
) -> None:
    created = pay(server, world, "42.00", "journey-1", memo="power bill")
    assert created.status == 201, created.body
    assert created.headers["cache-control"] == "no-store"
    payment = created.body
    assert (payment["amount"], payment["currency"], payment["memo"]) == (
        "42.00",
        "USD",
        "power bill",
    )
    done = process(server, payment, "completed")
    assert done["version"] == 4
    events = server.call("GET", f"/payment/{payment['id']}/events").body["items"]
    assert [e["type"] for e in events] == [
        "PaymentCreated",
        "PaymentValidated",
        "PaymentProcessed",
        "PaymentCompleted",
    ]
    for n in range(3):
        assert pay(server, world, f"1{n}.00", f"journey-page-{n}").status == 201
    first = server.call("GET", f"/payment?customer_id={world['customer_id']}&limit=2").body
    rest = server.call(
        "GET", f"/payment?customer_id={world['customer_id']}&limit=2&cursor={first['next_cursor']}"
    ).body
    ids = [p["id"] for p in first["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) >= 4 and payment["id"] in ids


def test_a_quote_says_when_a_payment_would_arrive_and_a_payment_arrives_then(
    server: Server, world: dict[str, Any]
) -> None:
    later = business_day_ahead(15)
    payee = world["payee_id"]
    quote = server.call("GET", f"/payment/quote?payee_id={payee}&send_on={later}&due_on={later}")
    assert quote.status == 200, quote.body
    assert (quote.body["send_on"], quote.body["on_time"]) == (later, False)  # NOTE: lead days
    assert quote.body["latest_send_on"] < later < quote.body["deliver_by"]
    late = pay(server, world, "17.00", f"late-{later}", send_on=later, due_on=later)
    assert (late.status, late.body["code"]) == (422, "arrives_after_due_date"), late.body
    assert quote.body["latest_send_on"] in late.body["detail"]
    payment = pay(
        server, world, "17.00", f"quoted-{later}", send_on=later, due_on=quote.body["deliver_by"]
    ).body
    assert payment["deliver_by"] == quote.body["deliver_by"]
    for bad in ("send_on=20260304", "send_on=2026-02-30", "due_on=tomorrow", "due_on=0001-01-01"):
        refused = server.call("GET", f"/payment/quote?payee_id={payee}&{bad}")
        assert (refused.status, refused.body["code"]) == (422, "invalid_input"), (bad, refused.body)
    missing = server.call("GET", "/payment/quote")
    assert missing.status in (400, 422), missing.body


def test_a_scheduled_payment_is_changed_until_it_is_sent(
    server: Server, world: dict[str, Any]
) -> None:
    later = business_day_ahead(20)
    payment = pay(server, world, "42.00", f"change-{later}", send_on=later, memo="May").body
    path = f"/payment/{payment['id']}"
    changed = server.call("PATCH", path, {"amount": "45.10", "memo": ""})
    assert changed.status == 200, changed.body
    assert (changed.body["amount"], changed.body["memo"], changed.body["version"]) == (
        "45.10",
        None,
        3,
    )
    assert changed.body["send_on"] == payment["send_on"]
    moved_to = business_day_ahead(25)
    moved = server.call("PATCH", path, {"send_on": moved_to})
    assert (moved.status, moved.body["send_on"]) == (200, moved_to), moved.body
    refused = {
        "status": {"status": "completed"},
        "nul": {"memo": "a\u0000b"},
        "amount": {"amount": 45},
        "negative": {"amount": "-45.10"},
        "no such day": {"send_on": "2031-02-30"},
        "a number for a day": {"send_on": 20310203},
        "empty": {},
    }
    for name, body in refused.items():
        answer = server.call("PATCH", path, body)
        assert answer.status == 422, (name, answer.body)
        assert answer.headers["content-type"] == "application/problem+json"
    done = process(server, moved.body, "completed")
    assert done["amount"] == "45.10"
    late = server.call("PATCH", path, {"memo": "too late"})
    assert (late.status, late.body["code"]) == (409, "illegal_transition"), late.body
    events = server.call("GET", f"{path}/events").body["items"]
    assert [e["type"] for e in events][:3] == [
        "PaymentCreated",
        "PaymentValidated",
        "PaymentChanged",
    ]
    missing = server.call("PATCH", "/payment/pmt_missing", {"memo": "x"})
    assert missing.status == 404, missing.body
    deadline = time.monotonic() + 30  # NOTE: entries join the chain at the relay's next round
    key_id = server.key.split(".")[0]
    while len(by_key := [e for e in server.call("GET", f"{path}/audit").body["items"]
                         if e["actor"] == key_id]) < 3:  # fmt: skip
        assert time.monotonic() < deadline, by_key
        time.sleep(0.2)
    assert [e["action"] for e in by_key] == [
        "CreateOneTimePayment",
        "ChangePayment",
        "ChangePayment",
    ]
    assert server.call("GET", "/payment/pmt_missing/audit").status == 404


def test_a_failed_payment_opens_an_exception_and_notifies_the_customer(
    server: Server, world: dict[str, Any]
) -> None:
    payment = pay(server, world, "42.13", "fail-1").body
    process(server, payment, "failed")
    of_payment = server.call("GET", f"/exception?payment_id={payment['id']}").body["items"]
    (exception,) = of_payment
    assert exception["payment_id"] == payment["id"]
    of_customer = server.call("GET", f"/exception?customer_id={world['customer_id']}")
    assert exception["id"] in [e["id"] for e in of_customer.body["items"]]
    assert server.call("GET", "/exception?customer_id=cus_nobody").body["items"] == []
    assert (exception["kind"], exception["reason_code"]) == ("nsf", "nsf")
    server.wait_for(f"/exception/{exception['id']}", "status", "notified")  # NOTE: async
    sent = server.call(
        "POST",
        "/exception/send-customer-notification",
        {"exception_id": exception["id"], "channels": ["email"]},
    )
    assert sent.status == 202
    (notification_id,) = sent.body["notification_ids"]
    server.wait_for(f"/notification/{notification_id}", "status", "sent")
    linked = server.call("GET", f"/exception/{exception['id']}").body["notification_ids"]
    assert notification_id in linked and len(linked) >= 2, linked  # NOTE: the first notice too
    listed = server.call("GET", f"/exception?payment_id={payment['id']}").body["items"]
    assert listed[0]["notification_ids"] == linked
    resolved = server.call("POST", f"/exception/{exception['id']}/resolve", {"resolution": "paid"})
    assert (resolved.status, resolved.body["status"]) == (200, "resolved")
    again = server.call("POST", f"/exception/{exception['id']}/resolve", {"resolution": "paid"})
    assert (again.status, again.body["code"]) == (409, "illegal_transition")


class TestAuthentication:
    def test_missing_wrong_and_revoked_keys_are_401(self, server: Server) -> None:
        assert server.call("GET", "/payment", key="").status == 401
        wrong = server.key[:-2] + ("AA" if not server.key.endswith("AA") else "BB")
        assert server.call("GET", "/payment", key=wrong).status == 401
        tenant = server.cli("tenant", "create", "Revocable")
        token = server.cli("api-key", "create", "--tenant", tenant, "--scope", "payments:read")
        assert server.call("GET", "/payment", key=token).status == 200
        assert server.call("GET", "/payment", headers={"X-API-Key": token}, key="").status == 200
        server.cli("api-key", "revoke", token.split(".")[0])
        within_a_second = time.monotonic() + 1.0  # NOTE: the API process may hold it that long
        while (denied := server.call("GET", "/payment", key=token)).status == 200:
            assert time.monotonic() < within_a_second, "a revoked key still passes"
            time.sleep(0.05)
        assert (denied.status, denied.body["code"]) == (401, "unauthenticated")
        assert denied.headers["content-type"] == "application/problem+json"

    def test_a_key_without_the_scope_is_403(self, server: Server) -> None:
        tenant = server.cli("tenant", "create", "Read Only")
        token = server.cli("api-key", "create", "--tenant", tenant, "--scope", "payments:read")
        refused = server.call("POST", "/customer", {"external_id": "x", "name": "X"}, key=token)
        assert (refused.status, refused.body["code"]) == (403, "forbidden")
        assert "customers:write" in refused.body["detail"]

    def test_another_tenants_records_are_404(self, server: Server, world: dict[str, Any]) -> None:
        payment = pay(server, world, "5.00", "isolation-1").body
        tenant = server.cli("tenant", "create", "Other Bank")
        token = server.cli(
            "api-key",
            "create",
            "--tenant",
            tenant,
            "--scope",
            "payments:read",
            "--scope",
            "payees:read",
            "--scope",
            "exceptions:read",
        )
        for path in (
            f"/payment/{payment['id']}",
            f"/payee/{world['payee_id']}",
            f"/funding-account/{world['funding_account_id']}",
        ):
            response = server.call("GET", path, key=token)
            assert (response.status, response.body["code"]) == (404, "not_found"), path


class TestIdempotency:
    def test_the_same_key_and_body_replays_the_first_response(
        self, server: Server, world: dict[str, Any]
    ) -> None:
        first = pay(server, world, "7.00", "idem-1")
        second = pay(server, world, "7.00", "idem-1")
        assert first.status == second.status == 201
        assert first.raw == second.raw
        assert second.headers.get("idempotent-replayed") == "true"

    def test_the_same_key_with_another_body_is_422(
        self, server: Server, world: dict[str, Any]
    ) -> None:
        assert pay(server, world, "8.00", "idem-2").status == 201
        reused = pay(server, world, "9.00", "idem-2")
        assert (reused.status, reused.body["code"]) == (422, "idempotency_key_reused")

    def test_twenty_concurrent_requests_with_one_key_make_one_payment(
        self, server: Server, world: dict[str, Any]
    ) -> None:
        results: list[int] = []
        ids: set[str] = set()

        def send() -> None:
            response = pay(server, world, "11.11", "idem-concurrent")
            results.append(response.status)
            if response.status == 201:
                ids.add(response.body["id"])

        threads = [threading.Thread(target=send) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert results == [201] * 20  # NOTE: each duplicate waits for the first, then replays it
        assert len(ids) == 1
        listed = server.call("GET", f"/payment?customer_id={world['customer_id']}&limit=100").body
        assert sum(1 for p in listed["items"] if p["amount"] == "11.11") == 1

    def test_the_key_is_required_and_bounded_on_payments(
        self, server: Server, world: dict[str, Any]
    ) -> None:
        missing = server.call("POST", "/payment/one-time", {**world, "amount": "1.00"})
        assert (missing.status, missing.body["code"]) == (400, "bad_request")
        too_long = pay(server, world, "1.00", "k" * 256)
        assert too_long.status == 400


class TestBadRequests:
    def test_read_only_and_unknown_fields_are_422_and_change_nothing(
        self, server: Server, world: dict[str, Any]
    ) -> None:
        for field_name, value in (("status", "completed"), ("tenant_id", "ten_other")):
            response = pay(server, world, "3.00", f"extra-{field_name}", **{field_name: value})
            assert (response.status, response.body["code"]) == (422, "validation_failed")
            assert [field_name] in [e["loc"] for e in response.body["errors"]]
        listed = server.call("GET", "/payment?limit=100").body["items"]
        assert not [p for p in listed if p["amount"] == "3.00"]

    def test_schema_violations_name_every_bad_field(
        self, server: Server, world: dict[str, Any]
    ) -> None:
        response = server.call(
            "POST",
            "/payment/one-time",
            {"customer_id": world["customer_id"], "amount": 12.5},
            headers={"Idempotency-Key": "schema-1"},
        )
        assert response.status == 422
        locs = [e["loc"] for e in response.body["errors"]]
        assert ["payee_id"] in locs and ["funding_account_id"] in locs and ["amount"] in locs

    def test_malformed_oversized_and_mistyped_bodies(self, server: Server) -> None:
        malformed = server.call("POST", "/customer", raw=b"{not json")
        assert (malformed.status, malformed.body["code"]) == (400, "bad_request")
        huge = server.call("POST", "/customer", raw=b'{"name": "' + b"x" * 70_000 + b'"}')
        assert (huge.status, huge.body["code"]) == (413, "payload_too_large")
        typed = server.call(
            "POST",
            "/customer",
            raw=b"name=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert typed.status == 415

    @pytest.mark.parametrize("path", ["/payment", "/payment/recurring", "/exception"])
    def test_a_status_filter_names_what_it_may_be(self, server: Server, path: str) -> None:
        response = server.call("GET", f"{path}?status=lost")
        assert (response.status, response.body["code"]) == (422, "invalid_input")
        assert response.body["detail"].startswith("status must be one of: ")

    def test_unknown_routes_and_methods(self, server: Server) -> None:
        missing = server.call("GET", "/no/such/thing")
        assert (missing.status, missing.body["code"]) == (404, "not_found")
        wrong = server.call("DELETE", "/payment")
        assert wrong.status == 405 and "GET" in wrong.headers["allow"]
        assert wrong.headers["content-type"] == "application/problem+json"

    @pytest.mark.parametrize(
        "text", ["'; DROP TABLE global_payees; --", "<img src=x onerror=alert(1)>", "%", "_"]
    )
    def test_injection_strings_in_a_search_are_just_text(self, server: Server, text: str) -> None:
        from urllib.parse import quote

        response = server.call("GET", f"/payee/global-payee/name/{quote(text, safe='')}")
        assert response.status == 200 and response.body["items"] == []
        assert server.call("GET", "/payee/global-payee/name/pacific").body["items"]

    def test_directory_search_has_an_etag_and_answers_304(self, server: Server) -> None:
        first = server.call("GET", "/payee/global-payee/name/water")
        assert first.status == 200 and first.headers["etag"]
        again = server.call(
            "GET",
            "/payee/global-payee/name/water",
            headers={"If-None-Match": first.headers["etag"]},
        )
        assert again.status == 304


def test_problems_never_carry_a_stack_trace(server: Server, world: dict[str, Any]) -> None:
    response = pay(server, world, "not-money", "trace-1")
    assert response.status == 422
    assert b"Traceback" not in response.raw and b'File "' not in response.raw
    assert response.body["request_id"] == response.headers["x-request-id"]


def test_a_rate_limited_key_gets_429_with_retry_after(tmp_path: Path) -> None:
    with running_server(tmp_path, {"CBP_RATE_LIMIT": "3"}) as limited:
        statuses = [limited.call("GET", "/payment").status for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = limited.call("GET", "/payment")
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["ratelimit-policy"] == "3;w=60"
        assert refused.body["code"] == "rate_limited"


def test_with_the_cache_down_readiness_names_it_and_the_api_still_answers(tmp_path: Path) -> None:
    down = {"CBP_CACHE_URL": "redis://127.0.0.1:9/0", "CBP_RATE_LIMIT_URL": "redis://127.0.0.1:9/0"}
    with running_server(tmp_path, down, ready_status=503) as degraded:
        ready = degraded.call("GET", "/health/ready", key="")
        assert ready.status == 503 and ready.headers["content-type"] == "application/health+json"
        assert ready.body["checks"]["cache"][0]["status"] == "fail"
        assert ready.body["checks"]["database"][0]["status"] == "pass"
        assert "cache" in ready.body["output"]
        assert degraded.call("GET", "/payee/global-payee/name/pacific").body["items"]
        assert degraded.call("GET", "/payment").status == 200


def run_sql(server: Server, *statements: str) -> None:
    """Statements on the server's own database (SQLite file or PostgreSQL)."""
    from sqlalchemy import create_engine, text

    url = server.env.get("CBP_DATABASE_URL") or f"sqlite:///{server.home / 'cbp.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


TRIGGERS = {
    "sqlite": (
        "CREATE TRIGGER fail_boom BEFORE INSERT ON customers WHEN NEW.external_id = 'boom' "
        "BEGIN INSERT INTO no_such_table VALUES (1); END",  # NOTE: an error, not a constraint
        "DROP TRIGGER fail_boom",
    ),
    "postgresql": (
        "CREATE FUNCTION fail_boom() RETURNS trigger AS $$ BEGIN "
        "IF NEW.external_id = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END "
        "$$ LANGUAGE plpgsql; "
        "CREATE TRIGGER fail_boom BEFORE INSERT ON customers "
        "FOR EACH ROW EXECUTE FUNCTION fail_boom()",
        "DROP TRIGGER fail_boom ON customers; DROP FUNCTION fail_boom()",
    ),
}


class TestIdempotencyAcrossFailures:
    def test_a_reformatted_retry_is_the_same_request(self, server: Server) -> None:
        key = {"Idempotency-Key": "idem-format"}
        first = server.call(
            "POST", "/customer", raw=b'{"external_id":"fmt-1","name":"Ada"}', headers=key
        )
        again = server.call(
            "POST",
            "/customer",
            raw=b'{\n  "name": "Ada",\n  "external_id": "fmt-1"\n}',
            headers=key,
        )
        assert (first.status, again.status) == (201, 201)
        assert again.headers.get("idempotent-replayed") == "true"
        assert again.body["id"] == first.body["id"]

    def test_a_5xx_frees_the_key_so_the_retry_runs(self, server: Server) -> None:
        dialect = "postgresql" if "CBP_DATABASE_URL" in server.env else "sqlite"
        create, drop = TRIGGERS[dialect]
        run_sql(server, create)
        key = {"Idempotency-Key": "idem-5xx"}
        body = {"external_id": "boom", "name": "Ada"}
        try:
            failed = server.call("POST", "/customer", body, headers=key)
            assert (failed.status, failed.body["code"]) == (500, "internal_error")
            assert "boom" not in failed.raw.decode()  # NOTE: no database text leaks out
        finally:
            run_sql(server, drop)
        retried = server.call("POST", "/customer", body, headers=key)
        assert retried.status == 201, retried.body
        assert retried.headers.get("idempotent-replayed") is None


def test_a_customer_is_told_of_exactly_the_status_changes_they_opted_into(
    server: Server,
) -> None:
    notices_world = make_world(server, "notices-1")
    path = f"/customer/{notices_world['customer_id']}"
    refused = server.call("PATCH", path, {"notification_channels": ["sms"]})
    assert refused.status == 422, refused.body
    assert refused.body["detail"] == "cannot notify on sms: the customer has no phone number"
    chosen = server.call("PATCH", path, {"notify_on": ["failed", "returned"]})
    assert chosen.status == 200, chosen.body
    assert (chosen.body["notification_channels"], chosen.body["notify_on"]) == (
        ["email"],
        ["failed", "returned"],
    )
    assert server.call("GET", path).body["notify_on"] == ["failed", "returned"]
    outcomes = {"completed": "30.00", "failed": "30.13", "returned": "30.14"}
    paid = {}
    for status, amount in outcomes.items():
        created = pay(server, notices_world, amount, f"notices-{status}")
        assert created.status == 201, created.body
        paid[status] = process(server, created.body, status)["id"]

    def notices() -> list[tuple[str, str]]:
        return sorted(
            (r["payload"]["payment_id"], r["payload"]["status"])
            for r in log_records(server.home)
            if r.get("template") == "payment_status"
            and r.get("customer_id") == notices_world["customer_id"]
        )

    expected = sorted([(paid["failed"], "failed"), (paid["returned"], "returned")])
    deadline = time.monotonic() + 20
    while notices() != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # NOTE: long enough for a notice that should not exist to show up
    assert notices() == expected


def test_a_recurring_payment_is_made_changed_skipped_paused_and_cancelled(
    server: Server, world: dict[str, Any]
) -> None:
    probe = pay(server, world, "1.00", "recurring-probe")
    earliest = probe.body["send_on"]  # NOTE: the first date any payment made now can go
    body = {
        **world,
        "amount": "55.00",
        "frequency": "weekly",
        "starts_on": earliest,
        "count": 5,
        "memo": "lessons",
    }
    assert server.call("POST", "/payment/recurring", body).status == 400  # NOTE: no key
    key = {"Idempotency-Key": "recurring-1"}
    created = server.call("POST", "/payment/recurring", body, headers=key)
    assert created.status == 201, created.body
    schedule = created.body
    assert (schedule["status"], schedule["next_index"], len(schedule["upcoming"])) == (
        "active",
        1,
        3,
    )
    first = server.call("GET", f"/payment/{schedule['last_payment_id']}").body
    assert (first["amount"], first["send_on"], first["memo"]) == ("55.00", earliest, "lessons")
    replayed = server.call("POST", "/payment/recurring", body, headers=key)
    assert (replayed.status, replayed.body["id"]) == (201, schedule["id"])
    path = f"/payment/recurring/{schedule['id']}"

    changed = server.call("PATCH", f"{path}/next", {"amount": "60.00"})
    assert changed.status == 200, changed.body
    assert [o["amount"] for o in changed.body["upcoming"]] == ["60.00", "55.00", "55.00"]
    skipped = server.call("POST", f"{path}/skip-next")
    assert skipped.status == 200, skipped.body
    assert skipped.body["next_index"] == 2
    assert skipped.body["upcoming"][0]["send_on"] == changed.body["upcoming"][1]["send_on"]
    assert server.call("PATCH", path, {"status": "paused"}).body["status"] == "paused"
    refused = server.call("PATCH", path, {"status": "completed"})
    assert refused.status == 422, refused.body
    cancelled = server.call("PATCH", path, {"status": "cancelled"})
    assert (cancelled.body["status"], cancelled.body["upcoming"]) == ("cancelled", [])
    late = server.call("PATCH", path, {"status": "active"})
    assert (late.status, late.body["code"]) == (409, "illegal_transition")

    history = server.call("GET", f"{path}/events").body["items"]
    assert [e["type"] for e in history] == [
        "ScheduleCreated",
        "OccurrenceCreated",
        "NextOccurrenceChanged",
        "OccurrenceSkipped",
        "SchedulePaused",
        "ScheduleCancelled",
    ]
    listed = server.call("GET", f"/payment/recurring?customer_id={world['customer_id']}")
    assert schedule["id"] in [s["id"] for s in listed.body["items"]]
    for missing in ("rps_missing", schedule["last_payment_id"]):
        assert server.call("GET", f"/payment/recurring/{missing}").status == 404
    assert server.call("PATCH", f"/payment/{schedule['id']}", {"memo": "x"}).status == 404
