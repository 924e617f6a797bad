"""The cache, rate limiter and broker contracts on the in-process adapters."""

import time

import pytest

from cbp.adapters.memory.breakers import InMemoryBreakerStore
from cbp.adapters.memory.outside import (
    InMemoryBroker,
    InMemoryCache,
    InMemoryClock,
)
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
