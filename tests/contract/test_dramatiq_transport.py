"""The delivery transport contract on Dramatiq: in-process, and on real RabbitMQ and Redis."""

from __future__ import annotations

import threading
import time

import dramatiq
import pytest

from cbp.adapters.dramatiq.brokers import open_broker
from cbp.adapters.dramatiq.transport import DramatiqDeliveryTransport, declare_deliver_actor
from cbp.services.routing import broker_queues
from tests.brokers import broker_url, remove_queues, unique_prefix
from tests.contract.outside_contract import TransportContract

QUEUES = broker_queues()


class DramatiqTransportContract(TransportContract):
    url: str

    @pytest.fixture
    def transport_and_receive(self, url: str):  # type: ignore[no-untyped-def]
        prefix = unique_prefix()
        broker = open_broker(url, namespace=prefix + "dramatiq")
        received: list[tuple[str, ...]] = []
        lock = threading.Lock()

        def record(*delivery_ids: str) -> None:
            with lock:
                received.append(delivery_ids)

        declare_deliver_actor(broker, [prefix + q for q in QUEUES], record, time_limit_ms=10_000)
        worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
        worker.start()

        def receive(count: int) -> list[tuple[str, ...]]:
            deadline = time.monotonic() + 20
            while sum(map(len, received)) < count and time.monotonic() < deadline:
                time.sleep(0.05)
            return list(received)

        yield DramatiqDeliveryTransport(broker, prefix=prefix), receive
        worker.stop()
        broker.close()
        if not url.startswith("stub"):
            remove_queues(url, prefix if url.startswith("amqp") else prefix + "dramatiq", QUEUES)


class TestStubTransport(DramatiqTransportContract):
    @pytest.fixture
    def url(self) -> str:
        return "stub://"


@pytest.mark.services
class TestRabbitmqTransport(DramatiqTransportContract):
    @pytest.fixture
    def url(self) -> str:
        return broker_url("rabbitmq")


@pytest.mark.services
class TestRedisTransport(DramatiqTransportContract):
    @pytest.fixture
    def url(self) -> str:
        return broker_url("redis")

    def test_a_ping_fails_when_the_broker_is_gone(self) -> None:
        transport = DramatiqDeliveryTransport(open_broker("redis://127.0.0.1:9/0"))
        with pytest.raises(Exception, match=r"(?i)connect"):
            transport.ping()
