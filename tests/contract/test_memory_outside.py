"""The cache, rate limiter and broker contracts on the in-memory adapters."""

from collections.abc import Callable

import pytest

from cbp.adapters.memory.outside import (
    InMemoryBroker,
    InMemoryCache,
    InMemoryClock,
    InMemoryRateLimiter,
)
from cbp.ports.messages import Message
from tests.contract.builders import message
from tests.contract.outside_contract import BrokerContract, CacheContract, RateLimiterContract


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


class TestInMemoryRateLimiter(RateLimiterContract):
    @pytest.fixture
    def limiter_and_clock(self, clock: InMemoryClock):  # type: ignore[no-untyped-def]
        return InMemoryRateLimiter(clock), lambda seconds: clock.advance(seconds=seconds)


class TestInMemoryBroker(BrokerContract):
    @pytest.fixture
    def broker_and_drain(self):  # type: ignore[no-untyped-def]
        broker = InMemoryBroker()

        def drain(consume: Callable[[Message], None]) -> None:
            while broker.queued:
                broker.drain(consume)

        return broker, broker, drain

    def test_a_message_that_always_fails_ends_in_dead_letters(self) -> None:
        broker = InMemoryBroker(max_attempts=3)
        poison, fine = message(), message()
        broker.enqueue(poison)
        broker.enqueue(fine)
        handled: list[str] = []

        def consume(m: Message) -> None:
            if m is poison:
                raise ValueError("cannot parse")
            handled.append(m.message_id)

        while broker.queued:
            broker.drain(consume)
        assert handled == [fine.message_id]
        assert [(m.message_id, why) for m, why in broker.dead_letters] == [
            (poison.message_id, "ValueError: cannot parse")
        ]
