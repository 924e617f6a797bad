"""The OpenAPI 3.1 document, generated from the route table and its models."""

from __future__ import annotations

import re
from typing import Any

from pydantic.json_schema import models_json_schema

from cbp.adapters.falcon import responses as out
from cbp.adapters.falcon.http import id_pattern
from cbp.adapters.falcon.routes import ROUTES, Route
from cbp.adapters.falcon.schemas import ID_PATTERN, Change
from cbp.domain.bill import BillStatus
from cbp.domain.payment import PaymentStatus
from cbp.domain.payment_exception import ExceptionStatus
from cbp.domain.recurring import ScheduleStatus

API_VERSION = "1.0.0"
REF = "#/components/schemas/{model}"
_PARAMETER = re.compile(r"{(\w+)}")
_TEXT = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "pattern": r"^[^\u0000-\u001f\u007f]+$",
}
_ID = {"type": "string", "maxLength": 40, "pattern": ID_PATTERN}
#: Search text: no control characters, and something besides white space.
_SEARCH = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "pattern": r"^[^\u0000-\u001f\u007f]*[^\s\u0000-\u001f\u007f][^\u0000-\u001f\u007f]*$",
}
_QUERY: dict[str, dict[str, Any]] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    "cursor": {
        "type": "string",
        "maxLength": 500,
        "pattern": r"^[A-Za-z0-9_.=-]*$",
        "description": (
            "Opaque and signed: the next_cursor of the page before, exactly as it was given."
            " Any other value, or one from another deployment, is 422 invalid_input."
        ),
    },
    "customer_id": _ID,
    "payment_id": _ID,
    "payee_id": _ID,
    "send_on": {"type": "string", "format": "date", "description": "YYYY-MM-DD"},
    "due_on": {"type": "string", "format": "date", "description": "YYYY-MM-DD: the bill's"},
    "partial_name": _SEARCH,
}
#: Query parameters an operation cannot do without, by resource (a search's text, a
#: quote's payee); elsewhere the same names filter a listing at will.
_REQUIRED_QUERY = frozenset({("directory", "partial_name"), ("payments", "payee_id")})
#: The statuses each listing filters by.
_STATUSES = {
    "payments": [s.value for s in PaymentStatus],
    "recurring": [s.value for s in ScheduleStatus],
    "exceptions": [s.value for s in ExceptionStatus],
    "bills": [s.value for s in BillStatus],
}


def _query(route: Route, name: str) -> dict[str, Any]:
    if name == "status":
        return {"type": "string", "enum": _STATUSES[route.resource]}
    return _QUERY[name]


def _path_parameter(name: str) -> dict[str, Any]:
    if name.endswith("_id"):
        return {"type": "string", "maxLength": 200, "pattern": id_pattern(name)}
    return _SEARCH if name == "partial_name" else _TEXT


def build_spec(version: str = API_VERSION) -> dict[str, Any]:
    """The whole document; deterministic, so it can be checked in and compared."""
    inputs = {r.body for r in ROUTES if r.body is not None}
    outputs = {r.response for r in ROUTES if r.response is not None} | {out.ProblemOut}
    keyed = sorted(
        [(m, "validation") for m in inputs] + [(m, "serialization") for m in outputs],
        key=lambda pair: (pair[0].__name__, pair[1]),
    )
    refs, defs = models_json_schema(keyed, ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "cbp: Consumer Bill Payment API",
            "version": version,
            "description": (
                "Errors are RFC 9457 problem details with a stable `code`. "
                "Money is a decimal string. Authenticate with `Authorization: Bearer <key>` "
                "or `X-API-Key`; each operation names the scope it needs (`x-scope`)."
            ),
        },
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
        "paths": dict(sorted(paths.items())),
    }


