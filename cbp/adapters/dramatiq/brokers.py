"""Opening a Dramatiq broker from a URL, with only the middleware cbp relies on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dramatiq
from dramatiq.middleware import AgeLimit, ShutdownNotifications, TimeLimit

from cbp.adapters.dramatiq.tracing import TraceContext

#: The one actor every queue's messages name: it runs a delivery by id.
DELIVER_ACTOR = "cbp.deliver"


def _middleware() -> list[Any]:
    # NOTE: no Retries, Callbacks or Pipelines: retries, back-off and dead
    # letters live in the deliveries table, and a message only names a delivery.
    return [AgeLimit(), TimeLimit(), ShutdownNotifications(), TraceContext()]


def open_broker(url: str, *, namespace: str = "cbp") -> dramatiq.Broker:
    """A broker for ``amqp://``, ``redis://`` or ``stub://`` (in-process).

    RabbitMQ publishes with confirms, so a send returns only once the broker
    has the message; Redis keys live under ``namespace``. Only the named
    broker's client library is imported (pika, or redis).
    """
    scheme = url.split("://", 1)[0]
    if scheme in ("amqp", "amqps"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url, confirm_delivery=True, middleware=_middleware())
    if scheme in ("redis", "rediss"):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(  # type: ignore[no-untyped-call]
            url=url, namespace=namespace, middleware=_middleware()
        )
    if scheme == "stub":
        from dramatiq.brokers.stub import StubBroker

        return StubBroker(middleware=_middleware())
    raise ValueError(f"no Dramatiq broker for {scheme}:// (use amqp://, redis:// or stub://)")


def broker_for_lifetime(url: str, prefix: str) -> Iterator[dramatiq.Broker]:
    """The broker a URL names, under cbp's namespace, closed when done."""
    broker = open_broker(url, namespace=f"{prefix}dramatiq")
    yield broker
    broker.close()
