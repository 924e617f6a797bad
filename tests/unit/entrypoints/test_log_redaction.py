"""Log lines are JSON with the request's context, and never carry secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from cbp.entrypoints.observability import REDACTED, configure_logging, scrub

KEY = "key_01J9ZK6X3Q.s3cr3tS3cr3t-_abc"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging(logging.INFO)
    stream = io.StringIO()
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    yield stream
    root.handlers, root.level = saved
    structlog.contextvars.clear_contextvars()


def records(stream: io.StringIO) -> list[dict[str, object]]:
    """The test's own lines (a thread another test left running may log meanwhile)."""
    lines = (json.loads(line) for line in stream.getvalue().splitlines())
    return [line for line in lines if line.get("logger") == "cbp.test"]


def test_account_numbers_and_keys_are_scrubbed_from_messages_and_fields(
    captured: io.StringIO,
) -> None:
    logging.getLogger("cbp.test").warning(
        "paying 4417123456 with %s", KEY, extra={"account_number": "000123456789", "note": KEY}
    )
    (line,) = records(captured)
    text = json.dumps(line)
    assert "4417123456" not in text and "000123456789" not in text and "s3cr3t" not in text
    assert line["account_number"] == REDACTED
    assert line["event"] == f"paying {REDACTED} with key_{REDACTED}"


def test_ids_amounts_and_dates_are_left_alone() -> None:
    text = "pmt_0192f3a412345678 paid 1234567.89 USD on 2026-11-25 (job_7, 3 of 12)"
    assert scrub(text) == text


def test_lines_carry_the_bound_request_context_and_the_current_span(
    captured: io.StringIO,
) -> None:
    structlog.contextvars.bind_contextvars(request_id="req_1", tenant_id="ten_1")
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        logging.getLogger("cbp.test").info("inside")
        expected = span.get_span_context()
    assert trace.get_current_span().get_span_context().is_valid is False
    (line,) = records(captured)
    assert line["request_id"] == "req_1" and line["tenant_id"] == "ten_1"
    assert line["trace_id"] == format(expected.trace_id, "032x")
    assert line["span_id"] == format(expected.span_id, "016x")
    assert line["level"] == "info" and line["logger"] == "cbp.test"
