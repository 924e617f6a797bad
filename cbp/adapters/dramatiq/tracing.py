"""Continues the producer's trace in the worker: one consumer span per message."""

from __future__ import annotations

import threading
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

tracer = trace.get_tracer("cbp.worker")

#: The message options that carry W3C trace context.
TRACE_OPTIONS = ("traceparent", "tracestate", "baggage")


class TraceContext(Middleware):
    """Opens a consumer span in the message's trace around each delivery."""

    def __init__(self) -> None:
        self._local = threading.local()

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        """Extract the trace context sent with the message and enter a span in it."""
        carrier = {k: v for k, v in message.options.items() if k in TRACE_OPTIONS}
        parent = propagate.extract(carrier)
        span = tracer.start_span(
            f"deliver {message.queue_name}",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "dramatiq",
                "messaging.destination": message.queue_name,
            },
        )
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        self._local.entered = (span, token)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        """Close the span (an error if the actor raised)."""
        self._end(exception)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        """Close the span of a message the worker skipped."""
        self._end(None)

    def _end(self, exception: BaseException | None) -> None:
        entered = getattr(self._local, "entered", None)
        if entered is None:
            return
        span, token = entered
        if exception is not None:
            span.set_status(Status(StatusCode.ERROR))
        span.end()
        otel_context.detach(token)
        self._local.entered = None
