"""Deliveries over Dramatiq: the sender side and the worker's actor."""

from __future__ import annotations

from collections.abc import Callable

import dramatiq

from cbp.adapters.dramatiq.brokers import DELIVER_ACTOR
from cbp.ports.messages import Delivery, queue_name


class DramatiqDeliveryTransport:
    """Sends each leased delivery, by id, to its subscriber's queue."""

    def __init__(self, broker: dramatiq.Broker, *, prefix: str = "") -> None:
        self.broker = broker
        self.prefix = prefix

    def queue_for(self, delivery: Delivery) -> str:
        """The broker queue of this delivery's subscriber."""
        message = delivery.message
        return self.prefix + queue_name(message.destination, delivery.subscriber, message.kind)

    def send(self, delivery: Delivery) -> None:
        """Enqueue the delivery id; on RabbitMQ this waits for the broker's confirm."""
        self.send_together([delivery])

    def send_together(self, deliveries: list[Delivery]) -> None:
        """Enqueue the ids as one message on their subscriber's queue; the worker runs them all."""
        headers = deliveries[0].message.headers
        self.broker.enqueue(
            dramatiq.Message(
                queue_name=self.queue_for(deliveries[0]),
                actor_name=DELIVER_ACTOR,
                args=tuple(delivery.id for delivery in deliveries),
                kwargs={},
                options={k: v for k, v in (("traceparent", headers.traceparent),) if v is not None},
            )
        )

    def ping(self) -> None:
        """Raise if the broker cannot be reached (for readiness)."""
        kind = type(self.broker).__name__  # NOTE: by name, so the other client is never loaded
        if kind == "RedisBroker":
            self.broker.client.ping()  # type: ignore[attr-defined]
        elif kind == "RabbitmqBroker":
            try:
                self.broker.connection.process_data_events(time_limit=0)  # type: ignore[attr-defined]
            except Exception:
                del self.broker.connection  # type: ignore[attr-defined]  # NOTE: reconnects
                raise


def declare_deliver_actor(
    broker: dramatiq.Broker,
    queues: list[str],
    run: Callable[..., object],
    *,
    time_limit_ms: int,
) -> dramatiq.Actor[..., None]:
    """Declare the actor that runs deliveries, and every queue it is sent on.

    One actor serves all queues: Dramatiq finds a message's actor by name,
    whichever queue brought it. A message names one delivery, or several of
    one subscriber to run together.
    """

    def deliver(*delivery_ids: str) -> None:
        run(*delivery_ids)

    actor: dramatiq.Actor[..., None] = dramatiq.actor(
        actor_name=DELIVER_ACTOR,
        queue_name=queues[0],
        broker=broker,
        time_limit=time_limit_ms,
    )(deliver)
    for queue in queues[1:]:
        broker.declare_queue(queue)
    return actor
