"""A core wired for production: Redis and a real broker, built and closed by the container."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cbp.bootstrap import bootstrap
from cbp.services import commands as c
from cbp.services.dependencies import Dependencies
from cbp.settings import Settings
from tests.brokers import broker_url, remove_queues, unique_prefix


@pytest.mark.parametrize("broker", ["rabbitmq", "redis"])
def test_a_core_on_redis_and_a_real_broker_is_built_synchronously_and_closes(
    broker: str, tmp_path: Path
) -> None:
    redis_url = broker_url("redis")
    prefix = unique_prefix()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/cbp.db",
        broker_url=broker_url(broker),
        cache_url=redis_url,
        rate_limit_url=redis_url,
        breaker_url=redis_url,
        redis_prefix=prefix,
    )
    app = bootstrap(settings)
    try:
        assert isinstance(app.deps, Dependencies)
        cache = app.container.adapters.cache()
        cache.set("greeting", b"hello", ttl_seconds=5)
        assert cache.get("greeting") == b"hello"
        assert app.container.gateways.cache_redis().ping()
        app.container.adapters.broker()
        assert app.container.gateways.dramatiq_broker.initialized
    finally:
        app.close()
        remove_queues(redis_url, prefix, [])
    assert not app.container.gateways.cache_redis.initialized
    assert not app.container.gateways.dramatiq_broker.initialized


def test_a_directory_change_in_one_process_is_searched_at_once_in_another(
    tmp_path: Path,
) -> None:
    """Each process keeps its recent search pages; a change told over Redis clears them all."""
    redis_url = broker_url("redis")
    prefix = unique_prefix()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/cbp.db",
        cache_url=redis_url,
        redis_prefix=prefix,
    )
    first, second = bootstrap(settings), bootstrap(settings)
    try:
        assert first.queries.search_directory("spring").items == []
        assert second.queries.search_directory("spring").items == []  # NOTE: kept by both
        first.handle(
            c.AddGlobalPayee(
                name="Springfield Gas",
                category="utilities",
                address=c.Address(line1="1 Main St", city="X", state="CA", postal_code="94105"),
            )
        )
        deadline = time.monotonic() + 1.0
        while not second.queries.search_directory("spring").items and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [p.name for p in second.queries.search_directory("spring").items] == [
            "Springfield Gas"
        ]
    finally:
        first.close()
        second.close()
        remove_queues(redis_url, prefix, [])
