"""Per-customer limits over real HTTP: concurrent payments cannot pass a daily limit together."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.e2e.server import DATABASES, Server, business_day_ahead, make_world, server_on


@pytest.fixture(scope="module", params=DATABASES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with server_on(request.param, tmp_path_factory.mktemp("limits")) as running:
        yield running


def demo_tenant(server: Server) -> str:
    return server.cli_run("tenant", "list").stdout.splitlines()[0].split("\t")[0]


def test_concurrent_payments_that_together_pass_the_daily_limit_are_cut_at_it(
    server: Server,
) -> None:
    tenant = demo_tenant(server)
    printed = server.cli(
        "tenant", "set-limits", "--tenant", tenant, "--daily", "100.00", "--per-payment", "50"
    )
    assert printed == f"limits of {tenant}: daily 100.00, per payment 50"
    world = make_world(server, external_id="limited-1")
    send_on = business_day_ahead()  # NOTE: one day for all of them

    def pay(n: int) -> tuple[int, Any]:
        reply = server.call(
            "POST",
            "/payment/one-time",
            {**world, "amount": "15.00", "send_on": send_on},
            headers={"Idempotency-Key": f"limit-{n}"},
        )
        return reply.status, reply.body

    with ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(pool.map(pay, range(12)))
    accepted = [body for status, body in replies if status == 201]
    refused = [body for status, body in replies if status != 201]
    assert len(accepted) == 6, replies  # NOTE: 6 x 15.00 = 90.00; a seventh would be 105.00
    assert {body["type"].rsplit("/", 1)[-1] for body in refused} == {"limit-exceeded"}
    assert all("10.00 USD is left that day" in body["detail"] for body in refused)
    listed = server.call("GET", f"/payment?customer_id={world['customer_id']}&limit=100").body
    assert len(listed["items"]) == 6

    too_big = server.call(
        "POST",
        "/payment/one-time",
        {**world, "amount": "50.01"},
        headers={"Idempotency-Key": "limit-big"},
    )
    assert too_big.status == 422 and "at most 50 USD" in too_big.body["detail"]


def test_limits_given_on_the_command_line_must_be_positive_amounts(server: Server) -> None:
    refused = server.cli_run(
        "tenant", "set-limits", "--tenant", demo_tenant(server), "--daily", "-5", check=False
    )
    assert refused.returncode == 2
    assert "must be a positive amount: '-5'" in refused.stderr
