"""The nacha processor behind a real server: payments over HTTP, a cut-off, the bank's returns."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from cbp.adapters.nacha import format as nacha
from tests.e2e.server import DATABASES, Server, make_world, server_on

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=DATABASES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("ach")
    settings = {
        "CBP_PROCESSOR": "nacha",
        "CBP_NACHA_OUTBOUND_DIR": str(home / "outbound"),
        "CBP_NACHA_CUTOFF_TIMES": "23:59",  # NOTE: the test's own cut-off is the only one
        "CBP_RECONCILE_INTERVAL_SECONDS": "1",
    }
    with server_on(request.param, home, settings) as running:
        yield running


def test_a_cut_off_files_the_payments_and_the_banks_return_file_returns_one(
    server: Server,
) -> None:
    world = make_world(server, f"ach-{uuid.uuid4().hex[:8]}")
    paid = []
    for amount in ("31.00", "32.00", "33.00"):
        created = server.call(
            "POST",
            "/payment/one-time",
            {**world, "amount": amount},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert created.status == 201, created.body
        job = server.call(  # NOTE: after the tenant's cut-off the payment waits for tomorrow
            "POST", "/payment/process", {"due_on": created.body["send_on"], "send_now": True}
        )
        assert job.status == 202, job.body
        paid.append(created.body["id"])
    for payment_id in paid:
        server.wait_for(f"/payment/{payment_id}", "status", "processing")

    printed = server.cli_run("ach", "cut-off").stdout
    assert printed.splitlines()[-1] == "1 file(s) handed off", printed
    (path,) = sorted((server.home / "outbound").glob("*.ach"))
    filed = nacha.read(path.read_text())
    (batch,) = filed.batches
    assert sorted(e.amount_cents for e in batch.entries) == [3100, 3200, 3300]
    assert nacha.check(path.read_text()).total_debit == 9600
    deadline = time.monotonic() + 20  # NOTE: the server's operations log takes it from the relay
    while "ach.file_handed_off" not in (logged := (server.home / "serve.log").read_text()):
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "ach.file_handed_off" in logged

    first = batch.entries[0]
    returned = nacha.Entry(
        transaction_code=nacha.RETURN_OF[first.transaction_code],
        routing_number=first.routing_number,
        account_number=first.account_number,
        amount_cents=first.amount_cents,
        individual_id=first.individual_id,
        individual_name=first.individual_name,
        trace_number="021000020000001",
        addenda=nacha.Addenda(
            type_code="99",
            reason_code="R03",
            original_trace=first.trace_number,
            original_routing=first.routing_number[:8],
        ),
    )
    returns = server.home / "returns.ach"
    returns.write_text(
        nacha.write(
            nacha.NachaFile(
                destination_routing="011000015",
                origin_id="021000021",
                destination_name="CBP BILL PAY",
                origin_name="ODFI",
                created_at=filed.created_at,
                file_id_modifier="A",
                batches=(
                    nacha.Batch(
                        sec_code="PPD",
                        company_name="CBP BILL PAY",
                        company_id="1234567890",
                        entry_description="RETURN",
                        effective_date=batch.effective_date,
                        odfi="02100002",
                        number=1,
                        entries=(returned,),
                    ),
                ),
            )
        )
    )
    assert server.cli("ach", "read-returns", str(returns)).startswith("1 returned, 0 changed")
    assert server.cli("ach", "read-returns", str(returns)).startswith("0 returned, 0 changed")
    statuses = {p: server.call("GET", f"/payment/{p}").body for p in paid}
    returned_ones = [p for p, body in statuses.items() if body["status"] == "returned"]
    assert len(returned_ones) == 1
    assert statuses[returned_ones[0]]["failure_code"] == "R03"
    exceptions: list[dict[str, Any]] = server.call("GET", "/exception").body["items"]
    assert [e["reason_code"] for e in exceptions if e["payment_id"] == returned_ones[0]] == ["R03"]
