"""Every route of the API, once: the router, the scope check and OpenAPI read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from cbp.adapters.falcon import presenters as out
from cbp.adapters.falcon import schemas as body
from cbp.domain.access import Scope

PAGE = ("limit", "cursor")


@dataclass(frozen=True, kw_only=True)
class Route:
    """One operation: method, path, who may call it, and what goes in and out."""

    method: Literal["GET", "POST", "PATCH"]
    path: str
    resource: str
    suffix: str | None
    scope: Scope | None
    public: bool = False
    summary: str
    tag: str
    response: Any
    status: int = 200
    body: type[BaseModel] | None = None
    query: tuple[str, ...] = ()
    idempotency: Literal["required", "accepted"] | None = None
    content_type: str = "application/json"


def _post(**kwargs: Any) -> Route:
    return Route(method="POST", idempotency=kwargs.pop("idempotency", "accepted"), **kwargs)


ROUTES: tuple[Route, ...] = (
    _post(
        path="/customer",
        resource="customers",
        suffix=None,
        scope=Scope.CUSTOMERS_WRITE,
        summary="Create a customer",
        tag="customers",
        body=body.CustomerIn,
        response=out.CustomerOut,
        status=201,
    ),
    Route(
        method="GET",
        path="/customer/{customer_id}",
        resource="customers",
        suffix="one",
        scope=Scope.CUSTOMERS_READ,
        summary="Get a customer",
        tag="customers",
        response=out.CustomerOut,
    ),
    Route(
        method="GET",
        path="/payee/global-payee/name/{partial_name}",
        resource="directory",
        suffix="search",
        scope=Scope.PAYEES_READ,
        tag="directory",
        summary="Search the biller directory (prefix matches first; ETag, cached)",
        response=out.PageOut[out.GlobalPayeeOut],
        query=PAGE,
    ),
    Route(
        method="GET",
        path="/payee/global-payee/{global_payee_id}",
        resource="directory",
        suffix="one",
        scope=Scope.PAYEES_READ,
        summary="Get a biller",
        tag="directory",
        response=out.GlobalPayeeOut,
    ),
    _post(
        path="/payee/global-payee",
        resource="directory",
        suffix=None,
        scope=Scope.DIRECTORY_ADMIN,
        summary="Add a biller to the directory",
        tag="directory",
        body=body.GlobalPayeeIn,
        response=out.GlobalPayeeOut,
        status=201,
    ),
    Route(
        method="PATCH",
        path="/payee/global-payee/{global_payee_id}",
        resource="directory",
        suffix="one",
        scope=Scope.DIRECTORY_ADMIN,
        summary="Change a biller",
        tag="directory",
        body=body.GlobalPayeePatch,
        response=out.GlobalPayeeOut,
    ),
    _post(
        path="/payee",
        resource="payees",
        suffix=None,
        scope=Scope.PAYEES_WRITE,
        summary="Add a payee (its account is verified in the background)",
        tag="payees",
        body=body.PayeeIn,
        response=out.PayeeOut,
        status=201,
    ),
    Route(
        method="GET",
        path="/payee",
        resource="payees",
        suffix=None,
        scope=Scope.PAYEES_READ,
        summary="List payees",
        tag="payees",
        response=out.PageOut[out.PayeeOut],
        query=("customer_id", *PAGE),
    ),
    Route(
        method="GET",
        path="/payee/{payee_id}",
        resource="payees",
        suffix="one",
        scope=Scope.PAYEES_READ,
        summary="Get a payee",
        tag="payees",
        response=out.PayeeOut,
    ),
    Route(
        method="PATCH",
        path="/payee/{payee_id}",
        resource="payees",
        suffix="one",
        scope=Scope.PAYEES_WRITE,
        summary="Change a payee",
        tag="payees",
        body=body.PayeePatch,
        response=out.PayeeOut,
    ),
    _post(
        path="/funding-account",
        resource="funding",
        suffix=None,
        scope=Scope.PAYEES_WRITE,
        summary="Add a funding account (verified)",
        tag="funding accounts",
        body=body.FundingAccountIn,
        response=out.FundingAccountOut,
        status=201,
    ),
    Route(
        method="GET",
        path="/funding-account/{account_id}",
        resource="funding",
        suffix="one",
        scope=Scope.PAYEES_READ,
        summary="Get a funding account",
        tag="funding accounts",
        response=out.FundingAccountOut,
    ),
    _post(
        path="/payment/one-time",
        resource="payments",
        suffix="one_time",
        scope=Scope.PAYMENTS_WRITE,
        summary="Create a one-time payment",
        tag="payments",
        body=body.PaymentIn,
        response=out.PaymentOut,
        status=201,
        idempotency="required",
    ),
    Route(
        method="GET",
        path="/payment",
        resource="payments",
        suffix=None,
        scope=Scope.PAYMENTS_READ,
        summary="List payments, newest first",
        tag="payments",
        response=out.PageOut[out.PaymentOut],
        query=("customer_id", "status", *PAGE),
    ),
    Route(
        method="GET",
        path="/payment/{payment_id}",
        resource="payments",
        suffix="one",
        scope=Scope.PAYMENTS_READ,
        summary="Get a payment",
        tag="payments",
        response=out.PaymentOut,
    ),
    Route(
        method="GET",
        path="/payment/{payment_id}/events",
        resource="payments",
        suffix="events",
        scope=Scope.PAYMENTS_READ,
        tag="payments",
        summary="A payment's event history (its audit trail)",
        response=out.PageOut[out.EventOut],
    ),
    _post(
        path="/payment/{payment_id}/cancel",
        resource="payments",
        suffix="cancel",
        scope=Scope.PAYMENTS_WRITE,
        summary="Cancel a payment before processing",
        tag="payments",
        body=body.CancelIn,
        response=out.PaymentOut,
    ),
    _post(
        path="/payment/process",
        resource="payments",
        suffix="process",
        scope=Scope.PAYMENTS_WRITE,
        tag="payments",
        summary="Process given payments, or all due on a date (202 with Location)",
        body=body.ProcessIn,
        response=out.JobOut,
        status=202,
    ),
    Route(
        method="GET",
        path="/payment/process/{job_id}",
        resource="payments",
        suffix="job",
        scope=Scope.PAYMENTS_READ,
        summary="A processing job's progress",
        tag="payments",
        response=out.JobOut,
    ),
    Route(
        method="GET",
        path="/exception",
        resource="exceptions",
        suffix=None,
        scope=Scope.EXCEPTIONS_READ,
        summary="List payment exceptions",
        tag="exceptions",
        response=out.PageOut[out.ExceptionOut],
        query=("status", *PAGE),
    ),
    Route(
        method="GET",
        path="/exception/{exception_id}",
        resource="exceptions",
        suffix="one",
        scope=Scope.EXCEPTIONS_READ,
        summary="Get a payment exception",
        tag="exceptions",
        response=out.ExceptionOut,
    ),
    _post(
        path="/exception/{exception_id}/resolve",
        resource="exceptions",
        suffix="resolve",
        scope=Scope.EXCEPTIONS_WRITE,
        summary="Resolve a payment exception",
        tag="exceptions",
        body=body.ResolveIn,
        response=out.ExceptionOut,
    ),
    _post(
        path="/exception/send-customer-notification",
        resource="exceptions",
        suffix="notify",
        scope=Scope.EXCEPTIONS_WRITE,
        tag="exceptions",
        summary="Notify the customer of an exception (delivered in the background)",
        body=body.NotifyIn,
        response=out.NotificationIdsOut,
        status=202,
    ),
    Route(
        method="GET",
        path="/notification/{notification_id}",
        resource="exceptions",
        suffix="notification",
        scope=Scope.EXCEPTIONS_READ,
        tag="exceptions",
        summary="A notification's delivery status",
        response=out.NotificationOut,
    ),
    Route(
        method="GET",
        path="/dead-letter",
        resource="dead_letters",
        suffix=None,
        scope=Scope.MESSAGES_ADMIN,
        summary="The tenant's deliveries that ran out of attempts, oldest first",
        tag="operations",
        response=out.PageOut[out.DeadLetterOut],
        query=("limit",),
    ),
    _post(
        path="/dead-letter/{delivery_id}/retry",
        resource="dead_letters",
        suffix="retry",
        scope=Scope.MESSAGES_ADMIN,
        summary="Give a dead delivery fresh attempts, once its cause is fixed",
        tag="operations",
        response=out.DeadLetterOut,
        status=202,
    ),
    Route(
        method="GET",
        path="/health/live",
        resource="health",
        suffix="live",
        scope=None,
        public=True,
        summary="Liveness",
        tag="health",
        response=out.HealthOut,
        content_type="application/health+json",
    ),
    Route(
        method="GET",
        path="/health/ready",
        resource="health",
        suffix="ready",
        scope=None,
        public=True,
        summary="Readiness of the database, broker and cache (503 naming what fails)",
        tag="health",
        response=out.HealthOut,
        content_type="application/health+json",
    ),
    Route(
        method="GET",
        path="/health/status",
        resource="health",
        suffix="status",
        scope=None,
        summary="Each component's status and this process's resource use (any valid key)",
        tag="health",
        response=out.StatusOut,
        content_type="application/health+json",
    ),
    Route(
        method="GET",
        path="/metrics",
        resource="metrics",
        suffix=None,
        scope=None,
        public=True,
        summary="Prometheus metrics of this process and of the message backlog",
        tag="health",
        response=None,
        content_type="text/plain",
    ),
    Route(
        method="GET",
        path="/openapi.json",
        resource="docs",
        suffix="spec",
        scope=None,
        public=True,
        summary="This document",
        tag="docs",
        response=None,
    ),
    Route(
        method="GET",
        path="/docs",
        resource="docs",
        suffix="page",
        scope=None,
        public=True,
        summary="A browsable page of this document",
        tag="docs",
        response=None,
        content_type="text/html",
    ),
)

#: Static assets of the docs page (served from the installed package).
DOCS_ASSETS = "/docs/assets/{name}"
#: The W3C Trace Context conformance endpoint: off unless a setting turns it on,
#: never documented, exempt from keys and rate limits.
TRACE_CONTEXT_TEST = "/_test/trace-context"
