"""Breakers, bulkheads and retries around outbound calls, on the in-process store."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from cbp.adapters.memory.breakers import InMemoryBreakerStore
from cbp.adapters.resilience.breaker import BreakerSettings, CircuitBreaker
from cbp.adapters.resilience.bulkhead import Bulkhead
from cbp.adapters.resilience.outbound import ResilientDependency, RetrySettings
from cbp.ports.errors import (
    DeliveryRejected,
    DependencyDeferred,
    DependencyTimeout,
    DependencyUnavailable,
)
from cbp.ports.resilience import BreakerState


def dependency(
    instances: list[str],
    *,
    threshold: int = 2,
    reset_after: float = 60.0,
    attempts: int = 3,
    concurrency: int = 64,
    store: InMemoryBreakerStore | None = None,
    changes: list[tuple[str, BreakerState, BreakerState]] | None = None,
) -> ResilientDependency:
    return ResilientDependency(
        "processor",
        endpoints=lambda: instances,
        store=store or InMemoryBreakerStore(),
        breaker=BreakerSettings(failure_threshold=threshold, reset_after_seconds=reset_after),
        bulkhead=Bulkhead(
            "processor", max_concurrent=concurrency, max_waiting=0, wait_timeout_seconds=0
        ),
        retry=RetrySettings(attempts=attempts, base_seconds=0.001, max_seconds=0.002),
        on_change=(lambda *change: changes.append(change)) if changes is not None else None,
    )


def test_calls_through_a_closed_breaker_overlap_in_time() -> None:
    call = dependency(["http://a"])
    all_in_flight = threading.Barrier(32, timeout=10)

    def waits_for_the_other_31(_: str) -> int:
        # NOTE: passes only if all 32 calls are inside the breaker at the same time
        return all_in_flight.wait()

    with ThreadPoolExecutor(32) as pool:
        arrivals = list(
            pool.map(lambda _: call(waits_for_the_other_31, retryable=False), range(32))
        )
    assert sorted(arrivals) == list(range(32)), "the breaker serialised the calls"


def test_a_breaker_opens_after_its_threshold_and_defers_without_calling() -> None:
    changes: list[tuple[str, BreakerState, BreakerState]] = []
    call = dependency(["http://a"], threshold=2, attempts=1, changes=changes)
    calls = 0

    def down(_: str) -> None:
        nonlocal calls
        calls += 1
        raise DependencyUnavailable("processor", "connection refused")

    for _ in range(2):
        with pytest.raises(DependencyUnavailable):
            call(down, retryable=True)
    with pytest.raises(DependencyDeferred) as deferred:
        call(down, retryable=True)
    assert calls == 2, "an open breaker makes no call"
    assert 0 < deferred.value.retry_after <= 60
    assert changes == [("processor@http://a", BreakerState.CLOSED, BreakerState.OPEN)]


def test_an_open_breaker_half_opens_after_its_wait_and_a_good_probe_closes_it() -> None:
    store = InMemoryBreakerStore()
    now = [1000.0]
    breaker = CircuitBreaker(
        "processor@http://a",
        store=store,
        settings=BreakerSettings(failure_threshold=1, reset_after_seconds=30),
        now=lambda: now[0],
    )
    breaker.failed()
    with pytest.raises(DependencyDeferred):
        breaker.admit()
    now[0] += 30
    probe = breaker.admit()
    assert breaker.state().state is BreakerState.HALF_OPEN
    with pytest.raises(DependencyDeferred):
        breaker.admit()  # only one probe at a time
    breaker.succeeded(probe)
    assert breaker.state().state is BreakerState.CLOSED
    breaker.admit()


def test_a_failed_try_moves_to_the_next_instance_and_its_breaker_keeps_it_out() -> None:
    call = dependency(["http://a", "http://b", "http://c"], threshold=1)
    seen: list[str] = []

    def b_is_dead(instance: str) -> str:
        seen.append(instance)
        if instance == "http://b":
            raise DependencyUnavailable("processor", "connection refused")
        return instance

    answers = [call(b_is_dead, retryable=True) for _ in range(9)]
    assert "http://b" not in answers
    assert seen.count("http://b") == 1, "once open, the dead instance is skipped"
    assert {"http://a", "http://c"} <= set(answers)


def test_only_safe_calls_are_retried() -> None:
    call = dependency(["http://a"], threshold=10, attempts=3)
    tries = 0

    def times_out(_: str) -> None:
        nonlocal tries
        tries += 1
        raise DependencyTimeout("processor", "read timed out")

    with pytest.raises(DependencyTimeout):
        call(times_out, retryable=False)
    assert tries == 1
    with pytest.raises(DependencyTimeout):
        call(times_out, retryable=True)
    assert tries == 4


def test_a_refusal_is_an_answer_not_an_outage() -> None:
    call = dependency(["http://a"], threshold=1, attempts=3)
    tries = 0

    def refuses(_: str) -> None:
        nonlocal tries
        tries += 1
        raise DeliveryRejected("sms", "no such number")

    for _ in range(3):
        with pytest.raises(DeliveryRejected):
            call(refuses, retryable=True)
    assert tries == 3, "a 4xx is neither retried nor counted against the breaker"


def test_a_full_bulkhead_turns_callers_away_at_once() -> None:
    bulkhead = Bulkhead("processor", max_concurrent=2, max_waiting=1, wait_timeout_seconds=2)
    release = threading.Event()
    entered = threading.Barrier(3)

    def hold() -> None:
        with bulkhead.slot():
            entered.wait()
            release.wait(30)

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for t in holders:
        t.start()
    entered.wait()
    waited: list[float] = []

    def wait_for_slot() -> None:
        started = time.monotonic()
        with pytest.raises(DependencyDeferred, match="timed out"), bulkhead.slot():
            pass
        waited.append(time.monotonic() - started)

    waiter = threading.Thread(target=wait_for_slot)
    waiter.start()
    while bulkhead.waiting < 1:  # NOTE: the one place to wait is taken
        time.sleep(0.01)
    # NOTE: "full", not "timed out": this caller was refused without waiting for a slot
    with pytest.raises(DependencyDeferred, match="full"), bulkhead.slot():
        pass
    waiter.join()
    release.set()
    for t in holders:
        t.join()
    assert waited[0] >= 2, "the waiter gave up before its time"  # NOTE: a floor, never a ceiling
    with bulkhead.slot():
        assert bulkhead.active == 1
