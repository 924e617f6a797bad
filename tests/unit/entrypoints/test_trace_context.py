"""tracestate per W3C Trace Context Level 2: carried whole when valid, dropped whole when not."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from cbp.entrypoints.trace_context import Level2TraceContextPropagator

TRACEPARENT = "00-12345678901234567890123456789012-1234567890123456-00"
ALLOWED_KEY = "abcdefghijklmnopqrstuvwxyz0123456789_-*/"
EVERY_VALUE_CHAR = "".join(
    chr(c) for c in [*range(0x20, 0x2C), *range(0x2D, 0x3D), *range(0x3E, 0x7F)]
)


class Fields:
    """Header fields as a server sees them: repeated fields joined with commas."""

    def __init__(self, *pairs: tuple[str, str]) -> None:
        self.values: dict[str, list[str]] = {}
        for name, value in pairs:
            self.values.setdefault(name.lower(), []).append(value)

    def get(self, carrier: object, key: str) -> list[str] | None:
        return self.values.get(key.lower())

    def keys(self, carrier: object) -> list[str]:
        return list(self.values)


def relay(*tracestates: str, traceparent: str | None = TRACEPARENT) -> tuple[str, dict[str, str]]:
    """What a service forwards after receiving these headers: traceparent and tracestate."""
    propagator = Level2TraceContextPropagator()
    fields = Fields(
        *([("traceparent", traceparent)] if traceparent else []),
        *[("tracestate", value) for value in tracestates],
    )
    context = propagator.extract({}, getter=fields)  # type: ignore[arg-type]
    with trace.get_tracer("test").start_as_current_span("child", context=context):
        carrier: dict[str, str] = {}
        propagator.inject(carrier)
    state = carrier.get("tracestate", "")
    members = dict(m.split("=", 1) for m in state.split(",") if m)
    return carrier.get("traceparent", ""), members


def test_a_valid_tracestate_is_passed_on_in_order_across_fields() -> None:
    _, members = relay("foo=1,bar=2", "rojo=1,congo=2", "baz=3")
    assert list(members.items()) == [
        ("foo", "1"),
        ("bar", "2"),
        ("rojo", "1"),
        ("congo", "2"),
        ("baz", "3"),
    ]


def test_every_allowed_key_and_value_character_survives() -> None:
    for key in (ALLOWED_KEY, ALLOWED_KEY + "@a-z0-9_-*/"):
        _, members = relay(f"{key}={EVERY_VALUE_CHAR}")
        assert members == {key: EVERY_VALUE_CHAR}


@pytest.mark.parametrize(
    "header",
    ["foo=1 \t , \t bar=2, \t baz=3", "foo=1\t \t,\t \tbar=2,\t \tbaz=3", " foo=1,bar=2,baz=3\t"],
)
def test_whitespace_around_members_is_not_part_of_them(header: str) -> None:
    _, members = relay(header)
    assert members == {"foo": "1", "bar": "2", "baz": "3"}


def test_empty_fields_and_members_are_allowed() -> None:
    assert relay("foo=1", "")[1] == {"foo": "1"}
    assert relay("", "foo=1")[1] == {"foo": "1"}
    assert relay("foo=1,,bar=2")[1] == {"foo": "1", "bar": "2"}


@pytest.mark.parametrize(
    "fields",
    [
        ("foo =1",),
        ("FOO=1",),
        ("foo.bar=1",),
        ("@foo=1,bar=2",),
        ("foo=bar=baz",),
        ("foo=,bar=3",),
        ("foo=1", "z" * 257 + "=1"),
        (",".join(f"bar{i:02d}={i:02d}" for i in range(1, 34)),),
    ],
)
def test_any_invalid_member_discards_the_whole_tracestate(fields: tuple[str, ...]) -> None:
    traceparent, members = relay(*fields)
    assert traceparent.split("-")[1] == "12345678901234567890123456789012"
    assert members == {}


@pytest.mark.parametrize(
    ("fields", "kept"),
    [
        (("foo=1", "z" * 256 + "=1"), {"foo": "1", "z" * 256: "1"}),
        (
            ("foo=1", "t" * 241 + "@" + "v" * 14 + "=1"),
            {"foo": "1", "t" * 241 + "@" + "v" * 14: "1"},
        ),
        (("foo=1", "t" * 242 + "@v=1"), {"foo": "1", "t" * 242 + "@v": "1"}),
        (("foo=1", "t@" + "v" * 15 + "=1"), {"foo": "1", "t@" + "v" * 15: "1"}),
        (("9tenant@vendor=1", "foo=1"), {"9tenant@vendor": "1", "foo": "1"}),
        (("foo@=1,bar=2",), {"foo@": "1", "bar": "2"}),
        (("foo@@bar=1,bar=2",), {"foo@@bar": "1", "bar": "2"}),
        (("foo@bar@baz=1,bar=2",), {"foo@bar@baz": "1", "bar": "2"}),
        (
            (",".join(f"bar{i:02d}={i:02d}" for i in range(1, 33)),),
            {f"bar{i:02d}": f"{i:02d}" for i in range(1, 33)},
        ),
    ],
)
def test_keys_the_harness_accepts_and_thirty_two_members_are_kept(
    fields: tuple[str, ...], kept: dict[str, str]
) -> None:
    assert relay(*fields)[1] == kept


@pytest.mark.parametrize(
    "fields", [("foo=1,foo=1",), ("foo=1,foo=2",), ("foo=1", "foo=2"), ("foo=1,bar=2,foo=3",)]
)
def test_a_repeated_key_keeps_its_first_member(fields: tuple[str, ...]) -> None:
    members = relay(*fields)[1]
    assert members["foo"] == "1" and next(iter(members)) == "foo"


def test_a_tracestate_without_a_traceparent_is_dropped() -> None:
    traceparent, members = relay("foo=1,bar=2", traceparent=None)
    assert members == {}
    assert "12345678901234567890123456789012" not in traceparent


@pytest.mark.parametrize(
    ("received", "sent"),
    [("00", "00"), ("01", "01"), ("02", "02"), ("03", "03"), ("ff", "03"), ("09", "01")],
)
def test_the_random_flag_is_passed_on_as_received_and_unknown_flags_are_cleared(
    received: str, sent: str
) -> None:
    """Level 2: continuing a trace keeps its random-trace-id flag; undefined bits go out as 0."""
    propagator = Level2TraceContextPropagator()
    context = propagator.extract({"traceparent": TRACEPARENT[:-2] + received})
    with TracerProvider().get_tracer("test").start_as_current_span("child", context=context):
        carrier: dict[str, str] = {}
        propagator.inject(carrier)
    assert carrier["traceparent"].split("-")[1::2] == ["12345678901234567890123456789012", sent]


def test_a_trace_this_service_starts_says_its_id_is_random() -> None:
    with TracerProvider().get_tracer("test").start_as_current_span("root"):
        carrier: dict[str, str] = {}
        Level2TraceContextPropagator().inject(carrier)
    assert int(carrier["traceparent"].split("-")[3], 16) & 0x02
