"""Per-request telemetry: a server span continuing the caller's trace, a log line, metrics."""

from __future__ import annotations

import logging
import time
from typing import Any

import falcon
import structlog
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, Status, StatusCode

from cbp.adapters.falcon.metrics import ApiMetrics

logger = logging.getLogger("cbp.api")
tracer = trace.get_tracer("cbp.api")


class _HeaderGetter(Getter[falcon.Request]):
    """Reads propagation headers with ``get_header`` (Falcon upper-cases names)."""

    def get(self, carrier: falcon.Request, key: str) -> list[str] | None:
        value = carrier.get_header(key)
        return None if value is None else [value]

    def keys(self, carrier: falcon.Request) -> list[str]:
        return [name.lower() for name in carrier.headers]


HEADER_GETTER = _HeaderGetter()


def outgoing_context() -> dict[str, str]:
    """The current trace context as headers (``traceparent``, ``baggage``...)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


class Telemetry:
    """Opens a span per request in the caller's trace; logs and counts it when done."""

    def __init__(self, metrics: ApiMetrics) -> None:
        self.metrics = metrics

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Continue the caller's trace (W3C traceparent and baggage) or start one."""
        parent = propagate.extract(req, getter=HEADER_GETTER)
        span = tracer.start_span(
            req.method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": req.method, "url.path": req.path},
        )
        req.context.span = span
        req.context.otel_token = otel_context.attach(trace.set_span_in_context(span, parent))
        req.context.started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=req.context.get("request_id"))

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, succeeded: bool
    ) -> None:
        """End the span, count the request, write one access line."""
        span = req.context.get("span")
        if span is None:
            return
        route = req.uri_template or "unmatched"
        status = int(resp.status_code)
        elapsed = time.perf_counter() - req.context.started
        span.update_name(f"{req.method} {route}")
        span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        self.metrics.observe_request(req.method, route, status, elapsed)
        logger.info(
            "request",
            extra={
                "method": req.method,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )
        span.end()
        otel_context.detach(req.context.otel_token)
        structlog.contextvars.clear_contextvars()
