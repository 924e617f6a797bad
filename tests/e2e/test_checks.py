"""Printed checks behind a real server: a personal payee paid by check, printed, stopped, cashed."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.server import DATABASES, Server, make_world, server_on

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=DATABASES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("checks")
    settings = {
        "CBP_CHECKS": "printed",
        "CBP_CHECK_OUTBOUND_DIR": str(home / "checks"),
        "CBP_CHECK_FIRST_NUMBER": "7001",
    }
    with server_on(request.param, home, settings) as running:
        yield running


def pay_by_check(server: Server, world: dict[str, Any], payee_id: str, amount: str) -> str:
    created = server.call(
        "POST",
        "/payment/one-time",
        {**world, "payee_id": payee_id, "amount": amount},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert created.status == 201, created.body
    job = server.call(  # NOTE: after the tenant's cut-off the payment waits for tomorrow
        "POST", "/payment/process", {"due_on": created.body["send_on"], "send_now": True}
    )
    assert job.status == 202, job.body
    server.wait_for(f"/payment/{created.body['id']}", "status", "processing")
    return str(created.body["id"])


def test_a_personal_payee_is_paid_by_a_check_printed_stopped_or_cashed(server: Server) -> None:
    world = make_world(server, f"chk-{uuid.uuid4().hex[:8]}")
    payee = server.call(
        "POST",
        "/payee",
        {
            "customer_id": world["customer_id"],
            "name": "Jane's Lawn Care",
            "address": {
                "line1": "2 Elm St",
                "city": "Springfield",
                "state": "IL",
                "postal_code": "62704",
            },
            "account_number": "55501",
        },
    )
    assert payee.status == 201, payee.body
    server.wait_for(f"/payee/{payee.body['id']}", "verification_status", "verified")
    cashed = pay_by_check(server, world, payee.body["id"], "64.00")
    stopped = pay_by_check(server, world, payee.body["id"], "18.50")

    printed = server.cli_run("checks", "print").stdout
    assert printed.splitlines()[-1].startswith("printed 2 checks"), printed
    [print_file] = sorted((server.home / "checks").glob("checks-*.csv"))
    rows = list(csv.DictReader(io.StringIO(print_file.read_text())))
    assert [(r["amount"], r["payee_name"], r["memo"]) for r in rows] == [
        ("64.00", "Jane's Lawn Care", cashed),
        ("18.50", "Jane's Lawn Care", stopped),
    ]
    check = server.call("GET", f"/payment/{cashed}/check").body
    assert (check["check_number"], check["status"]) == (int(rows[0]["check_number"]), "printed")

    stop = server.call("POST", f"/payment/{stopped}/stop-check")
    assert (stop.status, stop.body["status"]) == (200, "stopped")
    failed = server.call("GET", f"/payment/{stopped}").body
    assert (failed["status"], failed["failure_code"]) == ("failed", "check_stopped")
    again = server.call("POST", f"/payment/{stopped}/stop-check")
    assert (again.status, again.body["code"]) == (409, "illegal_transition")

    [tenant] = [
        line.split("\t")[0] for line in server.cli_run("tenant", "list").stdout.splitlines()[:-1]
    ]
    paid_items = server.home / "paid.csv"
    paid_items.write_text(
        f"check_number,amount,paid_on\n{check['check_number']},64.00,{rows[0]['issue_date']}\n"
    )
    read = server.cli_run("checks", "read-paid", str(paid_items), "--tenant", tenant)
    assert read.stdout.splitlines()[-1].startswith("cashed 1 checks"), read.stdout
    assert server.call("GET", f"/payment/{cashed}/check").body["status"] == "cashed"
    not_a_check = server.call("GET", f"/payment/{world['payee_id']}/check")
    assert not_a_check.status == 404
