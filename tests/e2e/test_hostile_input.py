"""What a fuzzer or an attacker sends, on SQLite and on PostgreSQL with Redis: never a 5xx."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.server import DATABASES, Server, make_world, server_on

#: Few bad keys before an address is limited; requests themselves are not.
LIMITS = {"CBP_AUTH_FAILURE_LIMIT": "5", "CBP_RATE_LIMIT": "1000000"}


@pytest.fixture(scope="module", params=DATABASES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with server_on(request.param, tmp_path_factory.mktemp("hostile-input"), LIMITS) as running:
        yield running


@pytest.fixture(scope="module")
def world(server: Server) -> dict[str, Any]:
    return make_world(server, external_id=f"hostile-{uuid.uuid4().hex[:6]}")


def pay(server: Server, world: dict[str, Any], **fields: Any) -> Any:
    return server.call(
        "POST",
        "/payment/one-time",
        {**world, "amount": "12.00", **fields},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


def code_of(response: Any) -> tuple[int, str]:
    return response.status, (response.body or {}).get("code", "")


def test_json_nested_a_thousand_deep_is_400(server: Server) -> None:
    raw = b"[" * 1000 + b"]" * 1000
    assert server.call("POST", "/customer", raw=raw).status == 400
    deep = b'{"external_id": "x", "name": ' + b"[" * 300 + b"]" * 300 + b"}"
    assert server.call("POST", "/customer", raw=deep).status in (400, 422)


@pytest.mark.parametrize("amount", ["١٢٣", "１２３", "१२३", "12.٣٠", "1e3", " 12", "12."])
def test_only_ascii_digits_make_an_amount(
    server: Server, world: dict[str, Any], amount: str
) -> None:
    assert code_of(pay(server, world, amount=amount)) == (422, "validation_failed")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/payee/global-payee", {"lead_days": False}),
        ("/payment/process", {"due_on": 0}),
        ("/payment/process", {"due_on": "2026-12-01T10:00:00"}),
        ("/customer", {"external_id": 5, "name": "Ada"}),
        ("/customer", {"external_id": "x", "name": ["Ada"]}),
    ],
)
def test_json_types_are_never_coerced(server: Server, path: str, body: dict[str, Any]) -> None:
    key = server.operator_key if path.startswith("/payee/global-payee") else None
    response = server.call("POST", path, body, key=key)
    assert code_of(response) == (422, "validation_failed"), response.body


def test_a_send_on_given_as_a_datetime_is_refused(server: Server, world: dict[str, Any]) -> None:
    assert pay(server, world, send_on="2030-01-02T10:00:00Z").status == 422


@pytest.mark.parametrize("bad", ["a\u0000b", "a\u001bb", "line\nbreak", "a\u0085b", "a\u007fb"])
def test_control_characters_are_refused_everywhere_text_goes(
    server: Server, world: dict[str, Any], bad: str
) -> None:
    for path, body in (
        ("/customer", {"external_id": bad, "name": "Ada"}),
        ("/customer", {"external_id": "ok", "name": bad}),
    ):
        response = server.call("POST", path, body)
        assert code_of(response) == (422, "validation_failed"), (path, response.body)
    assert pay(server, world, memo=bad).status == 422


def test_nul_and_junk_in_paths_and_queries_are_never_a_5xx(server: Server) -> None:
    for path in ("/customer/cus_%00x", "/customer/%00", "/payment/pmt_" + "9" * 300):
        assert server.call("GET", path).status == 404, path
    for path in ("/payment?status=%00", "/payment?customer_id=cus_%00", "/payment?cursor=%00"):
        assert server.call("GET", path).status in (400, 422), path
    response = server.call("GET", "/payee/global-payee/name/a%00b")
    assert response.status == 422


def test_the_widest_value_the_schema_allows_fits_the_database(server: Server) -> None:
    address = {"line1": "1 Main St", "city": "Springfield", "state": "IL", "postal_code": "62701"}
    biller = {"name": "N" * 200, "category": "c" * 100, "address": address}
    created = server.call("POST", "/payee/global-payee", biller, key=server.operator_key)
    assert created.status == 201, created.body
    too_wide = server.call(
        "PATCH",
        f"/payee/global-payee/{created.body['id']}",
        {"category": "c" * 101},
        key=server.operator_key,
    )
    assert too_wide.status == 422


def test_the_routing_number_of_no_bank_is_refused(server: Server, world: dict[str, Any]) -> None:
    response = server.call(
        "POST",
        "/funding-account",
        {
            "customer_id": world["customer_id"],
            "routing_number": "000000000",
            "account_number": "000123456789",
            "account_type": "checking",
            "holder_name": "Ada",
        },
    )
    assert code_of(response) == (422, "invalid_routing_number")


def test_media_types_are_case_insensitive_and_responses_are_not_sniffed(server: Server) -> None:
    response = server.call(
        "POST",
        "/customer",
        raw=b'{"external_id": "case-1", "name": "Ada"}',
        headers={"Content-Type": "APPLICATION/JSON; charset=UTF-8"},
    )
    assert response.status == 201, response.body
    assert response.headers["x-content-type-options"] == "nosniff"


def test_another_currency_is_unsupported(server: Server, world: dict[str, Any]) -> None:
    assert code_of(pay(server, world, currency="EUR")) == (422, "unsupported_currency")


def test_a_name_with_a_slash_is_found_and_an_empty_one_is_asked_for(server: Server) -> None:
    address = {"line1": "1 Main St", "city": "Austin", "state": "TX", "postal_code": "73301"}
    added = server.call(
        "POST",
        "/payee/global-payee",
        {"name": "A/C Heating", "category": "hvac", "address": address},
        key=server.operator_key,
    )
    assert added.status == 201, added.body
    found = server.call("GET", "/payee/global-payee/name?partial_name=A/C")
    assert [b["name"] for b in found.body["items"]] == ["A/C Heating"], found.body
    assert server.call("GET", "/payee/global-payee/name/").status == 422
    assert server.call("GET", "/payee/global-payee/name").status == 422


def test_failed_authentication_is_limited_per_address(server: Server) -> None:
    statuses = [server.call("GET", "/payment", key="key_nope.nope").status for _ in range(8)]
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429, statuses
    assert server.call("GET", "/payment").status == 200  # NOTE: a good key still passes


@pytest.mark.parametrize("limit", ["0", "1000000000", "1" + "0" * 30, "-1", "ten"])
def test_dead_letter_limits_outside_one_to_a_hundred_are_refused(
    server: Server, limit: str
) -> None:
    response = server.call("GET", f"/dead-letter?limit={limit}")
    assert code_of(response) == (422, "invalid_input"), response.body


def test_the_shared_directory_and_the_status_page_belong_to_the_operator(
    server: Server,
) -> None:
    address = {"line1": "1 Main St", "city": "Austin", "state": "TX", "postal_code": "73301"}
    biller = {"name": "Tenant-made Power", "category": "utilities", "address": address}
    assert code_of(server.call("POST", "/payee/global-payee", biller)) == (403, "forbidden")
    assert server.call("GET", "/health/status").status == 403
    operator = server.operator_key
    assert server.call("GET", "/health/status", key=operator).status == 200
    assert server.call("GET", "/payment", key=operator).status == 403  # NOTE: no tenant's data
    assert server.call("GET", "/dead-letter", key=operator).status == 200
