"""What a fuzzer or an attacker sends, on SQLite and on PostgreSQL with Redis: never a 5xx."""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cbp.ports.pagination import encode_cursor
from tests.e2e.server import DATABASES, Server, business_day_ahead, make_world, server_on

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
    in_path = server.call("GET", "/payee/global-payee/name/A%2fC%20Heat")  # NOTE: on the raw path
    assert [b["name"] for b in in_path.body["items"]] == ["A/C Heating"], in_path.body
    assert server.call("GET", "/payee/global-payee/name/A/C").status == 404
    assert server.call("GET", "/payee/global-payee/name/A%2F%00C").status == 422
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


#: Every listing that pages, by its path (the directory search takes its text in the path).
LISTS = [
    "/payment",
    "/payment/recurring",
    "/payee",
    "/exception",
    "/payee/global-payee/name/pacific",
]


def forged(value: Any) -> str:
    """A cursor as a storage adapter makes one, for a sort key of the forger's choosing."""
    return encode_cursor(value)


CRAFTED_CURSORS = [
    forged([1]),
    forged([{"a": 1}]),
    forged([True, "x"]),
    forged([1.5, "x"]),
    forged(["\u0000", "x"]),
    forged(["2026-01-01", 10**30]),
    forged([[], {}]),
    "v1." + forged(["2026-01-01", "pmt_x"]) + ".AAAAAAAAAAAAAAAAAAAAAA",
    "v2.abc.def",
    "%00",
    "\udc80",
    "x" * 5000,
]


@pytest.mark.parametrize("path", LISTS)
def test_a_cursor_the_api_did_not_make_is_refused_before_any_query(
    server: Server, world: dict[str, Any], path: str
) -> None:
    for cursor in CRAFTED_CURSORS:
        query = urllib.parse.urlencode({"cursor": cursor}, errors="surrogatepass")
        response = server.call("GET", f"{path}?{query}")
        assert code_of(response) == (422, "invalid_input"), (cursor, response.body)


@pytest.mark.parametrize("limit", ["²", "①", "٣", "３", "-1", "1e2", "", " 3", "9" * 40])
def test_only_ascii_digits_make_a_limit(server: Server, limit: str) -> None:
    for path in [*LISTS, "/dead-letter"]:
        query = urllib.parse.urlencode({"limit": limit})
        response = server.call("GET", f"{path}?{query}")
        assert response.status == 422 or (limit == "" and response.status == 200), (path, limit)


def test_a_next_cursor_pages_on_and_a_changed_one_is_refused(
    server: Server, world: dict[str, Any]
) -> None:
    for n in range(3):
        assert pay(server, world, memo=f"page {n}").status == 201
    first = server.call("GET", f"/payment?customer_id={world['customer_id']}&limit=2").body
    cursor = first["next_cursor"]
    assert cursor and cursor.startswith("v1.")
    second = server.call(
        "GET", f"/payment?customer_id={world['customer_id']}&limit=2&cursor={cursor}"
    )
    assert second.status == 200 and second.body["items"], second.body
    assert {p["id"] for p in first["items"]}.isdisjoint(p["id"] for p in second.body["items"])
    version, inner, tag = cursor.split(".")
    changed = ".".join([version, inner[:-1] + ("A" if inner[-1] != "A" else "B"), tag])
    refused = server.call("GET", f"/payment?limit=2&cursor={changed}")
    assert code_of(refused) == (422, "invalid_input")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from([*LISTS, "/dead-letter"]),
    name=st.sampled_from(["cursor", "limit", "status", "customer_id", "partial_name"]),
    value=st.text(max_size=300),
)
def test_any_text_in_any_query_parameter_of_a_list_is_never_a_5xx(
    server: Server, path: str, name: str, value: str
) -> None:
    query = urllib.parse.urlencode({name: value}, errors="surrogatepass")
    response = server.call("GET", f"{path}?{query}")
    assert response.status in (200, 400, 422), (
        name,
        value,
        response.body,
    )


@pytest.mark.parametrize("raw", [b"\x0b", b"\x0c", b" \x0b\n", b"\x1c"])
def test_only_json_white_space_makes_an_empty_body(server: Server, raw: bytes) -> None:
    customer = server.call(
        "POST",
        "/customer",
        {"external_id": f"ws-{uuid.uuid4().hex[:8]}", "name": "W", "email": "w@example.com"},
    ).body
    response = server.call("PATCH", f"/customer/{customer['id']}", raw=raw)
    assert code_of(response)[0] == 400, response.body
    assert server.call("PATCH", f"/customer/{customer['id']}", raw=b" \r\n\t").status == 200


def test_a_key_given_twice_is_400(server: Server) -> None:
    raw = b'{"external_id": "twice", "name": "A", "name": "B", "email": "a@example.com"}'
    response = server.call("POST", "/customer", raw=raw)
    assert response.status == 400 and '"name"' in response.body["detail"], response.body
    nested = b'{"external_id": "twice", "name": "A", "address": {"city": "x", "city": "y"}}'
    assert server.call("POST", "/customer", raw=nested).status == 400


def test_a_customer_with_only_a_phone_can_change_their_choices(server: Server) -> None:
    created = server.call(
        "POST",
        "/customer",
        {"external_id": f"sms-{uuid.uuid4().hex[:8]}", "name": "Bo", "phone": "+15550100"},
    )
    assert created.status == 201, created.body
    path = f"/customer/{created.body['id']}"
    for change in ({}, {"notify_on": ["failed"]}):
        changed = server.call("PATCH", path, change)
        assert changed.status == 200, changed.body
    assert (changed.body["notification_channels"], changed.body["notify_on"]) == (
        ["sms"],
        ["failed"],
    )


def test_a_change_names_a_field_and_no_field_is_null(server: Server, world: dict[str, Any]) -> None:
    payment = pay(server, world, send_on=business_day_ahead(30)).body
    path = f"/payment/{payment['id']}"
    for body in ({}, {"amount": None}, {"memo": None, "amount": "13.00"}):
        response = server.call("PATCH", path, body)
        assert code_of(response) == (422, "validation_failed"), (body, response.body)
    assert server.call("GET", path).body["amount"] == "12.00"
    changed = server.call("PATCH", path, {"amount": "13.00"})
    assert (changed.status, changed.body["amount"]) == (200, "13.00"), changed.body
