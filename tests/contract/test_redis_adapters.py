"""The cache and rate-limiter contracts on a real Redis."""

import os
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from cbp.adapters.rate_limits.redis_window import redis_rate_limiter
from cbp.adapters.redis.breakers import RedisBreakerStore
from cbp.adapters.redis.cache import RedisCache
from tests.conftest import require_service
from tests.contract.outside_contract import (
    BreakerStoreContract,
    CacheContract,
    RateLimiterContract,
)

REDIS_URL = os.environ.get("CBP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def client_and_prefix() -> Iterator[tuple[redis.Redis, str]]:
    require_service("Redis", REDIS_URL)
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"cbp-test-{uuid.uuid4().hex[:12]}:"
    yield client, prefix
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.mark.services
class TestRedisCache(CacheContract):
    @pytest.fixture
    def cache_and_clock(self, client_and_prefix):  # type: ignore[no-untyped-def]
        client, prefix = client_and_prefix
        return RedisCache(client, prefix=prefix), time.sleep


@pytest.mark.services
class TestRedisRateLimiter(RateLimiterContract):
    @pytest.fixture
    def limiter_and_clock(self, client_and_prefix):  # type: ignore[no-untyped-def]
        client, prefix = client_and_prefix
        return redis_rate_limiter(client, prefix=prefix), time.sleep

    def test_two_processes_share_one_count(self, client_and_prefix) -> None:  # type: ignore[no-untyped-def]
        client, prefix = client_and_prefix
        first, second = (
            redis_rate_limiter(client, prefix=prefix),
            redis_rate_limiter(redis.Redis.from_url(REDIS_URL), prefix=prefix),
        )
        assert first.hit("shared", limit=2, window_seconds=60).allowed
        assert second.hit("shared", limit=2, window_seconds=60).allowed
        assert not first.hit("shared", limit=2, window_seconds=60).allowed


@pytest.mark.services
class TestRedisBreakerStore(BreakerStoreContract):
    @pytest.fixture
    def store(self, client_and_prefix):  # type: ignore[no-untyped-def]
        client, prefix = client_and_prefix
        return RedisBreakerStore(client, prefix=prefix)

    def test_two_processes_race_for_the_probe_and_one_wins(self, client_and_prefix) -> None:  # type: ignore[no-untyped-def]
        _, prefix = client_and_prefix
        stores = [RedisBreakerStore(redis.Redis.from_url(REDIS_URL), prefix=prefix) for _ in "ab"]
        stores[0].record_failure("p@a", threshold=1, now=1.0)
        assert stores[1].load("p@a").state.value == "open", "the other process sees it open"
        wins = [s.try_probe("p@a", reset_after=1, probe_timeout=30, now=5.0) for s in stores]
        assert sorted(wins) == [False, True]


@pytest.mark.services
def test_a_change_announced_by_one_process_is_heard_by_every_listener_of_its_topic(
    client_and_prefix: tuple[redis.Redis, str],
) -> None:
    from cbp.adapters.redis.broadcast import RedisBroadcast

    client, prefix = client_and_prefix
    heard: list[list[str | None]] = [[], []]
    for ears in heard:
        listener = redis.Redis.from_url(REDIS_URL)
        RedisBroadcast(listener, topic="api-keys:changed", prefix=prefix).listen(ears.append)
    deadline = time.monotonic() + 5
    while not all(heard) and time.monotonic() < deadline:  # NOTE: each starts by forgetting all
        time.sleep(0.01)
    assert heard == [[None], [None]]
    RedisBroadcast(client, topic="api-keys:changed", prefix=prefix).announce("key_revoked")
    deadline = time.monotonic() + 1
    while any(len(ears) < 2 for ears in heard) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert heard == [[None, "key_revoked"], [None, "key_revoked"]]
    RedisBroadcast(client, topic="api-keys:changed", prefix=f"{prefix}x:").announce("key_elsewhere")
    RedisBroadcast(client, topic="directory:changed", prefix=prefix).announce("another topic")
    time.sleep(0.2)
    assert heard == [[None, "key_revoked"], [None, "key_revoked"]]
