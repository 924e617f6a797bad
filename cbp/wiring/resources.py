"""Connections with a lifetime: the database engine, Redis clients and the Dramatiq broker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from cbp.adapters.sql.setup import open_engine
from cbp.settings import Settings

if TYPE_CHECKING:
    import dramatiq
    import redis


def redis_client(url: str) -> Iterator[redis.Redis]:
    """A Redis client with short time-outs, so an outage fails fast; closed at shutdown."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    yield client
    client.close()


def dramatiq_broker(url: str, prefix: str) -> Iterator[dramatiq.Broker]:
    """The Dramatiq broker a URL names (RabbitMQ or Redis), under cbp's namespace."""
    from cbp.adapters.dramatiq.brokers import open_broker

    broker = open_broker(url, namespace=f"{prefix}dramatiq")
    yield broker
    broker.close()


def database_engine(settings: Settings) -> Iterator[Engine]:
    """The SQL engine, migrated on start where the settings say so; disposed at shutdown."""
    engine = open_engine(
        settings.database_url,
        auto_migrate=settings.migrates_on_start,
        pool_size=settings.database_pool_size,
    )
    yield engine
    engine.dispose()
