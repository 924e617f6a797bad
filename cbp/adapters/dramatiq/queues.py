"""A deployment's queues on the broker, listed and removed (``cbp broker queues|remove``).

Brokers keep queues after every process has stopped. The deliveries table,
not the broker, is the record of what must still be delivered, so removing
the queues loses nothing: the relay sends again whatever was not consumed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Dramatiq's companions of each queue: its delay queue and its dead-letter queue.
_COMPANIONS = ("", ".DQ", ".XQ")


@dataclass(frozen=True)
class QueueState:
    """One queue that exists on the broker, and the messages waiting in it."""

    name: str
    messages: int


def existing_queues(url: str, namespace: str, names: Sequence[str]) -> list[QueueState]:
    """The queues among ``names`` (and their delay and dead-letter queues) the broker holds."""
    candidates = [name + suffix for name in names for suffix in _COMPANIONS]
    if url.startswith("amqp"):
        return _rabbitmq_queues(url, candidates)
    return _redis_queues(url, namespace, candidates)


def remove_queues(url: str, namespace: str, names: Sequence[str]) -> list[QueueState]:
    """Delete those queues from the broker; return what was there."""
    there = existing_queues(url, namespace, names)
    if url.startswith("amqp"):
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(url))
        try:
            channel = connection.channel()
            for queue in there:
                channel.queue_delete(queue.name)
        finally:
            connection.close()
    else:
        import redis

        client = redis.Redis.from_url(url)
        try:
            removed = {queue.name for queue in there}
            acks = [
                key
                for key in client.scan_iter(match=f"{namespace}:__acks__.*")
                if key.decode().rsplit(".", 1)[-1] in removed  # NOTE: ...__acks__.<worker>.<queue>
            ]
            for queue in there:
                client.delete(f"{namespace}:{queue.name}", f"{namespace}:{queue.name}.msgs")
            if acks:
                client.delete(*acks)
        finally:
            client.close()
    return there


def _rabbitmq_queues(url: str, candidates: list[str]) -> list[QueueState]:
    import pika
    from pika.exceptions import ChannelClosedByBroker

    found = []
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        for name in candidates:
            try:
                declared = channel.queue_declare(name, passive=True)
            except ChannelClosedByBroker:  # NOTE: 404, no such queue; the channel is closed
                channel = connection.channel()
                continue
            found.append(QueueState(name, declared.method.message_count))
    finally:
        connection.close()
    return found


def _redis_queues(url: str, namespace: str, candidates: list[str]) -> list[QueueState]:
    import redis

    client = redis.Redis.from_url(url)
    try:
        found = []
        for name in candidates:
            key = f"{namespace}:{name}"
            if client.exists(key, f"{key}.msgs"):
                found.append(QueueState(name, int(client.hlen(f"{key}.msgs"))))
        return found
    finally:
        client.close()
