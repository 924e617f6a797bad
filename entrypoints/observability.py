"""Logs as JSON lines and OpenTelemetry traces, set up once per process.

Every module logs through the standard library; this renders those records
with structlog as one JSON object a line, adds the request's context (bound
by the HTTP adapter) and the current trace and span ids, and redacts secrets
and account numbers from field values and messages alike.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagate import set_global_textmap
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from .trace_context import Level2TraceContextPropagator

REDACTED = "[redacted]"
#: Field names whose values never reach a log line.
SENSITIVE_FIELDS = frozenset(
    {
        "account_number",
        "routing_number",
        "authorization",
        "x-api-key",
        "api_key",
        "api_key_secret",
        "encryption_keys",
        "secret",
        "password",
        "token",
    }
)
#: An API key (``key_<id>.<secret>``) anywhere in a message.
_API_KEY = re.compile(r"key_[0-9A-Za-z]+\.[0-9A-Za-z_\-]+")
#: A bare run of 6 to 17 digits: an account or routing number, never an id or amount.
_ACCOUNT_DIGITS = re.compile(r"(?<![\w.\-])\d{6,17}(?![\w.\-])")

EventDict = MutableMapping[str, Any]


def scrub(text: str) -> str:
    """``text`` with API keys and account-like digit runs blanked out."""
    return _ACCOUNT_DIGITS.sub(REDACTED, _API_KEY.sub("key_" + REDACTED, text))


def redact(_: Any, __: str, event: EventDict) -> EventDict:
    """Structlog processor: drop sensitive fields, scrub every string value."""
    for name, value in list(event.items()):
        if name.lower() in SENSITIVE_FIELDS:
            event[name] = REDACTED
        elif isinstance(value, str):
            event[name] = scrub(value)
    return event


def add_trace_ids(_: Any, __: str, event: EventDict) -> EventDict:
    """Structlog processor: the current span's trace_id and span_id, if any."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event


def configure_logging(level: int = logging.INFO) -> None:
    """Send every log record to stderr as one redacted JSON object a line."""
    chain: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        add_trace_ids,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=chain,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # NOTE: pika narrates every step of every connection at INFO; its warnings still show
    logging.getLogger("pika").setLevel(max(level, logging.WARNING))


def configure_tracing(*, service_name: str, otlp_endpoint: str | None) -> None:
    """Install a tracer provider and the W3C propagators (traceparent, tracestate, baggage).

    Spans are exported over OTLP/HTTP only when an endpoint is configured;
    otherwise they still exist, so trace ids reach logs and messages.
    """
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    trace.set_tracer_provider(provider)
    set_global_textmap(
        CompositePropagator([Level2TraceContextPropagator(), W3CBaggagePropagator()])
    )
