"""A deployment's queues are listed and removed on real RabbitMQ and Redis brokers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import dramatiq
import pytest

from cbp.adapters.dramatiq.brokers import DELIVER_ACTOR, open_broker
from cbp.adapters.dramatiq.queues import existing_queues, remove_queues
from cbp.services.routing import broker_queues
from cbp.settings import Settings
from tests.brokers import broker_url, unique_prefix

pytestmark = pytest.mark.services


@pytest.fixture(params=["rabbitmq", "redis"])
def url(request: pytest.FixtureRequest) -> str:
    return broker_url(request.param)


@pytest.fixture
def prefix(url: str) -> Iterator[str]:
    prefix = unique_prefix()
    yield prefix
    for namespace in (prefix, Settings(redis_prefix=prefix).redis_prefix):
        remove_queues(url, f"{namespace}dramatiq", [prefix + q for q in broker_queues()])


def enqueue(url: str, namespace: str, queue: str, count: int) -> None:
    broker = open_broker(url, namespace=namespace)
    try:
        broker.declare_queue(queue)
        for n in range(count):
            message = dramatiq.Message(
                queue_name=queue, actor_name=DELIVER_ACTOR, args=(f"d{n}",), kwargs={}, options={}
            )
            broker.enqueue(message)
    finally:
        broker.close()


def test_the_queues_a_deployment_left_are_listed_then_removed(url: str, prefix: str) -> None:
    namespace = f"{prefix}dramatiq"
    names = [prefix + q for q in broker_queues()]
    assert existing_queues(url, namespace, names) == []
    enqueue(url, namespace, names[0], 3)
    enqueue(url, namespace, names[1], 1)

    listed = {q.name: q.messages for q in existing_queues(url, namespace, names)}
    assert (listed[names[0]], listed[names[1]]) == (3, 1)
    assert set(listed) <= {n + suffix for n in names[:2] for suffix in ("", ".DQ", ".XQ")}

    removed = remove_queues(url, namespace, names)
    assert sum(q.messages for q in removed) == 4
    assert existing_queues(url, namespace, names) == []
    assert remove_queues(url, namespace, names) == []


def test_the_broker_commands_name_what_they_found(url: str, prefix: str) -> None:
    namespace = f"{Settings(redis_prefix=prefix).redis_prefix}dramatiq"  # NOTE: as cbp spells it
    enqueue(url, namespace, prefix + broker_queues()[0], 2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CBP_")} | {
        "CBP_DATABASE_URL": "memory://",
        "CBP_BROKER_URL": url,
        "CBP_QUEUE_PREFIX": prefix,
        "CBP_REDIS_PREFIX": prefix,
    }

    def cbp(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "cbp.entrypoints.cli", "broker", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    listed = cbp("queues")
    assert listed.returncode == 0, listed.stderr
    assert f"{prefix}{broker_queues()[0]}\t2" in listed.stdout.splitlines()
    assert listed.stdout.splitlines()[-1].endswith(", 2 messages")
    removed = cbp("remove")
    assert removed.stdout.startswith("removed ") and "holding 2 messages" in removed.stdout
    assert cbp("queues").stdout.splitlines() == ["0 queues, 0 messages"]
    assert existing_queues(url, namespace, [prefix + q for q in broker_queues()]) == []
    env["CBP_BROKER_URL"] = "memory://"
    refused = cbp("queues")
    assert refused.returncode == 2 and "CBP_BROKER_URL" in refused.stderr
