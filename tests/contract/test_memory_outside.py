"""The cache, rate limiter and broker contracts on the in-process adapters."""

import threading
import time

import pytest

from cbp.adapters.memory.breakers import InMemoryBreakerStore
from cbp.adapters.memory.broker import InMemoryBroker
from cbp.adapters.memory.cache import InMemoryCache
from cbp.adapters.memory.clock import InMemoryClock
from cbp.adapters.rate_limits import moving_window
from cbp.adapters.rate_limits.moving_window import memory_rate_limiter
from tests.contract.outside_contract import (
    BreakerStoreContract,
    CacheContract,
    RateLimiterContract,
    TransportContract,
)


@pytest.fixture
def clock() -> InMemoryClock:
    return InMemoryClock()


class TestInMemoryCache(CacheContract):
    @pytest.fixture
    def cache_and_clock(self, clock: InMemoryClock):  # type: ignore[no-untyped-def]
        return InMemoryCache(clock), lambda seconds: clock.advance(seconds=seconds)

    def test_the_oldest_entry_makes_room_when_full(self, clock: InMemoryClock) -> None:
        cache = InMemoryCache(clock, max_entries=2)
        for key in ("a", "b", "c"):
            cache.set(key, key.encode(), ttl_seconds=60)
        assert (cache.get("a"), cache.get("c")) == (None, b"c")


class TestMemoryRateLimiter(RateLimiterContract):
    @pytest.fixture
    def limiter_and_clock(self):  # type: ignore[no-untyped-def]
        return memory_rate_limiter(), time.sleep


def test_request_threads_racing_for_one_key_let_exactly_the_limit_through() -> None:
    limiter = memory_rate_limiter()
    allowed: list[bool] = []
    start = threading.Barrier(8)

    def call() -> None:
        start.wait()
        for _ in range(50):
            allowed.append(limiter.hit("shared", limit=100, window_seconds=60).allowed)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(allowed), sum(allowed)) == (400, 100)


def test_keys_whose_calls_all_left_the_window_are_forgotten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(moving_window, "SWEEP_ABOVE_KEYS", 3)
    now = [0.0]
    limiter = moving_window.MemoryRateLimiter(now=lambda: now[0])
    for key in ("a", "b", "c"):
        limiter.hit(key, limit=5, window_seconds=10)
    now[0] = 10.5
    limiter.hit("d", limit=5, window_seconds=10)
    decision = limiter.hit("a", limit=5, window_seconds=10)
    assert (decision.remaining, sorted(limiter._calls)) == (4, ["a", "d"])


class TestInMemoryBroker(TransportContract):
    @pytest.fixture
    def transport_and_receive(self):  # type: ignore[no-untyped-def]
        broker = InMemoryBroker()

        def receive(count: int) -> list[tuple[str, ...]]:
            received: list[tuple[str, ...]] = []
            while broker.queued:
                broker.drain(lambda *ids: received.append(ids))
            return received

        return broker, receive


class TestInMemoryBreakerStore(BreakerStoreContract):
    @pytest.fixture
    def store(self) -> InMemoryBreakerStore:
        return InMemoryBreakerStore()
