"""RFC 9457 problem details: every error a client sees, mapped once."""

from __future__ import annotations

import json
import logging
from typing import Any

import falcon
from pydantic import ValidationError

from cbp.domain.errors import DomainError
from cbp.ports.errors import DependencyError

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://cbp.dev/problems/"
logger = logging.getLogger("cbp.api")

#: HTTP status and title for each stable error code.
STATUS: dict[str, tuple[int, str]] = {
    "invalid_input": (422, "The request is not valid"),
    "invalid_money": (422, "The amount is not valid"),
    "unsupported_currency": (422, "The currency is not supported"),
    "currency_mismatch": (422, "Currencies do not match"),
    "invalid_routing_number": (422, "The routing number is not valid"),
    "invalid_account_number": (422, "The account number is not valid"),
    "validation_failed": (422, "The request body does not match the schema"),
    "not_found": (404, "Not found"),
    "already_exists": (409, "Already exists"),
    "illegal_transition": (409, "Not allowed in the current state"),
    "concurrency_conflict": (409, "Changed by another request; retry"),
    "policy_violation": (422, "Refused by the payment policy"),
    "amount_out_of_range": (422, "The amount is outside the allowed range"),
    "limit_exceeded": (422, "The payment would pass the customer's limit"),
    "send_date_not_allowed": (422, "The send-on date is not allowed"),
    "arrives_after_due_date": (422, "The payment would arrive after its due date"),
    "payee_not_payable": (422, "The payee cannot be paid"),
    "funding_account_not_usable": (422, "The funding account cannot be used"),
    "micro_deposits_not_confirmed": (422, "The micro-deposit amounts were not confirmed"),
    "idempotency_key_reused": (422, "Idempotency-Key reused with another request"),
    "idempotency_key_in_flight": (409, "A request with this Idempotency-Key is running"),
    "unauthenticated": (401, "Authentication required"),
    "forbidden": (403, "Forbidden"),
    "dependency_unavailable": (503, "A dependency is unavailable"),
    "dependency_timeout": (503, "A dependency timed out"),
    "internal_error": (500, "Internal server error"),
}


def problem_body(
    *,
    code: str,
    detail: str,
    request_id: str | None,
    status: int | None = None,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The problem document for ``code``."""
    known_status, known_title = STATUS.get(code, (status or 500, title or "Error"))
    body: dict[str, Any] = {
        "type": TYPE_BASE + code.replace("_", "-"),
        "title": title or known_title,
        "status": status or known_status,
        "detail": detail,
        "code": code,
        "request_id": request_id,
    }
    if errors:
        body["errors"] = errors
    return body


def validation_errors(error: ValidationError) -> list[dict[str, Any]]:
    """Each bad field's path and what is wrong with it."""
    return [
        {"loc": [str(part) for part in item["loc"]], "msg": item["msg"]}
        for item in error.errors(include_url=False, include_input=False)
    ]


def problem_for(error: Exception, request_id: str | None) -> dict[str, Any] | None:
    """The problem document for a client-side error, or None for anything else."""
    if isinstance(error, DomainError):
        return problem_body(code=error.code, detail=error.detail, request_id=request_id)
    if isinstance(error, ValidationError):
        errors = validation_errors(error)
        fields = ", ".join(".".join(e["loc"]) or "body" for e in errors)
        return problem_body(
            code="validation_failed",
            detail=f"invalid fields: {fields}",
            request_id=request_id,
            errors=errors,
        )
    return None


def problem(
    req: falcon.Request,
    resp: falcon.Response,
    *,
    code: str,
    detail: str,
    status: int | None = None,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> None:
    """Write a problem+json response for ``code``."""
    write(
        resp,
        problem_body(
            code=code,
            detail=detail,
            request_id=req.context.get("request_id"),
            status=status,
            title=title,
            errors=errors,
        ),
    )


def write(resp: falcon.Response, body: dict[str, Any]) -> None:
    """Send a problem document."""
    resp.status = falcon.code_to_http_status(body["status"])
    resp.content_type = PROBLEM_JSON
    resp.text = json.dumps(body)
    resp.cache_control = ["no-store"]
    if body["status"] == 401:
        resp.set_header("WWW-Authenticate", 'Bearer realm="cbp"')


def on_client_error(req: falcon.Request, resp: falcon.Response, error: Exception, _: Any) -> None:
    """A domain rule or the schema refused the request."""
    body = problem_for(error, req.context.get("request_id"))
    assert body is not None
    write(resp, body)


def on_dependency_error(
    req: falcon.Request, resp: falcon.Response, error: DependencyError, _: Any
) -> None:
    """A dependency failed; the client may retry."""
    resp.set_header("Retry-After", "5")
    problem(req, resp, code=error.code, detail=f"{error.dependency} is unavailable; retry later")


def on_http_error(
    req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError, _: Any
) -> None:
    """Falcon's own errors (404, 405, 413, 415, malformed JSON) as problems."""
    status = error.status_code
    code = {
        400: "bad_request",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        415: "unsupported_media_type",
        429: "rate_limited",
    }.get(status, "http_error")
    if error.headers:
        for name, value in dict(error.headers).items():
            resp.set_header(name, value)
    problem(
        req,
        resp,
        code=code,
        status=status,
        title=error.title,
        detail=error.description or error.title or "error",
    )


def on_unexpected(req: falcon.Request, resp: falcon.Response, error: Exception, _: Any) -> None:
    """Anything else: logged with its trace, answered without it."""
    logger.exception("unhandled error on %s %s", req.method, req.path, exc_info=error)
    problem(req, resp, code="internal_error", detail="an unexpected error occurred")


def install(app: falcon.App[falcon.Request, falcon.Response]) -> None:
    """Register the handlers; the most specific error type wins."""
    app.add_error_handler(Exception, on_unexpected)
    app.add_error_handler(falcon.HTTPError, on_http_error)
    app.add_error_handler(DomainError, on_client_error)
    app.add_error_handler(ValidationError, on_client_error)
    app.add_error_handler(DependencyError, on_dependency_error)
