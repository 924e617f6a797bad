"""W3C Trace Context with ``tracestate`` read per Level 2: all of it, or none of it.

OpenTelemetry's propagator keeps what it can of a malformed ``tracestate``:
it drops a bad member or a repeated key and passes the rest on. The Level 2
rules ask for more: a header with any member that is not a valid key=value,
a key seen twice, or more than 32 members is discarded whole, and keys may
be multi-tenant (``tenant@system``) within their own length limits. This
propagator reads ``traceparent`` as OpenTelemetry does and ``tracestate``
by those rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import CarrierT, Getter, default_getter
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceState
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_ALLOWED = r"[a-z0-9_\-*/]"
#: simple-key / multi-tenant-key (tenant-id "@" system-id).
_KEY = re.compile(rf"[a-z]{_ALLOWED}{{0,255}}|[a-z0-9]{_ALLOWED}{{0,240}}@[a-z]{_ALLOWED}{{0,13}}")
#: 0*255(chr) nblk-chr: printable ASCII but "," and "=", not ending in a space.
_VALUE = re.compile(r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]")
MAX_MEMBERS = 32


def parse_tracestate(fields: Sequence[str] | None) -> TraceState:
    """The ``tracestate`` of one or more header fields, or an empty one if any part is invalid."""
    members: list[tuple[str, str]] = []
    for raw in ",".join(fields or ()).split(","):
        member = raw.strip(" \t")
        if not member:
            continue  # NOTE: empty members (and whole empty fields) are allowed
        key, equals, value = member.partition("=")
        if not equals or not _KEY.fullmatch(key) or not _VALUE.fullmatch(value):
            return TraceState()
        members.append((key, value))
    keys = {key for key, _ in members}
    if len(members) > MAX_MEMBERS or len(keys) != len(members):
        return TraceState()
    return TraceState(members)


class Level2TraceContextPropagator(TraceContextTextMapPropagator):
    """``traceparent`` as OpenTelemetry reads it; ``tracestate`` whole or not at all."""

    def extract(
        self,
        carrier: CarrierT,
        context: Context | None = None,
        getter: Getter[CarrierT] = default_getter,
    ) -> Context:
        """The caller's span context, carrying its tracestate only if every member is valid."""
        extracted = super().extract(carrier, context, getter)
        parent = trace.get_current_span(extracted).get_span_context()
        if not parent.is_valid or not parent.is_remote:
            return extracted  # NOTE: no valid traceparent: a tracestate alone means nothing
        remote = SpanContext(
            trace_id=parent.trace_id,
            span_id=parent.span_id,
            is_remote=True,
            trace_flags=parent.trace_flags,
            trace_state=parse_tracestate(getter.get(carrier, "tracestate")),
        )
        return trace.set_span_in_context(NonRecordingSpan(remote), context)