def _operation(route: Route, refs: dict[Any, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": f"{route.method.lower()}_{route.resource}_{route.suffix or 'collection'}",
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": _path_parameter(name),
            }
            for name in _PARAMETER.findall(route.path)
        ]
        + [
            {
                "name": name,
                "in": "query",
                "required": (route.resource, name) in _REQUIRED_QUERY,
                "schema": _query(route, name),
            }
            for name in route.query
        ],
        "responses": _responses(route, refs),
    }
    if route.idempotency:
        operation["parameters"].append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": route.idempotency == "required",
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 255,
                    # NOTE: visible ASCII; HTTP trims the spaces around a header's value
                    "pattern": r"^[!-~](?:[ -~]*[!-~])?$",
                },
            }
        )
    if route.body is not None:
        operation["requestBody"] = {
            "required": any(f.is_required() for f in route.body.model_fields.values())
            or "oneOf" in route.body.model_json_schema()
            or issubclass(route.body, Change),
            "content": {"application/json": {"schema": _ref(refs, route.body, "validation")}},
        }
    if route.public:
        operation["security"] = []
    else:
        operation["security"] = [{"bearer": []}, {"apiKey": []}]
    if route.scope is not None:
        operation["x-scope"] = route.scope.value
    if not operation["parameters"]:
        del operation["parameters"]
    return operation


#: What each creating operation's answer leads to: the operations that take the
#: new resource's id, for clients and stateful testing to follow.
_LINKS: dict[tuple[str, str], tuple[tuple[str, str, str], ...]] = {
    ("POST", "/customer"): (("GetCustomer", "get_customers_one", "customer_id"),),
    ("POST", "/payee"): (
        ("GetPayee", "get_payees_one", "payee_id"),
        ("ChangePayee", "patch_payees_one", "payee_id"),
        ("SetAutopay", "post_autopay_collection", "payee_id"),
        ("GetAutopay", "get_autopay_collection", "payee_id"),
    ),
    ("POST", "/payee/global-payee"): (
        ("GetBiller", "get_directory_one", "global_payee_id"),
        ("ChangeBiller", "patch_directory_one", "global_payee_id"),
    ),
    ("POST", "/funding-account"): (("GetFundingAccount", "get_funding_one", "account_id"),),
    ("POST", "/payment/one-time"): (
        ("GetPayment", "get_payments_one", "payment_id"),
        ("GetPaymentEvents", "get_payments_events", "payment_id"),
        ("CancelPayment", "post_payments_cancel", "payment_id"),
        ("GetPaymentCheck", "get_payments_check", "payment_id"),
    ),
    ("POST", "/bill"): (
        ("GetBill", "get_bills_one", "bill_id"),
        ("GetBillEvents", "get_bills_events", "bill_id"),
        ("CorrectBill", "patch_bills_one", "bill_id"),
        ("WithdrawBill", "post_bills_withdraw", "bill_id"),
    ),
    ("POST", "/payment/recurring"): (
        ("GetRecurringPayment", "get_recurring_one", "schedule_id"),
        ("ChangeRecurringPayment", "patch_recurring_one", "schedule_id"),
        ("SkipNextOccurrence", "post_recurring_skip", "schedule_id"),
    ),
    ("POST", "/payment/process"): (("GetJob", "get_payments_job", "job_id"),),
}


def _links(route: Route) -> dict[str, Any]:
    return {
        name: {"operationId": operation, "parameters": {parameter: "$response.body#/id"}}
        for name, operation, parameter in _LINKS.get((route.method, route.path), ())
    }


def _responses(route: Route, refs: dict[Any, Any]) -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": _ref(refs, out.ProblemOut, "serialization")}}
    success: dict[str, Any] = {"description": route.summary}
    if route.response is not None:
        success["content"] = {
            route.content_type: {"schema": _ref(refs, route.response, "serialization")}
        }
    if links := _links(route):
        success["links"] = links
    responses: dict[str, Any] = {str(route.status): success}
    if route.path == "/health/ready":
        responses["503"] = {"description": "Not ready", "content": success["content"]}
    if route.path.startswith("/payee/global-payee/name/"):
        responses["304"] = {"description": "Not modified (If-None-Match)"}
    if not route.public or route.body is not None:  # NOTE: a signed webhook can still fail
        responses["default"] = {"description": "A problem (RFC 9457)", "content": problem}
    return responses


def _ref(refs: dict[Any, Any], model: Any, mode: str) -> dict[str, Any]:
    return dict(refs[(model, mode)])
