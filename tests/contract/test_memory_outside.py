"""The cache, rate limiter and broker contracts on the in-process adapters."""

import threading
import time

import limits.storage
import pytest

from cbp.adapters.memory.breakers import InMemoryBreakerStore
from cbp.adapters.memory.broker import InMemoryBroker
from cbp.adapters.memory.cache import InMemoryCache
from cbp.adapters.memory.clock import InMemoryClock
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


def test_request_threads_never_count_in_the_memory_storage_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its expiry timer is restarted without a lock: two threads inside at once raised."""
    acquire = limits.storage.MemoryStorage.acquire_entry
    inside, overlapped = [0], []
    guard = threading.Lock()

    def slow_acquire(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        with guard:
            inside[0] += 1
            overlapped.append(inside[0] > 1)
        time.sleep(0.002)  # NOTE: long enough for another thread to come in, if it may
        try:
            return acquire(self, *args, **kwargs)
        finally:
            with guard:
                inside[0] -= 1

    monkeypatch.setattr(limits.storage.MemoryStorage, "acquire_entry", slow_acquire)
    limiter = memory_rate_limiter()
    threads = [
        threading.Thread(
            target=lambda n=n: [limiter.hit(f"k{n}", limit=100, window_seconds=1) for _ in range(5)]
        )
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(overlapped) == 40 and not any(overlapped)


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
