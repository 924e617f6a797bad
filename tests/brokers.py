"""Real brokers for tests: a URL per kind, a prefix per run, and clean-up afterwards."""

from __future__ import annotations

import os
import uuid

from tests.conftest import require_service

RABBITMQ_URL = os.environ.get("CBP_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
REDIS_URL = os.environ.get("CBP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BROKER_URLS = {"rabbitmq": RABBITMQ_URL, "redis": REDIS_URL}


def unique_prefix() -> str:
    """A queue and key prefix no other run shares."""
    return f"cbp-test-{uuid.uuid4().hex[:10]}."


def broker_url(kind: str) -> str:
    """The URL of a reachable broker of this kind (skip, or fail in CI, if none)."""
    return require_service("RabbitMQ" if kind == "rabbitmq" else "Redis", BROKER_URLS[kind])


def remove_queues(url: str, prefix: str, queues: list[str]) -> None:
    """Delete what a run made under ``prefix``: its queues (RabbitMQ) or keys (Redis)."""
    if url.startswith("amqp"):
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = connection.channel()
        for queue in queues:
            for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                channel.queue_delete(prefix + name)
        connection.close()
    else:
        import redis

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
