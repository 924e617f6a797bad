"""W3C Trace Context with ``tracestate`` read as the W3C's own Level 2 test harness reads it.

OpenTelemetry's propagator keeps what it can of a malformed ``tracestate``
and refuses keys its stricter grammar does not know. The W3C harness, which
other tracers are tested against, asks for something else, and this
propagator follows it where the two differ:

- a header with any member that is not a valid key=value, or with more than
  32 members, is discarded whole;
- a key seen again is dropped, and the first member with it kept;
- a key is a lower-case letter or digit and then up to 255 of
  ``a-z 0-9 _ - * / @``: multi-tenant keys (``tenant@system``) may use the
  whole length, and ``foo@`` or ``foo@@bar`` pass as they are.

``traceparent`` is read as OpenTelemetry reads it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import CarrierT, Getter, default_getter
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceState
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

#: The harness's key: 1 to 256 characters, "@" allowed after the first.
_KEY = re.compile(r"[0-9a-z][_0-9a-z\-*/@]{0,255}")
#: 0*255(chr) nblk-chr: printable ASCII but "," and "=", not ending in a space.
_VALUE = re.compile(r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]")
MAX_MEMBERS = 32


class ReceivedTraceState(TraceState):
    """A ``tracestate`` kept exactly as received and checked by ``parse_tracestate``.

    OpenTelemetry's own constructor would drop keys the harness accepts
    (``foo@``, a 256-character multi-tenant key); these members were already
    checked, so they are stored as they are and passed on unchanged.
    """

    def __init__(self, members: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self._dict = dict(members)


def parse_tracestate(fields: Sequence[str] | None) -> TraceState:
    """The ``tracestate`` of one or more header fields, or an empty one if any part is invalid."""
    members: dict[str, str] = {}
    for raw in ",".join(fields or ()).split(","):
        member = raw.strip(" \t")
        if not member:
            continue  # NOTE: empty members (and whole empty fields) are allowed
        key, equals, value = member.partition("=")
        if not equals or not _KEY.fullmatch(key) or not _VALUE.fullmatch(value):
            return TraceState()
        members.setdefault(key, value)  # NOTE: a repeated key: the first one stands
        if len(members) > MAX_MEMBERS:
            return TraceState()
    return ReceivedTraceState(list(members.items()))


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
